package attach

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// ErrUnsupportedSection is wrapped by the error Program returns for a
// section name it cannot attach: an unknown kind, or a known kind whose
// section does not name its target (bare "kprobe", "xdp", "perf_event", ...).
var ErrUnsupportedSection = errors.New("unsupported section")

// Attachment is what attaching one program created.
type Attachment struct {
	// Links holds everything to close, in creation order.
	Links []link.Link
	// Iter is non-nil for iter/ programs: the loader drains it at scrape
	// time (Iter.Open + read to EOF) to run the program.
	Iter *link.Iter
	// Kind names the attachment kind: "tracepoint", "raw_tracepoint",
	// "tp_btf", "fentry", "fexit", "kprobe", "kretprobe", "uprobe",
	// "uretprobe", "usdt", "perf_event", "xdp" or "iter".
	Kind string
	// Target is a human-readable target, e.g. "syscalls/sys_enter_getpid",
	// "/bin/bash:readline", "lo" or "cpu-clock on 2 CPUs".
	Target string

	// closers are extra resources (perf event fds) closed after Links.
	closers []func() error
}

// Close closes all links and the resources behind them. It returns every
// error joined; closing twice is harmless.
func (a *Attachment) Close() error {
	if a == nil {
		return nil
	}
	var errs []error
	for i := len(a.Links) - 1; i >= 0; i-- {
		if err := a.Links[i].Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s link %d: %w", a.Kind, i, err))
		}
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", a.Kind, err))
		}
	}
	a.Links, a.closers, a.Iter = nil, nil, nil
	return errors.Join(errs...)
}

// Options tune how programs attach. The zero value attaches like libbpf.
type Options struct {
	// XDPFlags, when non-zero, forces one XDP mode (link.XDPGenericMode,
	// link.XDPDriverMode, link.XDPOffloadMode) instead of trying driver
	// mode and falling back to generic mode.
	XDPFlags link.XDPAttachFlags
	// PID restricts uprobes and USDT probes to one process; 0 means all.
	PID int
	// USDTSpecs, for a usdt/ program that reads its arguments with
	// libbpf's BPF_USDT(), receives the argument spec of each probe site.
	USDTSpecs *USDTSpecs
}

// attacher attaches prog to the target that follows the section prefix.
type attacher func(prog *ebpf.Program, spec *ebpf.ProgramSpec, target string, opts Options) (*Attachment, error)

// kinds maps libbpf section prefixes (up to and including the '/') to
// attachers. No prefix is a prefix of another, so order does not matter.
var kinds = []struct {
	prefix string
	attach attacher
}{
	{"tracepoint/", attachTracepoint},
	{"tp/", attachTracepoint},
	{"raw_tracepoint.w/", attachRawTracepoint},
	{"raw_tracepoint/", attachRawTracepoint},
	{"raw_tp.w/", attachRawTracepoint},
	{"raw_tp/", attachRawTracepoint},
	{"tp_btf/", attachTracing("tp_btf")},
	{"fentry.s/", attachTracing("fentry")},
	{"fentry/", attachTracing("fentry")},
	{"fexit.s/", attachTracing("fexit")},
	{"fexit/", attachTracing("fexit")},
	{"fmod_ret.s/", attachTracing("fmod_ret")},
	{"fmod_ret/", attachTracing("fmod_ret")},
	{"kprobe/", attachKprobe(false)},
	{"kretprobe/", attachKprobe(true)},
	{"uprobe.s/", attachUprobe(false)},
	{"uprobe/", attachUprobe(false)},
	{"uretprobe.s/", attachUprobe(true)},
	{"uretprobe/", attachUprobe(true)},
	{"usdt/", attachUSDT},
	{"perf_event/", attachPerfEvent},
	{"xdp.frags/", attachXDP},
	{"xdp/", attachXDP},
	{"iter.s/", attachIter},
	{"iter/", attachIter},
}

// bare lists sections libbpf knows but cannot attach without a target, and
// the syntax that names one.
var bare = map[string]string{
	"tracepoint":     "tracepoint/CATEGORY/NAME",
	"tp":             "tp/CATEGORY/NAME",
	"raw_tracepoint": "raw_tracepoint/NAME",
	"raw_tp":         "raw_tp/NAME",
	"kprobe":         "kprobe/SYMBOL[+OFFSET]",
	"kretprobe":      "kretprobe/SYMBOL",
	"uprobe":         "uprobe/BINARY:SYMBOL[+OFFSET]",
	"uretprobe":      "uretprobe/BINARY:SYMBOL[+OFFSET]",
	"usdt":           "usdt/BINARY:PROVIDER:NAME",
	"perf_event":     "perf_event/type=T,config=C,frequency=F",
	"xdp":            "xdp/IFNAME",
	"xdp.frags":      "xdp.frags/IFNAME",
}

// Program attaches prog according to spec.SectionName, named as libbpf
// names sections (see the package documentation for the syntax).
//
// The error names the section and the kernel's reason and wraps the
// underlying error; for sections it does not know it wraps
// ErrUnsupportedSection. On error nothing stays attached.
func Program(prog *ebpf.Program, spec *ebpf.ProgramSpec, opts Options) (*Attachment, error) {
	if prog == nil || spec == nil {
		return nil, errors.New("attach: program and spec must not be nil")
	}
	section := spec.SectionName

	if syntax, ok := bare[section]; ok {
		kind, what := strings.TrimSuffix(section, ".frags"), "target"
		if kind == "xdp" {
			what = "interface"
		}
		return nil, fmt.Errorf("section %q: %s program needs its %s in the section: %s: %w",
			section, kind, what, syntax, ErrUnsupportedSection)
	}

	for _, k := range kinds {
		target, ok := strings.CutPrefix(section, k.prefix)
		if !ok {
			continue
		}
		if target == "" {
			return nil, fmt.Errorf("section %q: empty target after %q: %w", section, k.prefix, ErrUnsupportedSection)
		}
		a, err := k.attach(prog, spec, target, opts)
		if err != nil {
			return nil, fmt.Errorf("section %q: %w", section, err)
		}
		return a, nil
	}

	return nil, fmt.Errorf("section %q: %w", section, ErrUnsupportedSection)
}

// closeAll closes links after a failed attach; the attach error matters
// more than any close error, so those are dropped.
func closeAll(links []link.Link) {
	for _, l := range links {
		_ = l.Close()
	}
}
