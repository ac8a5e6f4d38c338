package attach

import (
	"errors"
	"fmt"
	"strings"

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
			return nil, fmt.Errorf("%s %s: %s: %w", kind, target, lockdownReason, err)
		default:
			return nil, fmt.Errorf("%s %s: %w", kind, target, err)
		}
	}
}

const lockdownReason = "kernel lockdown forbids fentry/fexit"

// LoadError explains an error from loading the program of spec (for
// example from ebpf.NewCollection) where this package knows the reason:
// kernels in lockdown refuse fentry/fexit/fmod_ret programs with EPERM
// already at load time, before Program could attach them. Other errors
// come back unchanged.
func LoadError(spec *ebpf.ProgramSpec, err error) error {
	if err == nil || spec == nil || !errors.Is(err, unix.EPERM) {
		return err
	}
	for _, prefix := range []string{"fentry", "fexit", "fmod_ret"} {
		if strings.HasPrefix(spec.SectionName, prefix+"/") || strings.HasPrefix(spec.SectionName, prefix+".s/") {
			return fmt.Errorf("section %q: %s: %w", spec.SectionName, lockdownReason, err)
		}
	}
	return err
}
