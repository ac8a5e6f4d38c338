package attach

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attachTracepoint attaches "tracepoint/CATEGORY/NAME" and "tp/CATEGORY/NAME"
// through a tracefs event id and a perf event.
func attachTracepoint(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, _ Options) (*Attachment, error) {
	group, name, ok := strings.Cut(target, "/")
	if !ok || group == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("tracepoint target %q is not CATEGORY/NAME: %w", target, ErrUnsupportedSection)
	}
	if err := ensureTracefs(); err != nil {
		return nil, fmt.Errorf("tracepoint %s: %w", target, err)
	}
	l, err := link.Tracepoint(group, name, prog, nil)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tracepoint %s does not exist on this kernel: %w", target, err)
	}
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s: %w", target, err)
	}
	return &Attachment{Links: []link.Link{l}, Kind: "tracepoint", Target: target}, nil
}
