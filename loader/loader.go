// Package loader loads the BPF object of a config into the kernel and
// attaches its programs, one by one, so that a program the kernel refuses
// does not take the others down.
package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/attach"
	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Options are shared by every load.
type Options struct {
	// Cache is the kernel BTF cache shared by all loads.
	Cache *btf.Cache
	// KernelTypes, when set, replaces the running kernel's BTF for CO-RE
	// relocations (--btf.path on kernels without /sys/kernel/btf/vmlinux).
	KernelTypes *btf.Spec
	// Kallsyms resolves kernel symbol names for a config's kaddrs.
	Kallsyms func(name string) (uint64, error)
	Logger   *slog.Logger
}

// Program is the state of one program of a config.
type Program struct {
	Name    string
	Section string
	// Program is nil when loading failed.
	Program *ebpf.Program
	// Attachment is nil when attaching failed.
	Attachment *attach.Attachment
	// Err is why the program is not attached, or nil.
	Err error
	// ID and Tag identify the loaded program in the kernel (bpftool prog).
	ID  uint32
	Tag string
	// Maps are the names of the maps the program's code refers to.
	Maps map[string]bool
}

// Attached reports whether the program runs.
func (p *Program) Attached() bool { return p.Attachment != nil }

// Loaded is a config whose object is in the kernel.
type Loaded struct {
	Config   *config.Config
	Spec     *ebpf.CollectionSpec
	Maps     map[string]*ebpf.Map
	Programs []*Program

	cgroups *cgroupIDMap
	// usdt holds the USDT argument specs of the config's usdt/ programs.
	usdt *attach.USDTSpecs
}

// Load parses the object, creates its maps, then loads and attaches each
// program on its own. It fails only when the object or its maps are unusable;
// a program's failure is recorded in its Program.Err.
func Load(cfg *config.Config, objectPath string, object io.ReaderAt, opts Options) (*Loaded, error) {
	obj, err := readLibbpfObject(object)
	if err != nil {
		return nil, fmt.Errorf("config %s: object %s is not a usable BPF ELF object: %w", cfg.Name, objectPath, err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(obj.object)
	if err != nil {
		return nil, fmt.Errorf("config %s: object %s is not a usable BPF ELF object: %w", cfg.Name, objectPath, err)
	}
	obj.makeHiddenFuncsStatic(spec)
	if err := obj.resolveBPFCookieKconfig(spec); err != nil {
		return nil, fmt.Errorf("config %s: object %s: %w", cfg.Name, objectPath, err)
	}
	return LoadSpec(cfg, objectPath, spec, opts)
}

// LoadSpec is Load for a collection spec already in memory, such as one
// generated from a declarative config. origin names it in errors.
func LoadSpec(cfg *config.Config, origin string, spec *ebpf.CollectionSpec, opts Options) (*Loaded, error) {
	objectPath := origin
	if err := CheckMetricMaps(cfg, spec); err != nil {
		return nil, fmt.Errorf("config %s: object %s: %w", cfg.Name, objectPath, err)
	}
	if err := setKaddrs(cfg, spec, opts.Kallsyms); err != nil {
		return nil, fmt.Errorf("config %s: %w", cfg.Name, err)
	}

	collOpts := ebpf.CollectionOptions{
		Cache:    opts.Cache,
		Programs: ebpf.ProgramOptions{KernelTypes: opts.KernelTypes},
	}

	mapSpec := spec.Copy()
	mapSpec.Programs = nil
	maps, err := ebpf.NewCollectionWithOptions(mapSpec, collOpts)
	if err != nil {
		return nil, fmt.Errorf("config %s: creating maps of %s: %w", cfg.Name, objectPath, err)
	}
	l := &Loaded{Config: cfg, Spec: spec, Maps: maps.Maps}
	maps.Maps = nil
	maps.Close()
	if cfg.CgroupIDMap != nil {
		if l.cgroups, err = startCgroupIDMap(cfg, l.Maps, opts.Logger); err != nil {
			l.Close()
			return nil, fmt.Errorf("config %s: %w", cfg.Name, err)
		}
	}

	groups, err := alternativeGroups(cfg, spec)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("config %s: %w", cfg.Name, err)
	}
	collOpts.MapReplacements = l.Maps
	for _, group := range groups {
		for _, p := range l.loadFirst(spec, group, collOpts, opts.Logger) {
			if p.Err != nil && opts.Logger != nil {
				opts.Logger.Error("program not attached", "config", cfg.Name, "program", p.Name, "section", p.Section, "err", p.Err)
			}
			l.Programs = append(l.Programs, p)
		}
	}
	return l, nil
}

// alternativeGroups returns the object's programs in groups: the config's
// program_alternatives, then one group for each other program, by name.
func alternativeGroups(cfg *config.Config, spec *ebpf.CollectionSpec) ([][]string, error) {
	grouped := map[string]bool{}
	var groups [][]string
	for i, group := range cfg.ProgramAlternatives {
		for _, name := range group {
			if _, ok := spec.Programs[name]; !ok {
				return nil, fmt.Errorf("program_alternatives.%d: the object has no program %s", i, name)
			}
			grouped[name] = true
		}
		groups = append(groups, group)
	}
	var singles []string
	for name := range spec.Programs {
		if !grouped[name] {
			singles = append(singles, name)
		}
	}
	sort.Strings(singles)
	for _, name := range singles {
		groups = append(groups, []string{name})
	}
	return groups, nil
}

// loadFirst loads the programs of a group of alternatives in order until one
// attaches, and returns it. When none attaches, it returns them all, each
// with its reason.
func (l *Loaded) loadFirst(spec *ebpf.CollectionSpec, group []string, opts ebpf.CollectionOptions, logger *slog.Logger) []*Program {
	var failed []*Program
	for _, name := range group {
		p := l.loadProgram(spec, name, opts)
		if p.Err == nil {
			for _, f := range failed {
				if f.Program != nil {
					_ = f.Program.Close() // loaded, but could not attach
				}
				if logger != nil {
					logger.Info("alternative program not used", "config", l.Config.Name, "program", f.Name, "section", f.Section, "reason", f.Err, "using", p.Name)
				}
			}
			return []*Program{p}
		}
		failed = append(failed, p)
	}
	return failed
}

func (l *Loaded) loadProgram(spec *ebpf.CollectionSpec, name string, opts ebpf.CollectionOptions) *Program {
	ps := spec.Programs[name]
	p := &Program{Name: name, Section: ps.SectionName, Maps: map[string]bool{}}
	for _, ins := range ps.Instructions {
		if ref := ins.Reference(); ref != "" {
			if _, ok := spec.Maps[ref]; ok {
				p.Maps[ref] = true
			}
		}
	}
	one := spec.Copy()
	one.Programs = map[string]*ebpf.ProgramSpec{name: ps}
	coll, err := ebpf.NewCollectionWithOptions(one, opts)
	if err != nil {
		p.Err = fmt.Errorf("loading program %s (section %s): %w", name, ps.SectionName, verifierTail(attach.LoadError(ps, err)))
		return p
	}
	prog := coll.Programs[name]
	delete(coll.Programs, name)
	coll.Close()
	p.Program = prog
	if info, err := prog.Info(); err == nil {
		if id, ok := info.ID(); ok {
			p.ID = uint32(id)
		}
		p.Tag = info.Tag
	}
	var attOpts attach.Options
	if p.Maps[attach.USDTSpecsMap] && strings.HasPrefix(ps.SectionName, "usdt") {
		if attOpts.USDTSpecs, err = l.usdtSpecs(spec); err != nil {
			p.Err = fmt.Errorf("program %s (section %s) reads USDT arguments: %w", name, ps.SectionName, err)
			return p
		}
	}
	att, err := attach.Program(prog, ps, attOpts)
	if err != nil {
		p.Err = err
		return p
	}
	p.Attachment = att
	return p
}

// usdtSpecs returns the writer of the config's USDT spec map, made on first
// use.
func (l *Loaded) usdtSpecs(spec *ebpf.CollectionSpec) (*attach.USDTSpecs, error) {
	if l.usdt != nil {
		return l.usdt, nil
	}
	if !haveBPFCookie() {
		return nil, errors.New("libbpf's BPF_USDT() finds a probe site's arguments by its BPF cookie, which this kernel lacks (Linux 5.15+)")
	}
	m, ms := l.Maps[attach.USDTSpecsMap], spec.Maps[attach.USDTSpecsMap]
	if m == nil || ms == nil {
		return nil, fmt.Errorf("the object has no map %s", attach.USDTSpecsMap)
	}
	specs, err := attach.NewUSDTSpecs(m, ms.Value)
	if err != nil {
		return nil, err
	}
	l.usdt = specs
	return specs, nil
}

// verifierTail shortens a verifier error to the last lines of its log, which
// say why the program was refused.
func verifierTail(err error) error {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || len(ve.Log) == 0 {
		return err
	}
	log := ve.Log
	if len(log) > 12 {
		log = log[len(log)-12:]
	}
	return fmt.Errorf("%w; verifier log tail:\n\t%s", ve.Cause, strings.Join(log, "\n\t"))
}

// setKaddrs writes the addresses of the config's kaddrs symbols into the
// object's kaddr_SYMBOL variables, as the reference exporter does.
func setKaddrs(cfg *config.Config, spec *ebpf.CollectionSpec, lookup func(string) (uint64, error)) error {
	for _, sym := range cfg.Kaddrs {
		v, ok := spec.Variables["kaddr_"+sym]
		if !ok {
			return fmt.Errorf("kaddrs: object has no variable kaddr_%s for symbol %s", sym, sym)
		}
		if lookup == nil {
			return fmt.Errorf("kaddrs: no kernel symbol lookup for %s", sym)
		}
		addr, err := lookup(sym)
		if err != nil {
			return fmt.Errorf("kaddrs: %s: %w", sym, err)
		}
		if err := v.Set(addr); err != nil {
			return fmt.Errorf("kaddrs: setting kaddr_%s: %w", sym, err)
		}
	}
	return nil
}

// CheckMetricMaps checks that every metric of cfg has a map of its name in
// the object, with a key the size of its labels and a u64 (or u32) value.
func CheckMetricMaps(cfg *config.Config, spec *ebpf.CollectionSpec) error {
	// check checks the map of a metric; values > 0 for a counter with
	// values, whose map value is one u64 per value.
	check := func(name string, labels []config.Label, values int) error {
		m, ok := spec.Maps[name]
		if !ok {
			return fmt.Errorf("metric %s: the object has no map named %s", name, name)
		}
		if want := config.KeySize(labels); uint32(want) != m.KeySize {
			return fmt.Errorf("metric %s: map key size is %d bytes but the labels' sizes and paddings add up to %d", name, m.KeySize, want)
		}
		switch {
		case values > 0 && m.ValueSize != uint32(8*values):
			return fmt.Errorf("metric %s: map value size is %d bytes; its %d values want %d (one u64 each)", name, m.ValueSize, values, 8*values)
		case values == 0 && m.ValueSize != 8 && m.ValueSize != 4:
			return fmt.Errorf("metric %s: map value size is %d bytes; want 8 (u64) or 4 (u32)", name, m.ValueSize)
		}
		return nil
	}
	for _, c := range cfg.Metrics.Counters {
		if c.PerfEventArray {
			m, ok := spec.Maps[c.Name]
			if !ok {
				return fmt.Errorf("metric %s: the object has no map named %s", c.Name, c.Name)
			}
			if m.Type != ebpf.PerfEventArray {
				return fmt.Errorf("metric %s: perf_event_array is set but map %s is a %s, not a PerfEventArray", c.Name, c.Name, m.Type)
			}
			continue
		}
		if err := check(c.Name, c.Labels, len(c.Values)); err != nil {
			return err
		}
	}
	for _, h := range cfg.Metrics.Histograms {
		if err := check(h.Name, h.Labels, 0); err != nil {
			return err
		}
	}
	return nil
}

// Close detaches every program and releases programs and maps.
func (l *Loaded) Close() error {
	if l.cgroups != nil {
		l.cgroups.close()
	}
	var errs []error
	for _, p := range l.Programs {
		if p.Attachment != nil {
			errs = append(errs, p.Attachment.Close())
		}
		if p.Program != nil {
			errs = append(errs, p.Program.Close())
		}
	}
	for _, m := range l.Maps {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// ReadObject is a helper for callers holding the object in memory.
func ReadObject(b []byte) io.ReaderAt { return bytes.NewReader(b) }
