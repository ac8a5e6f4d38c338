package declarative

import (
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

// load compiles and loads a config file, failing the test on any problem.
func load(t *testing.T, path string) *loader.Loaded {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to load BPF programs")
	}
	cfg, err := config.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Compile(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Log(Dump(spec))
	}
	l, err := loader.LoadSpec(cfg, "generated", spec, loader.Options{Cache: btf.NewCache()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for _, p := range l.Programs {
		if p.Err != nil {
			t.Fatalf("program %s: %v", p.Name, p.Err)
		}
	}
	return l
}

func TestLoadProcs(t *testing.T) {
	load(t, "testdata/procs.yaml")
}
