package attach

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attachIter attaches "iter/TARGET" (task, bpf_map, tcp, ...). Attaching
// runs nothing: each Attachment.Iter.Open + read to EOF runs the program
// once over the kernel objects.
func attachIter(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, _ Options) (*Attachment, error) {
	it, err := link.AttachIter(link.IterOptions{Program: prog})
	if err != nil {
		return nil, fmt.Errorf("iter %s: %w", target, err)
	}
	return &Attachment{Links: []link.Link{it}, Iter: it, Kind: "iter", Target: target}, nil
}
