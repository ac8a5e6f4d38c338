package declarative

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Options tune Compile.
type Options struct {
	// KernelBTF types raw_tp and tp_btf arguments; nil loads the running
	// kernel's BTF (only when such a probe is used).
	KernelBTF *btf.Spec
	// TracefsRoot is where tracepoint formats are read; default
	// /sys/kernel/tracing, mounted when missing.
	TracefsRoot string
}

// DropsMetric is the counter Compile appends to a declarative config: map
// updates that failed because a map was full, by metric.
const DropsMetric = "declarative_dropped_updates_total"

// dropsMap is the array map behind DropsMetric; index i counts metric i.
const dropsMap = DropsMetric

// IsDeclarative reports whether a config declares its programs (any metric
// has a probe, or start and end probes).
func IsDeclarative(cfg *config.Config) bool {
	for i := range cfg.Metrics.Counters {
		if cfg.Metrics.Counters[i].Declarative() {
			return true
		}
	}
	for i := range cfg.Metrics.Histograms {
		if cfg.Metrics.Histograms[i].Declarative() {
			return true
		}
	}
	return false
}

// metric is one declarative metric being compiled.
type metric struct {
	name      string
	path      string // YAML path, like "metrics.counters.0"
	labels    *[]config.Label
	src       *config.Source
	histogram *config.Histogram
	index     int
}

// Compile builds the BPF collection of a declarative config: per metric a
// hash map named like the metric and a program (two for start/end
// metrics), plus the drops map. It fills in the labels' sizes, paddings and
// default decoders, appends the implicit bucket label of histograms, and
// appends the DropsMetric counter to cfg. Errors are *config.Error values
// naming the YAML line and field.
func Compile(cfg *config.Config, opts Options) (*ebpf.CollectionSpec, error) {
	c := &compiler{cfg: cfg, r: &resolver{opts: opts},
		spec: &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}}}
	// A config compiled before carries the drops counter already.
	counters := cfg.Metrics.Counters[:0:0]
	for _, m := range cfg.Metrics.Counters {
		if m.Name != DropsMetric {
			counters = append(counters, m)
		}
	}
	cfg.Metrics.Counters = counters
	var metrics []metric
	for i := range cfg.Metrics.Counters {
		m := &cfg.Metrics.Counters[i]
		metrics = append(metrics, metric{name: m.Name, path: fmt.Sprintf("metrics.counters.%d", i), labels: &m.Labels, src: &m.Source})
	}
	for i := range cfg.Metrics.Histograms {
		m := &cfg.Metrics.Histograms[i]
		metrics = append(metrics, metric{name: m.Name, path: fmt.Sprintf("metrics.histograms.%d", i), labels: &m.Labels, src: &m.Source, histogram: m})
	}
	names := map[string]string{}
	for i := range metrics {
		m := &metrics[i]
		m.index = i
		names[strconv.Itoa(i)] = m.name
		if !m.src.Declarative() {
			return nil, c.errorf(m.path, "metric %s has no probe: a config without a .bpf.o object must give every metric a probe (or start and end)", m.name)
		}
		if err := c.compileMetric(m); err != nil {
			return nil, err
		}
	}
	c.spec.Maps[dropsMap] = &ebpf.MapSpec{Name: "decl_drops", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: uint32(len(metrics))}
	cfg.Metrics.Counters = append(cfg.Metrics.Counters, config.Counter{
		Name: DropsMetric,
		Help: "Updates of declarative metrics' maps that failed, most likely because the map was full (raise max_entries)",
		Labels: []config.Label{{Name: "metric", Size: 4, Decoders: []config.Decoder{
			{Name: "uint"}, {Name: "static_map", StaticMap: names},
		}}},
	})
	return c.spec, nil
}

type compiler struct {
	cfg  *config.Config
	r    *resolver
	spec *ebpf.CollectionSpec
}

func (c *compiler) errorf(path, format string, args ...any) error {
	return c.cfg.ErrorAt(path, fmt.Errorf(format, args...))
}

// exprErr turns an error from compiling the expression src of field path
// into a config error that quotes the expression where it went wrong.
func (c *compiler) exprErr(path, src string, err error) error {
	var ee *exprError
	if errors.As(err, &ee) && src != "" {
		pos := min(max(ee.pos, 0), len(src))
		return c.errorf(path, "%s (in %q, at %q)", ee.msg, src, src[pos:])
	}
	return c.errorf(path, "%v", err)
}

// progName makes a kernel-acceptable program name from a metric name.
func progName(metric, suffix string) string {
	return strings.NewReplacer(":", "_").Replace(metric) + suffix
}

func (c *compiler) compileMetric(m *metric) error {
	maxEntries := m.src.MaxEntries
	if maxEntries == 0 {
		maxEntries = config.DefaultMaxEntries
	}
	probePath, probeSrc := m.path+".probe", m.src.Probe
	if m.src.Start != nil {
		probePath, probeSrc = m.path+".end.probe", m.src.End.Probe
	}
	p, err := c.r.resolve(probeSrc)
	if err != nil {
		return c.errorf(probePath, "%v", err)
	}
	g := newProg(p, c.r)

	// An end program first matches its start event and computes elapsed.
	if m.src.Start != nil {
		if err := c.startProgram(m, maxEntries); err != nil {
			return err
		}
		keys, err := parseList(m.src.End.Key)
		if err != nil {
			return c.exprErr(m.path+".end.key", m.src.End.Key, err)
		}
		if n, _ := parseList(m.src.Start.Key); len(n) != len(keys) {
			return c.errorf(m.path+".end.key", "end key has %d parts but start key has %d: they must match", len(keys), len(n))
		}
		keyOff, err := g.startKey(keys)
		if err != nil {
			return c.exprErr(m.path+".end.key", m.src.End.Key, err)
		}
		if g.elapsedOff, err = g.alloc(8); err != nil {
			return c.errorf(m.path, "%v", err)
		}
		startMap := m.name + "__start"
		g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(startMap),
			asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, int32(keyOff)),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "exit"),
			asm.LoadMem(asm.R7, asm.R0, 0, asm.DWord),
			asm.FnKtimeGetNs.Call(),
			asm.Sub.Reg(asm.R0, asm.R7),
			asm.StoreMem(asm.RFP, g.elapsedOff, asm.R0, asm.DWord),
			asm.LoadMapPtr(asm.R1, 0).WithReference(startMap),
			asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, int32(keyOff)),
			asm.FnMapDeleteElem.Call())
		if f := m.src.End.Filter; f != "" {
			if err := c.genFilter(g, m.path+".end.filter", f); err != nil {
				return err
			}
		}
	}
	if f := m.src.Filter; f != "" {
		if err := c.genFilter(g, m.path+".filter", f); err != nil {
			return err
		}
	}

	// Labels: lay the key out, with each number at its natural alignment.
	labels := *m.labels
	if m.histogram != nil && len(labels) > 0 && labels[len(labels)-1].Name == "bucket" && labels[len(labels)-1].Value == "" {
		labels = labels[:len(labels)-1] // added by an earlier Compile
	}
	type part struct {
		n   *node
		t   vtype
		off int
	}
	parts := make([]part, len(labels))
	off := 0
	for i := range labels {
		l := &labels[i]
		lpath := fmt.Sprintf("%s.labels.%d", m.path, i)
		n, err := parseExpr(l.Value)
		if err != nil {
			return c.exprErr(lpath+".value", l.Value, err)
		}
		t, err := g.typeOf(n)
		if err == nil && !t.str {
			t, err = g.intType(n)
		}
		if err != nil {
			return c.exprErr(lpath+".value", l.Value, err)
		}
		align := 1
		if t.str {
			if l.Size != 0 {
				t.size = int(l.Size)
			}
		} else {
			if l.Size != 0 {
				if l.Size != 1 && l.Size != 2 && l.Size != 4 && l.Size != 8 {
					return c.errorf(lpath+".size", "label %q holds a number: size must be 1, 2, 4 or 8, not %d", l.Name, l.Size)
				}
				t.size = int(l.Size)
			}
			align = t.size
		}
		off = alignUp(off, align)
		if i > 0 {
			prev := &labels[i-1]
			prev.Padding = uint(off - parts[i-1].off - int(prev.Size))
		}
		parts[i] = part{n: n, t: t, off: off}
		l.Size = uint(t.size)
		l.Padding = 0
		l.Decoders = defaultDecoders(t, l.Decoders)
		off += t.size
	}
	bucketOff := -1
	if m.histogram != nil {
		bucketOff = alignUp(off, 8)
		if len(labels) > 0 {
			labels[len(labels)-1].Padding = uint(bucketOff - parts[len(labels)-1].off - int(labels[len(labels)-1].Size))
		}
		labels = append(labels, config.Label{Name: "bucket", Size: 8, Decoders: []config.Decoder{{Name: "uint"}}})
		off = bucketOff + 8
	}
	*m.labels = labels
	keySize := off
	if keySize == 0 {
		// BPF hash maps need a key, and the collector splits keys by labels.
		return c.errorf(m.path+".labels", "counter %s has no labels: give it at least one (a constant works: value: 0)", m.name)
	}
	keyOff, err := g.alloc(keySize)
	if err != nil {
		return c.errorf(m.path+".labels", "%v", err)
	}
	valOff, err := g.alloc(8)
	if err != nil {
		return c.errorf(m.path+".labels", "%v", err)
	}
	g.zero(keyOff, alignUp(keySize, 8))
	for i, pt := range parts {
		lpath := fmt.Sprintf("%s.labels.%d.value", m.path, i)
		if pt.t.str {
			if err := g.genStr(pt.n, keyOff+int16(pt.off), pt.t.size); err != nil {
				return c.exprErr(lpath, labels[i].Value, err)
			}
			continue
		}
		if _, err := g.genInt(pt.n); err != nil {
			return c.exprErr(lpath, labels[i].Value, err)
		}
		g.emit(asm.StoreMem(asm.RFP, keyOff+int16(pt.off), asm.R0, sizeOf(pt.t.size)))
	}

	// The value: an amount for counters, an observation for histograms.
	valueSrc := m.src.Value
	if valueSrc == "" && m.src.Start != nil && m.histogram != nil {
		valueSrc = "elapsed"
	}
	if valueSrc == "" {
		g.emit(storeImm64(valOff, 1))
	} else {
		n, err := parseExpr(valueSrc)
		if err != nil {
			return c.exprErr(m.path+".value", valueSrc, err)
		}
		if _, err := g.genInt(n); err != nil {
			return c.exprErr(m.path+".value", valueSrc, err)
		}
		g.emit(asm.StoreMem(asm.RFP, valOff, asm.R0, asm.DWord))
	}
	if m.histogram == nil {
		g.mapAdd(m.name, keyOff, valOff, m.index)
	} else {
		if err := c.genBucket(g, m, keyOff, keyOff+int16(bucketOff), valOff); err != nil {
			return err
		}
	}
	c.spec.Maps[m.name] = &ebpf.MapSpec{Name: mapName(m.name), Type: ebpf.Hash, KeySize: uint32(keySize), ValueSize: 8, MaxEntries: uint32(maxEntries)}
	c.addProgram(progName(m.name, ""), p, g.finish())
	return nil
}

// mapName is the kernel's name of a map: at most 15 characters it accepts.
func mapName(s string) string {
	s = strings.NewReplacer(":", "_").Replace(s)
	if len(s) > 15 {
		s = s[:15]
	}
	return s
}

func (c *compiler) addProgram(name string, p *probe, insns asm.Instructions) {
	typ, attachType, attachTo := p.progType()
	c.spec.Programs[name] = &ebpf.ProgramSpec{
		Name:         name,
		Type:         typ,
		AttachType:   attachType,
		AttachTo:     attachTo,
		SectionName:  p.section,
		Instructions: insns,
		License:      "GPL",
	}
}

func (c *compiler) genFilter(g *prog, path, src string) error {
	n, err := parseExpr(src)
	if err != nil {
		return c.exprErr(path, src, err)
	}
	if err := g.filter(n); err != nil {
		return c.exprErr(path, src, err)
	}
	return nil
}

// startKey stores the key expressions as u64s in a new stack buffer.
func (g *prog) startKey(keys []*node) (int16, error) {
	off, err := g.alloc(8 * len(keys))
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		if _, err := g.genInt(k); err != nil {
			return 0, err
		}
		g.emit(asm.StoreMem(asm.RFP, off+int16(8*i), asm.R0, asm.DWord))
	}
	return off, nil
}

// startProgram generates the start side of a latency metric: it stores the
// time by key.
func (c *compiler) startProgram(m *metric, maxEntries int) error {
	p, err := c.r.resolve(m.src.Start.Probe)
	if err != nil {
		return c.errorf(m.path+".start.probe", "%v", err)
	}
	g := newProg(p, c.r)
	if f := m.src.Start.Filter; f != "" {
		if err := c.genFilter(g, m.path+".start.filter", f); err != nil {
			return err
		}
	}
	keys, err := parseList(m.src.Start.Key)
	if err != nil {
		return c.exprErr(m.path+".start.key", m.src.Start.Key, err)
	}
	keyOff, err := g.startKey(keys)
	if err != nil {
		return c.exprErr(m.path+".start.key", m.src.Start.Key, err)
	}
	valOff, err := g.alloc(8)
	if err != nil {
		return c.errorf(m.path, "%v", err)
	}
	startMap := m.name + "__start"
	g.emit(asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.RFP, valOff, asm.R0, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0).WithReference(startMap),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, int32(keyOff)),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, int32(valOff)),
		asm.Mov.Imm(asm.R4, 0), // BPF_ANY
		asm.FnMapUpdateElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"))
	g.countDrop(m.index)
	c.spec.Maps[startMap] = &ebpf.MapSpec{Name: mapName("s_" + m.name), Type: ebpf.Hash, KeySize: uint32(8 * len(keys)), ValueSize: 8, MaxEntries: uint32(maxEntries)}
	c.addProgram(progName(m.name, "__start"), p, g.finish())
	return nil
}

// genBucket computes the bucket key of the observation at valOff into the
// key at bucketOff, counts it, then adds the observation to the sum key.
func (c *compiler) genBucket(g *prog, m *metric, keyOff, bucketOff, valOff int16) error {
	h := m.histogram
	obsOff, err := g.alloc(8)
	if err != nil {
		return c.errorf(m.path, "%v", err)
	}
	g.emit(asm.LoadMem(asm.R0, asm.RFP, valOff, asm.DWord), asm.StoreMem(asm.RFP, obsOff, asm.R0, asm.DWord))
	var sumKey uint64
	clamp := func(max uint64) {
		ok := g.newLabel()
		g.emit(asm.LoadImm(asm.R2, int64(max), asm.DWord), asm.JLE.Reg(asm.R1, asm.R2, ok), asm.Mov.Reg(asm.R1, asm.R2))
		g.label(ok)
	}
	switch h.BucketType {
	case config.BucketExp2, config.BucketExp2Zero:
		// R1 = smallest k with v <= 2^k: 0 for v <= 1, else log2(v-1)+1.
		done := g.newLabel()
		g.emit(asm.Mov.Imm(asm.R1, 0))
		if h.BucketType == config.BucketExp2Zero {
			g.emit(asm.JEq.Imm(asm.R0, 0, done), asm.Mov.Imm(asm.R1, 1))
		}
		g.emit(asm.JLE.Imm(asm.R0, 1, done), asm.Sub.Imm(asm.R0, 1))
		for _, shift := range []int32{32, 16, 8, 4, 2, 1} {
			skip := g.newLabel()
			g.emit(asm.Mov.Reg(asm.R3, asm.R0), asm.RSh.Imm(asm.R3, shift), asm.JEq.Imm(asm.R3, 0, skip),
				asm.Mov.Reg(asm.R0, asm.R3), asm.Add.Imm(asm.R1, shift))
			g.label(skip)
		}
		g.emit(asm.Add.Imm(asm.R1, 1))
		g.label(done)
		clamp(uint64(h.BucketMax))
		sumKey = uint64(h.BucketMax) + 1
	case config.BucketLinear:
		g.emit(asm.Mov.Reg(asm.R1, asm.R0))
		clamp(uint64(h.BucketMax))
		sumKey = uint64(h.BucketMax) + 1
	case config.BucketFixed:
		done := g.newLabel()
		var last uint64
		for j, k := range h.BucketKeys {
			if k < 0 || k != math.Trunc(k) || k >= 1<<63 {
				return c.errorf(fmt.Sprintf("%s.bucket_keys.%d", m.path, j), "a declarative histogram's bucket_keys must be whole numbers of the value's unit (scale with bucket_multiplier)")
			}
			last = uint64(k)
			g.emit(asm.LoadImm(asm.R1, int64(last), asm.DWord), asm.JLE.Reg(asm.R0, asm.R1, done))
		}
		// Above the last key: a key past the sum key counts in +Inf only.
		g.emit(asm.LoadImm(asm.R1, int64(last+2), asm.DWord))
		g.label(done)
		sumKey = last + 1
	default:
		return c.errorf(m.path+".bucket_type", "bucket_type %q is not supported for declarative histograms", h.BucketType)
	}
	g.emit(asm.StoreMem(asm.RFP, bucketOff, asm.R1, asm.DWord), storeImm64(valOff, 1))
	g.mapAdd(m.name, keyOff, valOff, m.index)
	// The sum key adds the observation itself.
	g.emit(asm.LoadImm(asm.R1, int64(sumKey), asm.DWord), asm.StoreMem(asm.RFP, bucketOff, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, obsOff, asm.DWord), asm.StoreMem(asm.RFP, valOff, asm.R1, asm.DWord))
	g.mapAdd(m.name, keyOff, valOff, m.index)
	return nil
}

// defaultDecoders puts uint (numbers) or string/hex (arrays) in front of
// decoders that expect a decimal number, or alone when there are none.
func defaultDecoders(t vtype, given []config.Decoder) []config.Decoder {
	first := ""
	if len(given) > 0 {
		first = given[0].Name
	}
	if t.str {
		if len(given) == 0 {
			if t.char {
				return []config.Decoder{{Name: "string"}}
			}
			return []config.Decoder{{Name: "hex"}}
		}
		return given
	}
	switch first {
	case "", "btf_enum", "cgroup", "errno", "pci_class", "pci_device", "pci_subclass", "pci_vendor", "syscall", "static_map", "regexp":
		return append([]config.Decoder{{Name: "uint"}}, given...)
	}
	return given
}

func alignUp(n, a int) int {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// Dump lists a generated collection: its maps, then each program's
// section and instructions, for --config.check --debug.
func Dump(spec *ebpf.CollectionSpec) string {
	var b strings.Builder
	names := make([]string, 0, len(spec.Maps))
	for n := range spec.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := spec.Maps[n]
		fmt.Fprintf(&b, "map %s: %s, key %d bytes, value %d bytes, max_entries %d\n", n, m.Type, m.KeySize, m.ValueSize, m.MaxEntries)
	}
	names = names[:0]
	for n := range spec.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := spec.Programs[n]
		fmt.Fprintf(&b, "program %s (%s, %s, %d instructions):\n%v", n, p.SectionName, p.Type, len(p.Instructions), p.Instructions)
	}
	return b.String()
}
