package declarative

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// Probe kinds.
const (
	kindTracepoint = "tracepoint"
	kindRawTP      = "raw_tp"
	kindTPBTF      = "tp_btf"
	kindUprobe     = "uprobe"
	kindUretprobe  = "uretprobe"
	kindKprobe     = "kprobe"
	kindKretprobe  = "kretprobe"
	kindPerfEvent  = "perf_event"
)

// probe is a parsed probe with the arguments its programs can read.
type probe struct {
	kind    string
	target  string // "syscalls/sys_enter_getpid", "sched_switch", "/bin/x:func", perf_event spec
	section string
	// fields of a tracepoint, from tracefs.
	fields []tpField
	// args of a raw_tp or tp_btf: the tracepoint's arguments after __data.
	args []btfArg
}

// tpField is one field of a tracepoint's format file.
type tpField struct {
	name    string
	typ     string // C type as tracefs prints it
	offset  int
	size    int
	signed  bool
	array   bool // char x[N], u8 x[N]
	char    bool // element type is char
	dataLoc bool // __data_loc char[] x
	pointer bool
}

// btfArg is one argument of a BTF-typed tracepoint.
type btfArg struct {
	name string
	typ  btf.Type
}

var probeAliases = []struct{ prefix, kind string }{
	{"tracepoint/", kindTracepoint}, {"tp/", kindTracepoint}, {"tracepoint:", kindTracepoint}, {"t:", kindTracepoint},
	{"raw_tp/", kindRawTP}, {"raw_tracepoint/", kindRawTP}, {"rawtracepoint:", kindRawTP},
	{"tp_btf/", kindTPBTF},
	{"uprobe/", kindUprobe}, {"uprobe:", kindUprobe}, {"u:", kindUprobe},
	{"uretprobe/", kindUretprobe}, {"uretprobe:", kindUretprobe}, {"ur:", kindUretprobe},
	{"kprobe/", kindKprobe}, {"kprobe:", kindKprobe}, {"k:", kindKprobe},
	{"kretprobe/", kindKretprobe}, {"kretprobe:", kindKretprobe}, {"kr:", kindKretprobe},
	{"perf_event/", kindPerfEvent}, {"software:", kindPerfEvent}, {"s:", kindPerfEvent}, {"profile:", kindPerfEvent},
}

// softwareEvents are the perf software event names bpftrace knows.
var softwareEvents = map[string]int{
	"cpu-clock": 0, "cpu": 0, "task-clock": 1, "page-faults": 2, "faults": 2,
	"context-switches": 3, "cs": 3, "cpu-migrations": 4, "minor-faults": 5,
	"major-faults": 6, "alignment-faults": 7, "emulation-faults": 8, "dummy": 9,
}

// resolver holds what probes are resolved against.
type resolver struct {
	opts   Options
	kernel *btf.Spec
	cache  map[string]*probe
}

func (r *resolver) kernelBTF() (*btf.Spec, error) {
	if r.kernel != nil {
		return r.kernel, nil
	}
	if r.opts.KernelBTF != nil {
		r.kernel = r.opts.KernelBTF
		return r.kernel, nil
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("loading kernel BTF: %w", err)
	}
	r.kernel = spec
	return spec, nil
}

// resolve parses a probe and reads its argument types.
func (r *resolver) resolve(s string) (*probe, error) {
	s = strings.TrimSpace(s)
	if p, ok := r.cache[s]; ok {
		return p, nil
	}
	p := &probe{}
	orig := s
	for _, a := range probeAliases {
		if rest, ok := strings.CutPrefix(s, a.prefix); ok {
			p.kind, p.target = a.kind, rest
			s = a.prefix
			break
		}
	}
	if p.kind == "" {
		return nil, fmt.Errorf("unknown probe %q: want tracepoint/CATEGORY/NAME, raw_tp/NAME, tp_btf/NAME, uprobe/BINARY:SYMBOL, uretprobe/BINARY:SYMBOL, kprobe/SYMBOL, kretprobe/SYMBOL, software:EVENT:PERIOD, profile:hz:RATE or perf_event/type=T,config=C,frequency=F", orig)
	}
	if p.target == "" {
		return nil, fmt.Errorf("probe %q names no target", orig)
	}
	var err error
	switch p.kind {
	case kindTracepoint:
		cat, name, ok := strings.Cut(strings.Replace(p.target, ":", "/", 1), "/")
		if !ok || cat == "" || name == "" {
			return nil, fmt.Errorf("tracepoint %q: want CATEGORY/NAME, like syscalls/sys_enter_write", p.target)
		}
		p.target = cat + "/" + name
		p.section = "tracepoint/" + p.target
		p.fields, err = r.tracepointFields(cat, name)
	case kindRawTP, kindTPBTF:
		p.section = p.kind + "/" + p.target
		p.args, err = r.btfArgs(p.target)
	case kindUprobe, kindUretprobe:
		bin, sym, ok := strings.Cut(p.target, ":")
		if !ok || bin == "" || sym == "" {
			return nil, fmt.Errorf("%s %q: want BINARY:SYMBOL", p.kind, p.target)
		}
		p.section = p.kind + "/" + p.target
	case kindKprobe, kindKretprobe:
		p.section = p.kind + "/" + p.target
	case kindPerfEvent:
		switch {
		case strings.HasPrefix(s, "perf_event/"):
			p.section = "perf_event/" + p.target
		case s == "profile:":
			rate, ok := strings.CutPrefix(p.target, "hz:")
			if _, err := strconv.ParseUint(rate, 10, 32); !ok || err != nil {
				return nil, fmt.Errorf("profile probe %q: want profile:hz:RATE", orig)
			}
			p.section = "perf_event/type=1,config=0,frequency=" + rate
		default:
			name, period, _ := strings.Cut(p.target, ":")
			cfg, ok := softwareEvents[name]
			if !ok {
				names := make([]string, 0, len(softwareEvents))
				for n := range softwareEvents {
					names = append(names, n)
				}
				sort.Strings(names)
				return nil, fmt.Errorf("unknown software event %q (known: %s)", name, strings.Join(names, ", "))
			}
			if period == "" {
				period = "1"
			}
			if n, err := strconv.ParseUint(period, 10, 64); err != nil || n == 0 {
				return nil, fmt.Errorf("software event %q: the period %q must be a positive number", orig, period)
			}
			p.section = fmt.Sprintf("perf_event/type=1,config=%d,sample_period=%s", cfg, period)
		}
	}
	if err != nil {
		return nil, err
	}
	if r.cache == nil {
		r.cache = map[string]*probe{}
	}
	r.cache[orig] = p
	return p, nil
}

// progType is the BPF program type of the probe's programs.
func (p *probe) progType() (ebpf.ProgramType, ebpf.AttachType, string) {
	switch p.kind {
	case kindTracepoint:
		return ebpf.TracePoint, ebpf.AttachNone, ""
	case kindRawTP:
		return ebpf.RawTracepoint, ebpf.AttachNone, ""
	case kindTPBTF:
		return ebpf.Tracing, ebpf.AttachTraceRawTp, p.target
	case kindPerfEvent:
		return ebpf.PerfEvent, ebpf.AttachNone, ""
	}
	return ebpf.Kprobe, ebpf.AttachNone, ""
}

func (r *resolver) tracefsRoot() string {
	if r.opts.TracefsRoot != "" {
		return r.opts.TracefsRoot
	}
	return "/sys/kernel/tracing"
}

// tracepointFields reads a tracepoint's format file, mounting tracefs at the
// default root when it is missing.
func (r *resolver) tracepointFields(cat, name string) ([]tpField, error) {
	root := r.tracefsRoot()
	path := filepath.Join(root, "events", cat, name, "format")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && r.opts.TracefsRoot == "" {
		if _, serr := os.Stat(filepath.Join(root, "events")); serr != nil {
			if merr := unix.Mount("tracefs", root, "tracefs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); merr == nil {
				f, err = os.Open(path)
			}
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(filepath.Join(root, "events", cat)); serr != nil {
				return nil, fmt.Errorf("tracepoint %s/%s does not exist: no category %q in %s/events", cat, name, cat, root)
			}
			return nil, fmt.Errorf("tracepoint %s/%s does not exist on this kernel (see %s/events/%s/)", cat, name, root, cat)
		}
		return nil, fmt.Errorf("tracepoint %s/%s: %w", cat, name, err)
	}
	defer f.Close()
	return parseFormat(f, cat+"/"+name)
}

var formatRE = regexp.MustCompile(`^\s*field:(.+);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);`)
var arrayRE = regexp.MustCompile(`^(.*?)\s*\[(\d*)\]$`)

func parseFormat(f *os.File, what string) ([]tpField, error) {
	var out []tpField
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := formatRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		decl := strings.TrimSpace(m[1])
		fd := tpField{}
		fd.offset, _ = strconv.Atoi(m[2])
		fd.size, _ = strconv.Atoi(m[3])
		fd.signed = m[4] == "1"
		if rest, ok := strings.CutPrefix(decl, "__data_loc "); ok {
			fd.dataLoc = true
			decl = rest
		}
		// The name is the last identifier, possibly followed by [N].
		nameStart := len(decl)
		body := decl
		if am := arrayRE.FindStringSubmatch(decl); am != nil {
			body = am[1]
			fd.array = !fd.dataLoc
		}
		nameStart = strings.LastIndexAny(body, " *") + 1
		fd.name = body[nameStart:]
		fd.typ = strings.TrimSpace(body[:nameStart])
		if fd.dataLoc {
			// "__data_loc char[] name": the type is before the name.
			fd.typ = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(fd.typ), "[]"))
		}
		fd.pointer = strings.Contains(fd.typ, "*")
		fd.char = strings.HasSuffix(strings.TrimPrefix(fd.typ, "const "), "char") && !fd.pointer
		out = append(out, fd)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tracepoint %s: reading format: %w", what, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tracepoint %s: format file lists no fields", what)
	}
	return out, nil
}

// btfArgs finds a BTF-typed tracepoint's arguments: names from
// __bpf_trace_NAME (or __probestub_NAME), types from btf_trace_NAME.
func (r *resolver) btfArgs(name string) ([]btfArg, error) {
	spec, err := r.kernelBTF()
	if err != nil {
		return nil, err
	}
	var td *btf.Typedef
	if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
		return nil, fmt.Errorf("raw tracepoint %s does not exist in kernel BTF (no btf_trace_%s): %w", name, name, err)
	}
	ptr, ok := td.Type.(*btf.Pointer)
	if !ok {
		return nil, fmt.Errorf("raw tracepoint %s: btf_trace_%s is not a function pointer", name, name)
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok || len(proto.Params) == 0 {
		return nil, fmt.Errorf("raw tracepoint %s: btf_trace_%s is not a function pointer", name, name)
	}
	params := proto.Params
	for _, fn := range []string{"__bpf_trace_" + name, "__probestub_" + name} {
		var f *btf.Func
		if spec.TypeByName(fn, &f) == nil {
			if fp, ok := f.Type.(*btf.FuncProto); ok && len(fp.Params) == len(params) {
				params = fp.Params
				break
			}
		}
	}
	var out []btfArg
	for i, p := range params[1:] {
		n := p.Name
		if n == "" {
			n = fmt.Sprintf("arg%d", i)
		}
		out = append(out, btfArg{name: n, typ: p.Type})
	}
	return out, nil
}

// fieldNames lists the fields a probe offers, for errors.
func (p *probe) fieldNames() string {
	var names []string
	for _, f := range p.fields {
		if !strings.HasPrefix(f.name, "common_") {
			names = append(names, f.name)
		}
	}
	for _, a := range p.args {
		names = append(names, a.name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
