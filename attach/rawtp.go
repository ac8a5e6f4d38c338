package attach

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attachRawTracepoint attaches "raw_tp/NAME" and "raw_tracepoint/NAME"
// (and their writable ".w" forms) with BPF_RAW_TRACEPOINT_OPEN.
func attachRawTracepoint(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, _ Options) (*Attachment, error) {
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: target, Program: prog})
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("raw tracepoint %s does not exist on this kernel: %w", target, err)
	}
	if err != nil {
		return nil, fmt.Errorf("raw tracepoint %s: %w", target, err)
	}
	return &Attachment{Links: []link.Link{l}, Kind: "raw_tracepoint", Target: target}, nil
}
