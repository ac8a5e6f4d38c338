package builtin

import (
	"bytes"
	"errors"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

func TestCatalogueSorted(t *testing.T) {
	if !sort.SliceIsSorted(catalogue, func(i, j int) bool { return catalogue[i].Name < catalogue[j].Name }) {
		t.Fatal("catalogue is not sorted by name")
	}
	for _, e := range catalogue {
		if e.Summary == "" || e.Needs == "" {
			t.Errorf("%s: empty Summary or Needs", e.Name)
		}
	}
}

// TestCatalogueMatchesFS checks that every entry has both files and every
// embedded file belongs to an entry.
func TestCatalogueMatchesFS(t *testing.T) {
	want := map[string]bool{}
	for _, e := range Catalogue() {
		want[e.Name+".yaml"] = true
		want[e.Name+".bpf.o"] = true
		y, o, err := Files(e.Name)
		if err != nil {
			t.Errorf("%s: %v", e.Name, err)
			continue
		}
		if len(y) == 0 || len(o) == 0 {
			t.Errorf("%s: empty file (yaml %d bytes, object %d bytes)", e.Name, len(y), len(o))
		}
	}
	entries, err := fs.ReadDir(FS, "configs")
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if !want[de.Name()] {
			t.Errorf("configs/%s is embedded but not in the catalogue", de.Name())
		}
		delete(want, de.Name())
	}
	for name := range want {
		t.Errorf("configs/%s is missing", name)
	}
}

func TestFilesUnknown(t *testing.T) {
	_, _, err := Files("no-such-builtin")
	if !errors.Is(err, ErrUnknown) || !errors.Is(err, config.ErrNotFound) {
		t.Fatalf("Files(unknown) = %v, want ErrUnknown and config.ErrNotFound", err)
	}
}

// metricMaps returns each metric's name and labels.
func metricMaps(cfg *config.Config) map[string][]config.Label {
	out := map[string][]config.Label{}
	for _, c := range cfg.Metrics.Counters {
		out[c.Name] = c.Labels
	}
	for _, h := range cfg.Metrics.Histograms {
		out[h.Name] = h.Labels
	}
	return out
}

// TestSpecs checks that every YAML parses and every object is a valid spec
// with, for each metric, a map of its name whose key is the labels' size
// and whose value is a u64.
func TestSpecs(t *testing.T) {
	for _, e := range Catalogue() {
		t.Run(e.Name, func(t *testing.T) {
			cfg, err := Config(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Name != e.Name || cfg.Path != "builtin:"+e.Name {
				t.Errorf("config named %q at %q", cfg.Name, cfg.Path)
			}
			_, obj, _ := Files(e.Name)
			spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
			if err != nil {
				t.Fatal(err)
			}
			if len(spec.Programs) == 0 {
				t.Error("object has no programs")
			}
			for name, labels := range metricMaps(cfg) {
				m, ok := spec.Maps[name]
				if !ok {
					t.Errorf("metric %s: no map of that name", name)
					continue
				}
				if want := config.KeySize(labels); uint32(want) != m.KeySize {
					t.Errorf("metric %s: key size %d, labels add up to %d", name, m.KeySize, want)
				}
				if m.ValueSize != 8 {
					t.Errorf("metric %s: value size %d, want 8", name, m.ValueSize)
				}
				if m.MaxEntries == 0 {
					t.Errorf("metric %s: unbounded map", name)
				}
			}
			for _, h := range cfg.Metrics.Histograms {
				// Room for every bucket and the sum key of one label set.
				if keys := uint32(h.BucketMax - h.BucketMin + 2); spec.Maps[h.Name] != nil && spec.Maps[h.Name].MaxEntries < keys {
					t.Errorf("histogram %s: max_entries %d below the %d bucket and sum keys", h.Name, spec.Maps[h.Name].MaxEntries, keys)
				}
			}
			// The YAML header documents every map's max_entries.
			y, _, _ := Files(e.Name)
			for name, m := range spec.Maps {
				if strings.HasPrefix(name, ".") {
					continue
				}
				if !bytes.Contains(y, []byte(name)) {
					t.Errorf("map %s (max_entries %d) is not documented in %s.yaml", name, m.MaxEntries, e.Name)
				}
			}
		})
	}
}

// TestNoForwardDeclarations guards the objects' reproducibility: clang-19
// emits BTF forward declarations (pulled in by full vmlinux.h structs such as
// task_struct) in an order that depends on memory layout, so the same source
// can compile to different bytes in another checkout. The programs use small
// ___flavor CO-RE structs instead; this test keeps it that way.
func TestNoForwardDeclarations(t *testing.T) {
	for _, e := range Catalogue() {
		_, obj, err := Files(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
		if err != nil {
			t.Fatal(err)
		}
		for typ, err := range spec.Types.All() {
			if err != nil {
				t.Fatalf("%s: %v", e.Name, err)
			}
			if fwd, ok := typ.(*btf.Fwd); ok {
				t.Errorf("%s: BTF forward declaration %q; use a minimal ___flavor struct instead", e.Name, fwd.Name)
			}
		}
	}
}

// TestLoad loads every object into the kernel (without attaching), except
// llcstat, whose perf_event programs load anywhere but need a hardware PMU
// to attach, which is tested where attaching is.
func TestLoad(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, e := range Catalogue() {
		t.Run(e.Name, func(t *testing.T) {
			_, obj, err := Files(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
			if err != nil {
				t.Fatal(err)
			}
			coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{})
			if err != nil {
				if e.Name == "llcstat" {
					t.Skipf("llcstat: %v", err)
				}
				var ve *ebpf.VerifierError
				if errors.As(err, &ve) {
					t.Fatalf("%+v", ve)
				}
				t.Fatal(err)
			}
			defer coll.Close()
			for name := range spec.Programs {
				if coll.Programs[name] == nil {
					t.Errorf("program %s not loaded", name)
				}
			}
		})
	}
}
