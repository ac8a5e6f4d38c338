package test

import (
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestObjectsHaveNoForwardDeclarations keeps the committed test objects
// reproducible: clang orders BTF forward declarations by memory address, so
// an object with one rebuilds differently in another checkout, and CI's
// regenerate-and-compare step fails. Programs use small ___flavor CO-RE
// structs instead of vmlinux.h's (as builtin's TestNoForwardDeclarations
// checks for the built-ins).
func TestObjectsHaveNoForwardDeclarations(t *testing.T) {
	objs, err := filepath.Glob("testdata/*.bpf.o")
	if err != nil || len(objs) == 0 {
		t.Fatalf("no test objects: %v", err)
	}
	for _, obj := range objs {
		spec, err := btf.LoadSpec(obj)
		if err != nil {
			t.Errorf("%s: %v", obj, err)
			continue
		}
		for typ, err := range spec.All() {
			if err != nil {
				t.Fatalf("%s: %v", obj, err)
			}
			if fwd, ok := typ.(*btf.Fwd); ok {
				t.Errorf("%s: BTF forward declaration %q; use a minimal ___flavor struct instead", obj, fwd.Name)
			}
		}
	}
}
