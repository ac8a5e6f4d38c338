package attach

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attachTracing returns the attacher for BTF-typed programs: "tp_btf/NAME",
// "fentry/FUNC", "fexit/FUNC" and "fmod_ret/FUNC". The target was resolved
// to a BTF id when the program was loaded; attaching only creates the link.
func attachTracing(kind string) attacher {
	return func(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, _ Options) (*Attachment, error) {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		switch {
		case err == nil:
			return &Attachment{Links: []link.Link{l}, Kind: kind, Target: target}, nil
		case kind != "tp_btf" && errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("%s %s: kernel lockdown forbids fentry/fexit: %w", kind, target, err)
		default:
			return nil, fmt.Errorf("%s %s: %w", kind, target, err)
		}
	}
}
