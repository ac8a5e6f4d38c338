package attach_test

import (
	"fmt"
	"io"

	"github.com/cilium/ebpf"

	"github.com/ebpf-exporter/ebpf_exporter/attach"
)

// Attach every program of a collection, run iterators at scrape time and
// close everything at the end.
func Example() {
	spec, err := ebpf.LoadCollectionSpec("testdata/counters.bpf.o")
	if err != nil {
		panic(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		panic(err)
	}
	defer coll.Close()

	for name, prog := range coll.Programs {
		a, err := attach.Program(prog, spec.Programs[name], attach.Options{})
		if err != nil {
			fmt.Println(name, err) // names the section and the kernel's reason
			continue
		}
		defer a.Close()
		if a.Iter != nil {
			r, err := a.Iter.Open()
			if err == nil {
				_, _ = io.Copy(io.Discard, r)
				r.Close()
			}
		}
	}
}
