package test

import (
	"fmt"
	"github.com/ebpf-exporter/ebpf_exporter/attach"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
	"math"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

func TestTracepointCounterExact(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core")
	requireAttached(t, e.scrape(), "core")
	for _, n := range []int{1, 1000, 12345} {
		pid, _ := target(t, "getpid", strconv.Itoa(n))
		got := value(t, e.scrape(), "ebpf_exporter_test_getpid_calls_total", pidLabel(pid))
		if got != float64(n) {
			t.Errorf("getpid calls of pid %d: got %v, want %d", pid, got, n)
		}
	}
}

// exp2Bucket is the bucket of an exp2 histogram holding v: the smallest k
// with v <= 2^k, clamped to max.
func exp2Bucket(v uint64, max int) int {
	k := 0
	if v > 1 {
		k = bits.Len64(v - 1)
	}
	if k > max {
		k = max
	}
	return k
}

func TestExp2HistogramWithSumKeyExact(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core")
	sizes := []uint64{0, 1, 2, 3, 4, 5, 7, 8, 9, 100, 1000, 1024, 1025, 4096, 65536, 1 << 20, 1<<20 + 1, 3 << 20}
	args := []string{"write"}
	for _, s := range sizes {
		args = append(args, strconv.FormatUint(s, 10))
	}
	pid, _ := target(t, args...)

	const bucketMax = 20
	want := make([]uint64, bucketMax+1)
	var sum uint64
	for _, s := range sizes {
		want[exp2Bucket(s, bucketMax)]++
		sum += s
	}
	m := find(e.scrape(), "ebpf_exporter_test_write_size_bytes", pidLabel(pid))
	if m == nil || m.Histogram == nil {
		t.Fatalf("no histogram for pid %d", pid)
	}
	h := m.Histogram
	if h.GetSampleCount() != uint64(len(sizes)) {
		t.Errorf("count: got %d, want %d", h.GetSampleCount(), len(sizes))
	}
	if h.GetSampleSum() != float64(sum) {
		t.Errorf("sum: got %v, want %d", h.GetSampleSum(), sum)
	}
	// The text format lists le="+Inf" as a bucket of its own.
	if len(h.Bucket) != bucketMax+2 || !math.IsInf(h.Bucket[bucketMax+1].GetUpperBound(), 1) {
		t.Fatalf("got %d buckets, want %d and +Inf", len(h.Bucket), bucketMax+1)
	}
	if inf := h.Bucket[bucketMax+1].GetCumulativeCount(); inf != uint64(len(sizes)) {
		t.Errorf("+Inf bucket: got %d, want %d", inf, len(sizes))
	}
	var cum uint64
	for k, b := range h.Bucket[:bucketMax+1] {
		cum += want[k]
		if b.GetUpperBound() != math.Exp2(float64(k)) {
			t.Errorf("bucket %d: upper bound %v, want %v", k, b.GetUpperBound(), math.Exp2(float64(k)))
		}
		if b.GetCumulativeCount() != cum {
			t.Errorf("bucket le=%v: got %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), cum)
		}
	}
}

func TestRawTracepointAndTpBTFExact(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=hooks")
	fams := e.scrape()
	requireAttached(t, fams, "hooks")
	pid, _ := target(t, "getppid", "777")
	if got := value(t, e.scrape(), "ebpf_exporter_test_raw_getppid_calls_total", pidLabel(pid)); got != 777 {
		t.Errorf("raw_tp getppid calls: got %v, want 777", got)
	}
	pid, _ = target(t, "getuid", "555")
	if got := value(t, e.scrape(), "ebpf_exporter_test_btf_getuid_calls_total", pidLabel(pid)); got != 555 {
		t.Errorf("tp_btf getuid calls: got %v, want 555", got)
	}
}

func TestSoftwarePerfEvent(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=hooks")
	requireAttached(t, e.scrape(), "hooks")
	// Burn CPU so cpu-clock fires (1000 Hz per CPU).
	x := 0
	for i := 0; i < 300_000_000; i++ {
		x += i ^ (x >> 3)
	}
	_ = x
	f := e.scrape()["ebpf_exporter_test_cpu_clock_samples_total"]
	if f == nil {
		t.Fatal("no cpu-clock samples metric")
	}
	var total float64
	for _, m := range f.Metric {
		total += m.Counter.GetValue()
	}
	if total < 10 {
		t.Errorf("cpu-clock samples: got %v, want at least 10 after a busy loop", total)
	}
}

func TestUprobeAndUSDTExact(t *testing.T) {
	// The configs name the target's path, so build it before the exporter attaches.
	target(t, "work", "0")
	e := startExporter(t, "--config.dir=testdata", "--config.names=userspace")
	requireAttached(t, e.scrape(), "userspace")
	pid, out := target(t, "work", "4321")
	if !strings.Contains(out, "semaphore=1") {
		t.Errorf("USDT semaphore was not raised while attached: %q", out)
	}
	fams := e.scrape()
	if got := value(t, fams, "ebpf_exporter_test_uprobe_calls_total", pidLabel(pid)); got != 4321 {
		t.Errorf("uprobe calls: got %v, want 4321", got)
	}
	if got := value(t, fams, "ebpf_exporter_test_usdt_ticks_total", pidLabel(pid)); got != 4321 {
		t.Errorf("usdt ticks: got %v, want 4321", got)
	}
}

func TestUSDTArgumentsExact(t *testing.T) {
	// A reference-style object that reads its probe's arguments with
	// libbpf's BPF_USDT(): weak maps and functions, the LINUX_HAS_BPF_COOKIE
	// extern, one spec per probe site found by the uprobe's cookie. The
	// hxtest:args site has one argument of each kind: register, sign-extended
	// register, constant and memory (target.c; see readelf -n).
	target(t, "args", "0")
	e := startExporter(t, "--config.dir=testdata", "--config.names=usdtargs")
	requireAttached(t, e.scrape(), "usdtargs")
	const n = 2345
	pid, _ := target(t, "args", strconv.Itoa(n))
	var sumI, sumMod float64
	for i := range n {
		sumI += float64(i)
		sumMod += float64(i % 100)
	}
	fams := e.scrape()
	for _, c := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"ebpf_exporter_test_usdt_arg_i_sum_total", pidLabel(pid), sumI},
		{"ebpf_exporter_test_usdt_arg_negated_sum_total", pidLabel(pid), sumMod},
		{"ebpf_exporter_test_usdt_arg_mem_sum_total", pidLabel(pid), 3 * sumI},
		{"ebpf_exporter_test_usdt_arg_constant_total", map[string]string{"constant": "7"}, n},
		{"ebpf_exporter_test_usdt_arg_count_total", map[string]string{"args": "4"}, n},
	} {
		if got := value(t, fams, c.metric, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
	// Nothing else was seen: no other constant, no failed argument count.
	for _, name := range []string{"ebpf_exporter_test_usdt_arg_constant_total", "ebpf_exporter_test_usdt_arg_count_total"} {
		if f := fams[name]; f == nil || len(f.Metric) != 1 {
			t.Errorf("%s: want exactly one series, got %v", name, f)
		}
	}
}

func TestUSDTPythonReferenceStyle(t *testing.T) {
	// A config as written for the reference exporter (its usdt example):
	// "usdt/python3:python:function__entry", python3 found on PATH, the
	// module and function read through BPF_USDT() pointer arguments. Debian's
	// python3 has the probe, behind a semaphore.
	python, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		testenv.Skip(t, "no /usr/bin/python3: "+err.Error())
	}
	if notes, err := attach.ReadUSDTNotes(python); err != nil || len(notes) == 0 {
		testenv.Skip(t, fmt.Sprintf("%s has no USDT probes (%v)", python, err))
	}
	exporterBinary(t)
	// A service's PATH (systemd's default), not a developer's shims.
	t.Setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	e := startExporter(t, "--config.dir=testdata", "--config.names=python")
	requireAttached(t, e.scrape(), "python")

	script := filepath.Join(t.TempDir(), "hx_probe.py")
	const n = 1234
	// CPython 3.11 fires function__entry only while a trace function is
	// set (bpftrace 0.17 sees the same: 0 calls without it, all with it).
	src := fmt.Sprintf("import sys\nsys.settrace(lambda *a: None)\n\ndef hx_probe_fn(i):\n    return i\n\nfor i in range(%d):\n    hx_probe_fn(i)\n", n)
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, script).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", python, script, err, out)
	}
	got := value(t, e.scrape(), "ebpf_exporter_test_python_function_entries_total",
		map[string]string{"module": script, "function": "hx_probe_fn"})
	if got != n {
		t.Errorf("calls of hx_probe_fn: got %v, want %d", got, n)
	}
}

func TestCounterValuesExact(t *testing.T) {
	// A reference counter with values: one per-CPU map whose value is
	// {calls, bytes}, exported as two metrics, each summed over CPUs.
	target(t, "getpid", "0") // build the workload
	e := startExporter(t, "--config.dir=testdata", "--config.names=values")
	requireAttached(t, e.scrape(), "values")
	sizes := []string{"1", "10", "100", "1000", "4096", "65536", "0", "12345"}
	pid, _ := target(t, append([]string{"write"}, sizes...)...)
	var bytes float64
	for _, s := range sizes {
		n, _ := strconv.Atoi(s)
		bytes += float64(n)
	}
	fams := e.scrape()
	if got := value(t, fams, "ebpf_exporter_test_write_calls_total", pidLabel(pid)); got != float64(len(sizes)) {
		t.Errorf("write calls: got %v, want %d", got, len(sizes))
	}
	if got := value(t, fams, "ebpf_exporter_test_written_bytes_total", pidLabel(pid)); got != bytes {
		t.Errorf("written bytes: got %v, want %v", got, bytes)
	}
	if f := fams["ebpf_exporter_test_writes"]; f != nil {
		t.Errorf("the counter's own name is exported: %v", f)
	}
	for _, name := range []string{"ebpf_exporter_test_write_calls_total", "ebpf_exporter_test_written_bytes_total"} {
		if f := fams[name]; f == nil || f.GetHelp() == "" || f.GetType().String() != "COUNTER" {
			t.Errorf("%s: %v", name, f)
		}
	}
}

func TestShutdownReleasesPrograms(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core,hooks")
	f := e.scrape()["ebpf_exporter_ebpf_program_info"]
	if f == nil || len(f.Metric) == 0 {
		t.Fatal("no ebpf_exporter_ebpf_program_info")
	}
	var ids []ebpf.ProgramID
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == "id" {
				id, err := strconv.Atoi(l.GetValue())
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, ebpf.ProgramID(id))
			}
		}
	}
	for _, id := range ids {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			t.Fatalf("program %d is not loaded while the exporter runs: %v", id, err)
		}
		p.Close()
	}
	if code := e.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; logs:\n%s", code, e.logs)
	}
	// The kernel frees programs asynchronously once their last reference
	// is gone, so allow it a moment.
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			p, err := ebpf.NewProgramFromID(id)
			if err != nil {
				break
			}
			p.Close()
			if time.Now().After(deadline) {
				t.Errorf("program %d is still loaded 10s after shutdown", id)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestKaddrs(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=kaddrs")
	requireAttached(t, e.scrape(), "kaddrs")
	pid, _ := target(t, "getpid", "64")
	labels := map[string]string{"symbol": "vfs_read", "pid": strconv.Itoa(pid)}
	if got := value(t, e.scrape(), "ebpf_exporter_test_kaddr_getpid_calls_total", labels); got != 64 {
		t.Errorf("calls keyed by kaddr_vfs_read decoded with ksym: got %v, want 64", got)
	}
}
