package test

// End-to-end tests of the built-in configs (package builtin): each starts the
// exporter binary with one built-in, makes the events it counts, and checks
// the scraped metric moved by what the workload did.
//
// The built-ins count system-wide, so other processes add events of their
// own. Where nothing else can touch the series (a fresh loop device, an OOM
// kill in a cgroup of our own) the checks are exact; elsewhere checkDelta
// requires at least the events made and, at most, that plus what the metric
// moves by over an equally long quiet window.

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"

	"github.com/ebpf-exporter/ebpf_exporter/builtin"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// matching returns every metric of a family whose labels include want.
func matching(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
outer:
	for _, m := range f.Metric {
		have := labelMap(m)
		for k, v := range want {
			if have[k] != v {
				continue outer
			}
		}
		out = append(out, m)
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	have := map[string]string{}
	for _, l := range m.Label {
		have[l.GetName()] = l.GetValue()
	}
	return have
}

// reading turns a scrape into the one number a check follows.
type reading func(fams map[string]*dto.MetricFamily) float64

// counterSum reads the sum of the counters of name whose labels include want
// (0 while there are none: a series appears with its first event).
func counterSum(name string, want map[string]string) reading {
	return func(fams map[string]*dto.MetricFamily) float64 {
		var sum float64
		for _, m := range matching(fams, name, want) {
			sum += m.GetCounter().GetValue()
		}
		return sum
	}
}

// histCount reads the summed sample count of the histograms of name whose
// labels include want.
func histCount(name string, want map[string]string) reading {
	return func(fams map[string]*dto.MetricFamily) float64 {
		var sum float64
		for _, m := range matching(fams, name, want) {
			sum += float64(m.GetHistogram().GetSampleCount())
		}
		return sum
	}
}

// histBucket reads the cumulative count of the bucket with upper bound le.
func histBucket(name string, want map[string]string, le float64) reading {
	return func(fams map[string]*dto.MetricFamily) float64 {
		var sum float64
		for _, m := range matching(fams, name, want) {
			for _, b := range m.GetHistogram().GetBucket() {
				if b.GetUpperBound() == le {
					sum += float64(b.GetCumulativeCount())
				}
			}
		}
		return sum
	}
}

// histSum reads the summed sample sum of the histograms of name.
func histSum(name string, want map[string]string) reading {
	return func(fams map[string]*dto.MetricFamily) float64 {
		var sum float64
		for _, m := range matching(fams, name, want) {
			sum += m.GetHistogram().GetSampleSum()
		}
		return sum
	}
}

// misses reads the kernel's recursion-miss count summed over the programs
// of config: the runs it skipped because another BPF tracing program was
// running on the same CPU (a softirq or interrupt arriving in one, say).
// Those events cannot be counted, so exact checks allow for them.
func misses(t *testing.T, e *exporter, config string) float64 {
	t.Helper()
	var sum float64
	for _, m := range matching(e.scrape(), "ebpf_exporter_ebpf_program_info", map[string]string{"config": config}) {
		id, err := strconv.Atoi(labelMap(m)["id"])
		if err != nil {
			t.Fatal(err)
		}
		p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
		if err != nil {
			t.Fatalf("program %d of %s: %v", id, config, err)
		}
		st, err := p.Stats()
		p.Close()
		if err != nil {
			t.Fatalf("stats of program %d of %s: %v", id, config, err)
		}
		sum += float64(st.RecursionMisses)
	}
	return sum
}

// checkDelta runs work, which makes n events of the kind read counts,
// between two scrapes of the exporter running config. The metric must grow
// by at least n, less the runs the kernel skipped (misses). Other processes
// make events too, so the upper bound is n + margin + what the metric moved
// by over a quiet window as long as the work took; bursts of outside events
// can break it, so it is tried up to three times, and a real over-count
// (a double count, say) fails every try. It returns the last delta.
func checkDelta(t *testing.T, e *exporter, config, what string, read reading, n, margin float64, work func()) float64 {
	t.Helper()
	const attempts = 3
	var got float64
	var fails []string
	for i := 0; i < attempts; i++ {
		missed := misses(t, e, config)
		before := read(e.scrape())
		start := time.Now()
		work()
		took := time.Since(start)
		after := read(e.scrape())
		missed = misses(t, e, config) - missed
		time.Sleep(took)
		quiet := read(e.scrape()) - after
		got = after - before
		if got < n-missed {
			t.Fatalf("%s: moved by %v for %v events (%v runs skipped by the kernel), want at least %v", what, got, n, missed, n-missed)
		}
		if got <= n+margin+quiet {
			t.Logf("%s: moved by %v for %v events (quiet window: %v, skipped runs: %v)", what, got, n, quiet, missed)
			return got
		}
		fails = append(fails, fmt.Sprintf("%v (quiet window %v)", got, quiet))
	}
	t.Errorf("%s: moved by more than %v events + %v + the quiet window in all %d tries: %s",
		what, n, margin, attempts, strings.Join(fails, ", "))
	return got
}

// requireTool skips (or fails under EBPF_EXPORTER_REQUIRE_PRIVILEGED) when a
// command the test needs is missing.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Skip(t, fmt.Sprintf("needs %s (Debian package %s): %v", name, pkg, err))
	}
	return p
}

// checkCumulative checks that every histogram of name has cumulative
// buckets ending in +Inf with the sample count.
func checkCumulative(t *testing.T, fams map[string]*dto.MetricFamily, name string) {
	t.Helper()
	ms := matching(fams, name, nil)
	if len(ms) == 0 {
		t.Fatalf("no %s", name)
	}
	for _, m := range ms {
		h := m.GetHistogram()
		bs := h.GetBucket()
		if len(bs) == 0 || !math.IsInf(bs[len(bs)-1].GetUpperBound(), 1) {
			t.Fatalf("%s%v: buckets do not end in +Inf", name, labelMap(m))
		}
		for i := 1; i < len(bs); i++ {
			if bs[i].GetUpperBound() <= bs[i-1].GetUpperBound() || bs[i].GetCumulativeCount() < bs[i-1].GetCumulativeCount() {
				t.Errorf("%s%v: bucket le=%v (%d) after le=%v (%d) is not cumulative", name, labelMap(m),
					bs[i].GetUpperBound(), bs[i].GetCumulativeCount(), bs[i-1].GetUpperBound(), bs[i-1].GetCumulativeCount())
			}
		}
		if inf := bs[len(bs)-1].GetCumulativeCount(); inf != h.GetSampleCount() {
			t.Errorf("%s%v: +Inf bucket %d, count %d", name, labelMap(m), inf, h.GetSampleCount())
		}
	}
}

// TestBuiltinHelperProcess is not a test: the tests run the test binary
// with EBPF_EXPORTER_BUILTIN_HELPER set to get a workload process.
//
//	oom      wait for a line on stdin, then touch anonymous memory until killed
//	spin MS  burn CPU for MS milliseconds
func TestBuiltinHelperProcess(t *testing.T) {
	mode := os.Getenv("EBPF_EXPORTER_BUILTIN_HELPER")
	if mode == "" {
		t.Skip("helper process for the built-in tests")
	}
	switch {
	case mode == "oom":
		// The parent moves us into the memory-limited cgroup first.
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			os.Exit(3)
		}
		const size = 1 << 30
		mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		if err != nil {
			os.Exit(4)
		}
		for i := 0; i < size; i += os.Getpagesize() {
			mem[i] = 1
		}
		os.Exit(5) // not killed
	case strings.HasPrefix(mode, "spin "):
		ms, _ := strconv.Atoi(strings.TrimPrefix(mode, "spin "))
		end := time.Now().Add(time.Duration(ms) * time.Millisecond)
		x := 0
		for time.Now().Before(end) {
			for i := 0; i < 100000; i++ {
				x += i ^ (x >> 3)
			}
		}
		_ = x
		os.Exit(0)
	}
	os.Exit(2)
}

// helper returns a command running TestBuiltinHelperProcess in mode.
func helper(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBuiltinHelperProcess$")
	cmd.Env = append(os.Environ(), "EBPF_EXPORTER_BUILTIN_HELPER="+mode)
	return cmd
}

// TestBuiltinDefaults runs the exporter with no config flags: every default
// built-in must attach, except llcstat where there is no hardware PMU, which
// must report 0 and log why.
func TestBuiltinDefaults(t *testing.T) {
	e := startExporter(t)
	fams := e.scrape()
	_, err := os.Stat("/sys/bus/event_source/devices/cpu")
	havePMU := err == nil
	for _, b := range builtin.Catalogue() {
		enabled := find(fams, "ebpf_exporter_enabled_configs", map[string]string{"name": b.Name}) != nil
		if enabled != b.Default {
			t.Errorf("%s: enabled %v, want %v (its Default)", b.Name, enabled, b.Default)
		}
		if !b.Default {
			if ms := matching(fams, "ebpf_exporter_ebpf_program_attached", map[string]string{"config": b.Name}); len(ms) > 0 {
				t.Errorf("%s is not a default built-in but has programs loaded", b.Name)
			}
			continue
		}
		if b.Name == "llcstat" && !havePMU {
			ms := matching(fams, "ebpf_exporter_ebpf_program_attached", map[string]string{"config": "llcstat"})
			if len(ms) != 2 {
				t.Errorf("llcstat: %d programs in ebpf_exporter_ebpf_program_attached, want 2", len(ms))
			}
			for _, m := range ms {
				if m.GetGauge().GetValue() != 0 {
					t.Errorf("llcstat program %s attached without a hardware PMU", labelMap(m)["program"])
				}
			}
			var logged bool
			for _, l := range e.logLines("config=llcstat") {
				if strings.Contains(l, "PMU") {
					logged = true
				}
			}
			if !logged {
				t.Errorf("no log line names config=llcstat and the missing PMU; logs:\n%s", e.logs)
			}
			continue
		}
		requireAttached(t, fams, b.Name)
	}
}

// loopDevice attaches a fresh loop device to a 16 MiB file and returns its
// path (/dev/loopN); it is detached when the test ends. Nothing else uses
// it, so its block requests are exactly the test's (besides udev probing
// it with reads).
func loopDevice(t *testing.T) string {
	t.Helper()
	losetup := requireTool(t, "losetup", "mount")
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(losetup, "--find", "--show", img).CombinedOutput()
	if err != nil {
		testenv.Skip(t, fmt.Sprintf("cannot attach a loop device (needs /dev/loop-control and the loop driver): %v: %s", err, out))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command(losetup, "--detach", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup --detach %s: %v: %s", dev, err, out)
		}
	})
	return dev
}

// directIO does n O_DIRECT writes (or reads) of one 4096-byte block each at
// distinct offsets of the block device dev: n block requests of 8 sectors.
func directIO(t *testing.T, dev string, write bool, n int) {
	t.Helper()
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_WRONLY
	}
	fd, err := unix.Open(dev, flags|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s with O_DIRECT: %v", dev, err)
	}
	defer unix.Close(fd)
	// O_DIRECT needs an aligned buffer: a fresh mapping is page aligned.
	buf, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf)
	for i := 0; i < n; i++ {
		var k int
		if write {
			buf[0] = byte(i)
			k, err = unix.Pwrite(fd, buf, int64(i)*4096)
		} else {
			k, err = unix.Pread(fd, buf, int64(i)*4096)
		}
		if err != nil || k != len(buf) {
			t.Fatalf("O_DIRECT I/O %d on %s: %d bytes, %v", i, dev, k, err)
		}
	}
}

// TestBuiltinBlockIO checks biolatency and bio-size against O_DIRECT I/O on
// a loop device of the test's own: each 4096-byte O_DIRECT write is one
// write request, so the write counts are exact.
func TestBuiltinBlockIO(t *testing.T) {
	testenv.RequirePrivileged(t)
	dev := loopDevice(t)
	e := startExporter(t, "--config.names=biolatency,bio-size")
	fams := e.scrape()
	requireAttached(t, fams, "biolatency")
	requireAttached(t, fams, "bio-size")

	name := filepath.Base(dev)
	write := map[string]string{"device": name, "operation": "write"}
	read := map[string]string{"device": name, "operation": "read"}
	const n = 64
	const size = 4096

	missed := misses(t, e, "biolatency") + misses(t, e, "bio-size")
	before := e.scrape()
	directIO(t, dev, true, n)
	directIO(t, dev, false, n)
	after := e.scrape()
	delta := func(r reading) float64 { return r(after) - r(before) }
	// Exact, unless the kernel skipped runs (see misses): then each skipped
	// run may be one of ours.
	missed = misses(t, e, "biolatency") + misses(t, e, "bio-size") - missed
	exact := func(what string, got, want float64) {
		t.Helper()
		if got > want || got < want-missed {
			t.Errorf("%s moved by %v, want %v (%v runs skipped by the kernel)", what, got, want, missed)
		}
	}
	exact(fmt.Sprintf("bio_latency_seconds_count{device=%q,operation=\"write\"}", name),
		delta(histCount("ebpf_exporter_bio_latency_seconds", write)), n)
	if got := delta(histSum("ebpf_exporter_bio_latency_seconds", write)); got <= 0 {
		t.Errorf("bio_latency_seconds_sum of writes moved by %v, want > 0", got)
	}
	exact(fmt.Sprintf("bio_size_bytes_count{device=%q,operation=\"write\"}", name),
		delta(histCount("ebpf_exporter_bio_size_bytes", write)), n)
	got := delta(histSum("ebpf_exporter_bio_size_bytes", write))
	exact("bio_size_bytes_sum{operation=\"write\"} / 4096", got/size, n)
	if math.Mod(got, size) != 0 {
		t.Errorf("bio_size_bytes_sum{operation=\"write\"} moved by %v, not a multiple of %d", got, size)
	}
	// Every write is in the bucket le=4096 and none in le=2048.
	exact("bio_size_bytes{operation=\"write\"} bucket (2048, 4096]",
		delta(histBucket("ebpf_exporter_bio_size_bytes", write, 4096))-delta(histBucket("ebpf_exporter_bio_size_bytes", write, 2048)), n)
	// udev may probe a new device with reads of its own: at least n.
	if got := delta(histCount("ebpf_exporter_bio_latency_seconds", read)); got < n-missed {
		t.Errorf("bio_latency_seconds_count{device=%q,operation=\"read\"} moved by %v, want at least %v", name, got, n-missed)
	}
	if got := delta(histBucket("ebpf_exporter_bio_size_bytes", read, 4096)) - delta(histBucket("ebpf_exporter_bio_size_bytes", read, 2048)); got < n-missed {
		t.Errorf("bio_size_bytes{operation=\"read\"} bucket (2048, 4096] moved by %v, want at least %v", got, n-missed)
	}
	checkCumulative(t, after, "ebpf_exporter_bio_latency_seconds")
	checkCumulative(t, after, "ebpf_exporter_bio_size_bytes")
}

// loopbackConnects makes n TCP connections to a listener on 127.0.0.1,
// accepting and closing each.
func loopbackConnects(t *testing.T, n int) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		a, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		a.Close()
	}
}

// TestBuiltinTimers: a passive TCP open starts one reqsk_timer_handler
// timer (the SYN-ACK retransmit timer of the request socket).
func TestBuiltinTimers(t *testing.T) {
	e := startExporter(t, "--config.names=timers")
	requireAttached(t, e.scrape(), "timers")
	const n = 200
	checkDelta(t, e, "timers", "timer_starts_total{function=\"reqsk_timer_handler\"}",
		counterSum("ebpf_exporter_timer_starts_total", map[string]string{"function": "reqsk_timer_handler"}),
		n, 5, func() { loopbackConnects(t, n) })

	ms := matching(e.scrape(), "ebpf_exporter_timer_starts_total", nil)
	if len(ms) < 5 {
		t.Errorf("only %d timer functions seen", len(ms))
	}
	for _, m := range ms {
		fn := labelMap(m)["function"]
		if fn == "" || strings.HasPrefix(fn, "unknown_addr") || strings.HasPrefix(fn, "0x") {
			t.Errorf("timer function label %q is not a kernel symbol name", fn)
		}
	}
}

// TestBuiltinSyscalls counts the target's getppid calls and failed opens of
// a missing file.
func TestBuiltinSyscalls(t *testing.T) {
	target(t, "getppid", "0") // build it outside the measured window
	e := startExporter(t, "--config.names=syscalls")
	requireAttached(t, e.scrape(), "syscalls")

	const n = 20000
	checkDelta(t, e, "syscalls", "syscalls_total{syscall=\"getppid\"}",
		counterSum("ebpf_exporter_syscalls_total", map[string]string{"syscall": "getppid"}),
		n, 10, func() { target(t, "getppid", strconv.Itoa(n)) })

	const m = 2000
	missing := filepath.Join(t.TempDir(), "missing")
	checkDelta(t, e, "syscalls", "syscall_errors_total{syscall=\"openat\",errno=\"ENOENT\"}",
		counterSum("ebpf_exporter_syscall_errors_total", map[string]string{"syscall": "openat", "errno": "ENOENT"}),
		m, 50, func() {
			for i := 0; i < m; i++ {
				if _, err := unix.Open(missing, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != unix.ENOENT {
					t.Fatalf("open of a missing file: %v", err)
				}
			}
		})
}

// TestBuiltinRunqlat oversubscribes the CPUs with busy processes: each
// waits for a CPU at least when it first starts.
func TestBuiltinRunqlat(t *testing.T) {
	e := startExporter(t, "--config.names=runqlat")
	requireAttached(t, e.scrape(), "runqlat")
	count := histCount("ebpf_exporter_run_queue_latency_seconds", nil)
	sum := histSum("ebpf_exporter_run_queue_latency_seconds", nil)
	before := e.scrape()
	procs := 2*runtimeCPUs() + 2
	var cmds []*exec.Cmd
	for i := 0; i < procs; i++ {
		cmd := helper("spin 300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("spinner: %v", err)
		}
	}
	after := e.scrape()
	if got := count(after) - count(before); got < float64(procs) {
		t.Errorf("run_queue_latency_seconds_count moved by %v with %d busy processes on %d CPUs, want at least %d",
			got, procs, runtimeCPUs(), procs)
	} else {
		t.Logf("run_queue_latency_seconds_count moved by %v", got)
	}
	if got := sum(after) - sum(before); got <= 0 {
		t.Errorf("run_queue_latency_seconds_sum moved by %v, want > 0", got)
	}
	checkCumulative(t, after, "ebpf_exporter_run_queue_latency_seconds")
}

// runtimeCPUs is the number of CPUs the test may run on.
func runtimeCPUs() int { return runtime.NumCPU() }

// pingPong sends n one-byte messages each way over a loopback TCP
// connection, waiting for each reply: every packet is received in a
// NET_RX softirq of its own.
func pingPong(t *testing.T, n int) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		a, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer a.Close()
		b := make([]byte, 1)
		for i := 0; i < n; i++ {
			if _, err := a.Read(b); err != nil {
				done <- err
				return
			}
			if _, err := a.Write(b); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := []byte{'x'}
	for i := 0; i < n; i++ {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestBuiltinSoftirqs: loopback packets are received in NET_RX softirqs.
func TestBuiltinSoftirqs(t *testing.T) {
	e := startExporter(t, "--config.names=softirqs")
	requireAttached(t, e.scrape(), "softirqs")
	netRx := map[string]string{"kind": "net_rx"}
	missed := misses(t, e, "softirqs")
	before := e.scrape()
	const n = 500
	pingPong(t, n)
	after := e.scrape()
	missed = misses(t, e, "softirqs") - missed
	delta := func(r reading) float64 { return r(after) - r(before) }
	// 2n data packets, each sent only after the previous one was received,
	// less the runs the kernel skipped (a softirq interrupting a BPF program).
	want := 2*n - missed
	if got := delta(counterSum("ebpf_exporter_softirqs_total", netRx)); got < want {
		t.Errorf("softirqs_total{kind=\"net_rx\"} moved by %v for %d loopback packets, want at least %v", got, 2*n, want)
	} else {
		t.Logf("softirqs_total{kind=\"net_rx\"} moved by %v for %d loopback packets (skipped runs: %v)", got, 2*n, missed)
	}
	if got := delta(histCount("ebpf_exporter_softirq_latency_seconds", netRx)); got < want {
		t.Errorf("softirq_latency_seconds_count{kind=\"net_rx\"} moved by %v, want at least %v", got, want)
	}
	for _, m := range matching(after, "ebpf_exporter_softirqs_total", nil) {
		switch k := labelMap(m)["kind"]; k {
		case "hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched", "hrtimer", "rcu":
		default:
			t.Errorf("softirqs_total has kind %q", k)
		}
	}
	checkCumulative(t, after, "ebpf_exporter_softirq_latency_seconds")
}

// memoryCgroup makes a cgroup limited to limit bytes of memory (cgroup v2
// when its memory controller is available, else the v1 memory hierarchy)
// and returns the file to write a pid into to move it there.
func memoryCgroup(t *testing.T, limit int64) (procs string) {
	t.Helper()
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var v2, v1 string
	for _, line := range strings.Split(string(mounts), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		switch {
		case g[0] == "cgroup2" && v2 == "":
			if c, err := os.ReadFile(filepath.Join(f[4], "cgroup.controllers")); err == nil &&
				strings.Contains(" "+string(c)+" ", " memory ") {
				v2 = f[4]
			}
		case g[0] == "cgroup" && strings.Contains(","+g[2]+",", ",memory,") && v1 == "":
			v1 = f[4]
		}
	}
	name := fmt.Sprintf("ebpf_exporter_test_oom_%d", os.Getpid())
	var dir string
	var files [][2]string
	switch {
	case v2 != "":
		// The limit goes on a child of the v2 root, which must delegate memory.
		if err := os.WriteFile(filepath.Join(v2, "cgroup.subtree_control"), []byte("+memory"), 0); err != nil {
			t.Logf("enabling the memory controller in %s: %v", v2, err)
		}
		dir = filepath.Join(v2, name)
		files = [][2]string{{"memory.max", strconv.FormatInt(limit, 10)}, {"memory.swap.max", "0"}}
	case v1 != "":
		dir = filepath.Join(v1, name)
		files = [][2]string{{"memory.limit_in_bytes", strconv.FormatInt(limit, 10)}, {"memory.memsw.limit_in_bytes", strconv.FormatInt(limit, 10)}}
	default:
		testenv.Skip(t, "no cgroup memory controller (neither cgroup2 with memory nor a v1 memory hierarchy)")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The cgroup empties once the killed process is reaped.
		var err error
		for i := 0; i < 50; i++ {
			if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("removing cgroup %s: %v", dir, err)
	})
	for _, f := range files {
		err := os.WriteFile(filepath.Join(dir, f[0]), []byte(f[1]), 0)
		if err != nil && !errors.Is(err, os.ErrNotExist) { // no swap accounting: fine
			t.Fatalf("setting %s: %v", f[0], err)
		}
	}
	return filepath.Join(dir, "cgroup.procs")
}

// cgroupV2Path returns the cgroup v2 path of pid ("/" for the root).
func cgroupV2Path(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	t.Fatalf("pid %d has no cgroup v2 path:\n%s", pid, data)
	return ""
}

// TestBuiltinOOMKill runs a process in a 32 MiB memory cgroup until the OOM
// killer kills it: exactly one kill, labelled with the victim's cgroup.
func TestBuiltinOOMKill(t *testing.T) {
	testenv.RequirePrivileged(t)
	procs := memoryCgroup(t, 32<<20)
	e := startExporter(t, "--config.names=oomkill")
	requireAttached(t, e.scrape(), "oomkill")
	total := counterSum("ebpf_exporter_oom_kills_total", nil)
	missed := misses(t, e, "oomkill")
	before := e.scrape()

	cmd := helper("oom")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(procs, []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("moving the helper into %s: %v", procs, err)
	}
	// The cgroup decoder names a cgroup by its directory, as the reference does.
	cgroup := filepath.Join(cgroup2Root(t), cgroupV2Path(t, cmd.Process.Pid))
	fmt.Fprintln(stdin, "go")
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != unix.SIGKILL {
		t.Fatalf("the helper was not OOM killed: %v", err)
	}
	after := e.scrape()
	if m := misses(t, e, "oomkill") - missed; m > 0 {
		t.Fatalf("the kernel skipped %v runs of oomkill", m)
	}
	if got := total(after) - total(before); got != 1 {
		t.Errorf("oom_kills_total moved by %v, want 1", got)
	}
	want := map[string]string{"cgroup": cgroup}
	if got := counterSum("ebpf_exporter_oom_kills_total", want)(after) - counterSum("ebpf_exporter_oom_kills_total", want)(before); got != 1 {
		t.Errorf("oom_kills_total{cgroup=%q} moved by %v, want 1; series: %v", cgroup, got, matching(after, "ebpf_exporter_oom_kills_total", nil))
	}
}

// listenBacklog0 listens on addr (127.0.0.1 or ::1) with a backlog of 0:
// the accept queue holds one connection, and SYNs after it are dropped.
func listenBacklog0(t *testing.T, family int, sa unix.Sockaddr) (fd int, port int) {
	t.Helper()
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, sa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		port = a.Port
	case *unix.SockaddrInet6:
		port = a.Port
	}
	return fd, port
}

// synRetransmit fills the accept queue of a backlog-0 listener and then
// connects once more: that SYN is dropped, and the client retransmits it
// once, after the initial RTO of 1 s, before its 1.5 s dial timeout.
func synRetransmit(t *testing.T, network string, fd int, addr string) {
	t.Helper()
	first, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// Wait until the server side of the first connection is queued.
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(pfd, 5000); err != nil || n != 1 {
		t.Fatalf("listener %s did not queue the first connection: %v", addr, err)
	}
	d := net.Dialer{Timeout: 1500 * time.Millisecond}
	if c, err := d.Dial(network, addr); err == nil {
		c.Close()
		t.Fatalf("connect to a full accept queue on %s succeeded", addr)
	}
}

// TestBuiltinTCPRetransmit makes SYN retransmits on loopback: a listener
// with a full accept queue drops SYNs, so a client retransmits its SYN in
// state syn_sent. No packet filter is needed.
func TestBuiltinTCPRetransmit(t *testing.T) {
	e := startExporter(t, "--config.names=tcp-retransmit")
	requireAttached(t, e.scrape(), "tcp-retransmit")
	fd4, port4 := listenBacklog0(t, unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	addr4 := net.JoinHostPort("127.0.0.1", strconv.Itoa(port4))
	fd6, addr6 := -1, ""
	if s, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0); err == nil {
		unix.Close(s)
		var port6 int
		fd6, port6 = listenBacklog0(t, unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}})
		addr6 = net.JoinHostPort("::1", strconv.Itoa(port6))
	} else {
		t.Logf("no IPv6: only checking ipv4 (%v)", err)
	}
	work := func() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); synRetransmit(t, "tcp4", fd4, addr4) }()
		if fd6 >= 0 {
			wg.Add(1)
			go func() { defer wg.Done(); synRetransmit(t, "tcp6", fd6, addr6) }()
		}
		wg.Wait()
	}
	families := []string{"ipv4"}
	if fd6 >= 0 {
		families = append(families, "ipv6")
	}
	// Each try takes 1.5 s: try again only when the kernel skipped runs of
	// the program (the timer softirq can interrupt another BPF program).
	for try := 1; ; try++ {
		missed := misses(t, e, "tcp-retransmit")
		before := e.scrape()
		work()
		after := e.scrape()
		missed = misses(t, e, "tcp-retransmit") - missed
		var short []string
		for _, family := range families {
			r := counterSum("ebpf_exporter_tcp_retransmits_total", map[string]string{"family": family, "state": "syn_sent"})
			got := r(after) - r(before)
			t.Logf("tcp_retransmits_total{family=%q,state=\"syn_sent\"} moved by %v for 1 SYN retransmit", family, got)
			if got < 1 {
				short = append(short, family)
			}
		}
		if len(short) == 0 {
			return
		}
		if missed == 0 || try == 3 {
			t.Fatalf("tcp_retransmits_total{state=\"syn_sent\"} did not move for %v (%v runs skipped by the kernel)", short, missed)
		}
		t.Logf("the kernel skipped %v runs of tcp-retransmit: trying again", missed)
	}
}

// TestBuiltinExec counts execs of /bin/true.
func TestBuiltinExec(t *testing.T) {
	e := startExporter(t, "--config.names=exec")
	requireAttached(t, e.scrape(), "exec")
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	checkDelta(t, e, "exec", "sum(exec_total)", counterSum("ebpf_exporter_exec_total", nil), n, 5, func() {
		for i := 0; i < n; i++ {
			if err := exec.Command(truePath).Run(); err != nil {
				t.Fatal(err)
			}
		}
	})
	// A failed exec is not counted: it never starts a new image.
	checkDelta(t, e, "exec", "sum(exec_total) for failed execs", counterSum("ebpf_exporter_exec_total", nil), 0, 5, func() {
		for i := 0; i < n; i++ {
			if err := exec.Command(filepath.Join(t.TempDir(), "missing")).Run(); err == nil {
				t.Fatal("exec of a missing file succeeded")
			}
		}
	})
}

// TestBuiltinPageFaults touches fresh anonymous pages from user space (one
// user fault each) and has the kernel write into fresh pages (one kernel
// fault each).
func TestBuiltinPageFaults(t *testing.T) {
	e := startExporter(t, "--config.names=page-faults")
	requireAttached(t, e.scrape(), "page-faults")
	const n = 2000
	page := os.Getpagesize()
	fresh := func() []byte {
		mem, err := unix.Mmap(-1, 0, n*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			t.Fatal(err)
		}
		// One fault per 4 KiB page, not one per transparent huge page.
		if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
			t.Fatal(err)
		}
		return mem
	}
	// Page faults are the busiest event here: only the lower bound holds
	// reliably on a shared host, so no upper one is checked.
	user := counterSum("ebpf_exporter_page_faults_total", map[string]string{"type": "user"})
	kernel := counterSum("ebpf_exporter_page_faults_total", map[string]string{"type": "kernel"})

	mem := fresh()
	before := e.scrape()
	for i := 0; i < n; i++ {
		mem[i*page] = 1
	}
	after := e.scrape()
	unix.Munmap(mem)
	if got := user(after) - user(before); got < n {
		t.Errorf("page_faults_total{type=\"user\"} moved by %v for %d touched pages, want at least %d", got, n, n)
	} else {
		t.Logf("page_faults_total{type=\"user\"} moved by %v for %d touched pages", got, n)
	}

	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	mem = fresh()
	defer unix.Munmap(mem)
	before = e.scrape()
	for i := 0; i < n; i++ {
		if k, err := unix.Read(int(zero.Fd()), mem[i*page:i*page+page]); err != nil || k != page {
			t.Fatalf("read /dev/zero: %d, %v", k, err)
		}
	}
	after = e.scrape()
	if got := kernel(after) - kernel(before); got < n {
		t.Errorf("page_faults_total{type=\"kernel\"} moved by %v for %d pages the kernel wrote, want at least %d", got, n, n)
	} else {
		t.Logf("page_faults_total{type=\"kernel\"} moved by %v for %d pages the kernel wrote", got, n)
	}
}

// TestBuiltinTCPConnect observes loopback connects; each takes far less
// than a second.
func TestBuiltinTCPConnect(t *testing.T) {
	e := startExporter(t, "--config.names=tcp-connect")
	requireAttached(t, e.scrape(), "tcp-connect")
	const n = 200
	checkDelta(t, e, "tcp-connect", "tcp_connect_latency_seconds_count", histCount("ebpf_exporter_tcp_connect_latency_seconds", nil),
		n, 5, func() { loopbackConnects(t, n) })
	checkDelta(t, e, "tcp-connect", "tcp_connect_latency_seconds_bucket{le=\"1\"}", histBucket("ebpf_exporter_tcp_connect_latency_seconds", nil, 1),
		n, 5, func() { loopbackConnects(t, n) })
	checkCumulative(t, e.scrape(), "ebpf_exporter_tcp_connect_latency_seconds")
}

// TestBuiltinSkbDrops sends UDP datagrams to a closed loopback port: each
// is dropped with SKB_DROP_REASON_NO_SOCKET.
func TestBuiltinSkbDrops(t *testing.T) {
	e := startExporter(t, "--config.names=skb-drops")
	requireAttached(t, e.scrape(), "skb-drops")
	// A port that was just free, so most likely still closed.
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := probe.LocalAddr()
	probe.Close()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 500
	checkDelta(t, e, "skb-drops", "skb_drops_total{reason=\"SKB_DROP_REASON_NO_SOCKET\"}",
		counterSum("ebpf_exporter_skb_drops_total", map[string]string{"reason": "SKB_DROP_REASON_NO_SOCKET"}),
		n, 5, func() {
			for i := 0; i < n; i++ {
				if _, err := conn.WriteTo([]byte("x"), closed); err != nil {
					t.Fatal(err)
				}
			}
		})
}
