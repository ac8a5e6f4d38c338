package attach

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// kprobeTarget is libbpf's "%m[a-zA-Z0-9_.]+%li": a symbol and an optional
// offset in C integer syntax.
var kprobeTarget = regexp.MustCompile(`^([a-zA-Z0-9_.]+)(?:\+(0[xX][0-9a-fA-F]+|[0-9]+))?$`)

// ErrNoKprobes is wrapped when the kernel has neither the kprobe PMU nor
// tracefs kprobe_events, typically because CONFIG_KPROBES is off.
var ErrNoKprobes = errors.New("kernel has no kprobe support (CONFIG_KPROBES off)")

// attachKprobe returns the attacher for "kprobe/SYMBOL[+OFFSET]" and
// "kretprobe/SYMBOL".
func attachKprobe(ret bool) attacher {
	kind := "kprobe"
	if ret {
		kind = "kretprobe"
	}
	return func(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, _ Options) (*Attachment, error) {
		m := kprobeTarget.FindStringSubmatch(target)
		if m == nil {
			return nil, fmt.Errorf("%s target %q is not SYMBOL[+OFFSET]: %w", kind, target, ErrUnsupportedSection)
		}
		symbol := m[1]
		var offset uint64
		if m[2] != "" {
			if ret {
				return nil, fmt.Errorf("kretprobe %s: kretprobes take no offset: %w", target, ErrUnsupportedSection)
			}
			var err error
			if offset, err = strconv.ParseUint(m[2], 0, 64); err != nil {
				return nil, fmt.Errorf("kprobe %s: offset: %w", target, err)
			}
		}

		// cilium/ebpf falls back to tracefs when the kprobe PMU is missing;
		// mount it first. A failure only matters if the PMU is missing too.
		_ = ensureTracefs()
		if !haveKprobes() {
			return nil, fmt.Errorf("%s %s: %w", kind, target, ErrNoKprobes)
		}

		opts := &link.KprobeOptions{Offset: offset}
		var l link.Link
		var err error
		if ret {
			l, err = link.Kretprobe(symbol, prog, opts)
		} else {
			l, err = link.Kprobe(symbol, prog, opts)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: kernel symbol %s does not exist or cannot be probed: %w", kind, target, symbol, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, target, err)
		}
		return &Attachment{Links: []link.Link{l}, Kind: kind, Target: target}, nil
	}
}

// haveKprobes reports whether the kprobe PMU or a tracefs kprobe_events
// file exists.
func haveKprobes() bool {
	for _, p := range []string{
		"/sys/bus/event_source/devices/kprobe",
		tracefsDir + "/kprobe_events",
		debugfsDir + "/tracing/kprobe_events",
	} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
