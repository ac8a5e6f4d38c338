package declarative

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/ebpf-exporter/ebpf_exporter/attach"
	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

// TestCompareCost measures the per-event cost (run_time_ns / run_cnt from
// BPF stats) of the programs generated from testdata/bench.yaml beside
// their hand-written C twins in testdata/bench.bpf.c, attached to the same
// events over the same workload. It only runs with DECLARATIVE_BENCH=1:
//
//	DECLARATIVE_BENCH=1 go test ./declarative -run TestCompareCost -v
func TestCompareCost(t *testing.T) {
	if os.Getenv("DECLARATIVE_BENCH") == "" {
		t.Skip("set DECLARATIVE_BENCH=1 to measure")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()

	cfg, err := config.ReadFile("testdata/bench.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Compile(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := loader.LoadSpec(cfg, "bench.yaml", spec, loader.Options{Cache: btf.NewCache()})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	progs := map[string]*ebpf.Program{}
	for _, p := range gen.Programs {
		if p.Err != nil {
			t.Fatal(p.Err)
		}
		progs["yaml "+p.Section] = p.Program
	}

	cspec, err := ebpf.LoadCollectionSpec("testdata/bench.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(cspec)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	for name, p := range coll.Programs {
		a, err := attach.Program(p, cspec.Programs[name], attach.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		progs["C    "+cspec.Programs[name].SectionName] = p
	}

	dir := t.TempDir()
	work := filepath.Join(dir, "hx-work")
	if out, err := exec.Command("gcc", "-O2", "-o", work, "../test/testdata/target.c").CombinedOutput(); err != nil {
		t.Skipf("building the workload: %v\n%s", err, out)
	}
	sizes := []string{"write"}
	for i := 0; i < 2000; i++ {
		sizes = append(sizes, fmt.Sprint(i*37%5000))
	}
	for round := 0; round < 5; round++ {
		for _, args := range [][]string{{"getpid", "200000"}, sizes, {"getppid", "100000"}} {
			if out, err := exec.Command(work, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args[0], err, out)
			}
		}
	}

	names := make([]string, 0, len(progs))
	for n := range progs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i][5:]+names[i][:5] < names[j][5:]+names[j][:5] })
	var b strings.Builder
	fmt.Fprintf(&b, "%-50s %12s %10s %8s\n", "program", "runs", "ns/run", "insns")
	for _, n := range names {
		st, err := progs[n].Stats()
		if err != nil {
			t.Fatal(err)
		}
		info, _ := progs[n].Info()
		insns, _ := info.Instructions()
		per := 0.0
		if st.RunCount > 0 {
			per = float64(st.Runtime.Nanoseconds()) / float64(st.RunCount)
		}
		fmt.Fprintf(&b, "%-50s %12d %10.1f %8d\n", n, st.RunCount, per, len(insns))
	}
	t.Log("\n" + b.String())
}
