package test

import (
	"bufio"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Tests of declarative configs: YAML metrics whose programs the exporter
// generates (package declarative). The workload runs as "hx-work" (a copy of
// the test target) so filters on comm see only it; bpftrace, where
// installed, measures the same events as an independent oracle.

const hxWorkPath = "/tmp/ebpf_exporter_test/hx-work"

// hxWork runs the workload under the name hx-work and returns its pid.
func hxWork(t *testing.T, args ...string) int {
	t.Helper()
	target(t, "getpid", "0") // builds targetPath
	if _, err := os.Stat(hxWorkPath); err != nil {
		data, err := os.ReadFile(targetPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hxWorkPath+".tmp", data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(hxWorkPath+".tmp", hxWorkPath); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(hxWorkPath, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hx-work %v: %v\n%s", args, err, out)
	}
	return cmd.Process.Pid
}

// declConfig writes a config as DIR/NAME.yaml (no .bpf.o) and returns DIR.
func declConfig(t *testing.T, name, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// procsYAML is the config of the issue, verbatim.
const procsYAML = `metrics:
  counters:
    - name: hx_decl_getpid_calls_total
      help: getpid calls by process
      probe: tracepoint/syscalls/sys_enter_getpid
      filter: comm == "hx-work"
      labels:
        - name: pid
          value: tgid
  histograms:
    - name: hx_decl_write_size_bytes
      help: write sizes by process
      probe: tracepoint/syscalls/sys_enter_write
      filter: comm == "hx-work"
      value: count
      bucket_type: exp2
      bucket_min: 0
      bucket_max: 20
      labels:
        - name: pid
          value: tgid
`

var writeSizes = []uint64{0, 1, 2, 3, 4, 5, 7, 8, 9, 100, 1000, 1024, 1025, 4096, 65536, 1 << 20, 1<<20 + 1, 3 << 20}

func writeArgs(sizes []uint64) []string {
	args := []string{"write"}
	for _, s := range sizes {
		args = append(args, strconv.FormatUint(s, 10))
	}
	return args
}

// histogramOf returns the histogram series of a family with labels want.
func histogramOf(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Histogram {
	t.Helper()
	m := find(fams, name, want)
	if m == nil || m.Histogram == nil {
		t.Fatalf("no histogram %s%v", name, want)
	}
	return m.Histogram
}

// checkExp2 compares an exp2 histogram with the per-bucket counts of values.
func checkExp2(t *testing.T, h *dto.Histogram, values map[uint64]uint64, bucketMax int, multiplier float64) {
	t.Helper()
	want := make([]uint64, bucketMax+1)
	var n, sum uint64
	for v, c := range values {
		want[exp2Bucket(v, bucketMax)] += c
		n += c
		sum += v * c
	}
	if h.GetSampleCount() != n {
		t.Errorf("count: got %d, want %d", h.GetSampleCount(), n)
	}
	if got, w := h.GetSampleSum(), float64(sum)*multiplier; math.Abs(got-w) > 1e-9*math.Max(1, w) {
		t.Errorf("sum: got %v, want %v", got, w)
	}
	var cum uint64
	for k := 0; k <= bucketMax && k < len(h.Bucket); k++ {
		cum += want[k]
		if got := h.Bucket[k].GetCumulativeCount(); got != cum {
			t.Errorf("bucket le=%v: got %d, want %d", h.Bucket[k].GetUpperBound(), got, cum)
		}
	}
}

func TestDeclarativeProcsExact(t *testing.T) {
	dir := declConfig(t, "procs", procsYAML)
	e := startExporter(t, "--config.dir="+dir, "--config.names=procs")
	requireAttached(t, e.scrape(), "procs")
	for _, n := range []int{1, 1000, 12345} {
		pid := hxWork(t, "getpid", strconv.Itoa(n))
		if got := value(t, e.scrape(), "ebpf_exporter_hx_decl_getpid_calls_total", pidLabel(pid)); got != float64(n) {
			t.Errorf("getpid calls of pid %d: got %v, want %d", pid, got, n)
		}
	}
	// Another process name is filtered out.
	other, _ := target(t, "getpid", "100")
	if m := find(e.scrape(), "ebpf_exporter_hx_decl_getpid_calls_total", pidLabel(other)); m != nil {
		t.Errorf("pid %d is not hx-work but was counted: %v", other, m)
	}

	pid := hxWork(t, writeArgs(writeSizes)...)
	values := map[uint64]uint64{}
	for _, s := range writeSizes {
		values[s]++
	}
	h := histogramOf(t, e.scrape(), "ebpf_exporter_hx_decl_write_size_bytes", pidLabel(pid))
	if len(h.Bucket) != 22 {
		t.Fatalf("got %d buckets, want 21 and +Inf", len(h.Bucket))
	}
	checkExp2(t, h, values, 20, 1)
	if drops := value(t, e.scrape(), "ebpf_exporter_declarative_dropped_updates_total", map[string]string{"metric": "hx_decl_getpid_calls_total"}); drops != 0 {
		t.Errorf("drops: %v", drops)
	}
}

// bpftraceRun is a bpftrace process printing its maps when interrupted.
type bpftraceRun struct {
	cmd *exec.Cmd
	out chan string
}

// startBpftrace runs a bpftrace script and waits until its probes are attached.
func startBpftrace(t *testing.T, script string) *bpftraceRun {
	t.Helper()
	path, err := exec.LookPath("bpftrace")
	if err != nil {
		t.Skip("bpftrace is not installed")
	}
	cmd := exec.Command(path, "-e", script)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &bpftraceRun{cmd: cmd, out: make(chan string, 1)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	r := bufio.NewReader(stdout)
	ready := make(chan bool, 1)
	go func() {
		line, err := r.ReadString('\n')
		ready <- err == nil && strings.HasPrefix(line, "Attaching")
		rest, _ := io.ReadAll(r)
		b.out <- string(rest)
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("bpftrace did not attach: %s", stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("bpftrace did not attach within 60s: %s", stderr.String())
	}
	time.Sleep(300 * time.Millisecond)
	return b
}

var bpftraceLine = regexp.MustCompile(`^@(\w*)(?:\[(.*)\])?: (\d+)$`)

// stop interrupts bpftrace and parses its maps: "@name[key]: N" lines, by
// "name[key]".
func (b *bpftraceRun) stop(t *testing.T) map[string]uint64 {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	_ = b.cmd.Process.Signal(syscall.SIGINT)
	var out string
	select {
	case out = <-b.out:
	case <-time.After(30 * time.Second):
		t.Fatal("bpftrace did not exit")
	}
	_ = b.cmd.Wait()
	got := map[string]uint64{}
	for _, line := range strings.Split(out, "\n") {
		m := bpftraceLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.ParseUint(m[3], 10, 64)
		got[m[1]+"["+m[2]+"]"] = n
	}
	return got
}

// TestDeclarativeAgreesWithBpftrace runs the procs config and its bpftrace
// twin over the same workload: counts and per-value histograms must agree.
func TestDeclarativeAgreesWithBpftrace(t *testing.T) {
	dir := declConfig(t, "procs", procsYAML)
	e := startExporter(t, "--config.dir="+dir, "--config.names=procs")
	bt := startBpftrace(t, `
tracepoint:syscalls:sys_enter_getpid /comm == "hx-work"/ { @getpid[pid] = count(); }
tracepoint:syscalls:sys_enter_write /comm == "hx-work"/ { @size[pid, args->count] = count(); @sum[pid] = sum(args->count); }`)
	p1 := hxWork(t, "getpid", "4321")
	p2 := hxWork(t, writeArgs(writeSizes)...)
	p3 := hxWork(t, "write", "3", "3", "17", "4096", "4097", "0")
	oracle := bt.stop(t)
	fams := e.scrape()

	if got, want := value(t, fams, "ebpf_exporter_hx_decl_getpid_calls_total", pidLabel(p1)), oracle["getpid["+strconv.Itoa(p1)+"]"]; got != float64(want) || want != 4321 {
		t.Errorf("getpid calls: exporter %v, bpftrace %d, workload 4321", got, want)
	}
	for _, pid := range []int{p2, p3} {
		values := map[uint64]uint64{}
		prefix := "size[" + strconv.Itoa(pid) + ", "
		for k, n := range oracle {
			if v, ok := strings.CutPrefix(k, prefix); ok {
				size, _ := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 64)
				values[size] += n
			}
		}
		if len(values) == 0 {
			t.Fatalf("bpftrace saw no writes of pid %d: %v", pid, oracle)
		}
		h := histogramOf(t, fams, "ebpf_exporter_hx_decl_write_size_bytes", pidLabel(pid))
		checkExp2(t, h, values, 20, 1)
		if got, want := h.GetSampleSum(), oracle["sum["+strconv.Itoa(pid)+"]"]; got != float64(want) {
			t.Errorf("pid %d: sum: exporter %v, bpftrace %d", pid, got, want)
		}
	}
}

// TestDeclarativeLanguage checks filters, operators, sums, linear
// histograms, raw_tp and tp_btf argument paths, strings and drops, each
// against counts the workload makes exactly.
func TestDeclarativeLanguage(t *testing.T) {
	const yaml = `metrics:
  counters:
    - name: hx_lang_write_bytes_total
      help: bytes written by hx-work, summed
      probe: tracepoint:syscalls:sys_enter_write
      filter: comm =~ "hx-w*" && count > 0
      value: count
      labels:
        - name: pid
          value: pid
    - name: hx_lang_mid_writes_total
      help: writes of 100 to 1000 bytes, or exactly 5
      probe: tracepoint/syscalls/sys_enter_write
      filter: comm == "hx-work" && ((count >= 100 && count <= 1000) || count == 5) && !(count == 1000)
      labels:
        - name: pid
          value: tgid
    - name: hx_lang_not_hx_total
      help: getppid calls of processes not named hx-work
      probe: tracepoint/syscalls/sys_enter_getppid
      filter: comm != "hx-work" && comm =~ "targe*"
      labels:
        - name: comm
          value: comm
    - name: hx_lang_rawtp_total
      help: getuid calls seen by raw_tp sys_enter, by syscall
      probe: raw_tp/sys_enter
      filter: comm == "hx-work" && id == 102
      labels:
        - name: syscall
          value: id
          decoders:
            - name: syscall
        - name: arg
          value: args.regs->di
    - name: hx_lang_tpbtf_total
      help: writes seen by tp_btf sys_enter, by size
      probe: tp_btf/sys_enter
      filter: comm == "hx-work" && id == 1
      labels:
        - name: size
          value: args.regs->dx
    - name: hx_lang_drops_total
      help: getpid calls by pid with room for 2 pids
      probe: tracepoint/syscalls/sys_enter_getpid
      filter: comm == "hx-work"
      max_entries: 2
      labels:
        - name: pid
          value: pid
  histograms:
    - name: hx_lang_linear
      help: write sizes in linear buckets of 10 bytes
      probe: tracepoint/syscalls/sys_enter_write
      filter: comm == "hx-work"
      value: count / 10
      bucket_type: linear
      bucket_min: 0
      bucket_max: 10
      bucket_multiplier: 10
      labels:
        - name: comm
          value: comm
`
	dir := declConfig(t, "lang", yaml)
	e := startExporter(t, "--config.dir="+dir, "--config.names=lang")
	requireAttached(t, e.scrape(), "lang")

	sizes := []uint64{0, 5, 5, 7, 99, 100, 101, 555, 1000, 1001, 4096}
	pid := hxWork(t, writeArgs(sizes)...)
	var total uint64
	mid := 0
	for _, s := range sizes {
		total += s
		if (s >= 100 && s <= 1000 || s == 5) && s != 1000 {
			mid++
		}
	}
	fams := e.scrape()
	if got := value(t, fams, "ebpf_exporter_hx_lang_write_bytes_total", pidLabel(pid)); got != float64(total) {
		t.Errorf("bytes written: got %v, want %d", got, total)
	}
	if got := value(t, fams, "ebpf_exporter_hx_lang_mid_writes_total", pidLabel(pid)); got != float64(mid) {
		t.Errorf("mid writes: got %v, want %d", got, mid)
	}
	for _, s := range []string{"0", "5", "4096"} {
		want := 0
		for _, v := range sizes {
			if strconv.FormatUint(v, 10) == s {
				want++
			}
		}
		if got := value(t, fams, "ebpf_exporter_hx_lang_tpbtf_total", map[string]string{"size": s}); got != float64(want) {
			t.Errorf("tp_btf writes of %s bytes: got %v, want %d", s, got, want)
		}
	}
	h := histogramOf(t, fams, "ebpf_exporter_hx_lang_linear", map[string]string{"comm": "hx-work"})
	if h.GetSampleCount() != uint64(len(sizes)) {
		t.Errorf("linear count: got %d, want %d", h.GetSampleCount(), len(sizes))
	}
	var cum uint64
	for k := 0; k <= 10; k++ {
		for _, s := range sizes {
			if b := min(s/10, 10); b == uint64(k) {
				cum++
			}
		}
		if got := h.Bucket[k].GetCumulativeCount(); got != cum {
			t.Errorf("linear bucket le=%v: got %d, want %d", h.Bucket[k].GetUpperBound(), got, cum)
		}
	}

	hxWork(t, "getuid", "77")
	if got := sumSeries(e.scrape(), "ebpf_exporter_hx_lang_rawtp_total", map[string]string{"syscall": "getuid"}); got != 77 {
		t.Errorf("raw_tp getuid: got %v, want 77", got)
	}

	target(t, "getppid", "33")
	hxWork(t, "getppid", "10")
	if got := value(t, e.scrape(), "ebpf_exporter_hx_lang_not_hx_total", map[string]string{"comm": "target"}); got != 33 {
		t.Errorf("getppid of target: got %v, want 33", got)
	}
	if m := find(e.scrape(), "ebpf_exporter_hx_lang_not_hx_total", map[string]string{"comm": "hx-work"}); m != nil {
		t.Errorf("hx-work counted by a comm != filter")
	}

	// Room for two pids: the first two are counted, the rest dropped.
	var pids []int
	for i := 0; i < 4; i++ {
		pids = append(pids, hxWork(t, "getpid", "50"))
	}
	fams = e.scrape()
	counted := 0
	for _, p := range pids {
		if m := find(fams, "ebpf_exporter_hx_lang_drops_total", pidLabel(p)); m != nil {
			counted++
		}
	}
	// Earlier hx-work runs of this test made no getpid calls, so the map
	// held only these.
	if counted != 2 {
		t.Errorf("%d pids counted, want 2 (max_entries)", counted)
	}
	if got := value(t, fams, "ebpf_exporter_declarative_dropped_updates_total", map[string]string{"metric": "hx_lang_drops_total"}); got != 100 {
		t.Errorf("dropped updates: got %v, want 100", got)
	}
}

// TestDeclarativeLatency measures syscall latency by syscall between
// sys_enter and sys_exit of a thread and a user function's latency between
// its uprobe and uretprobe: every call is matched exactly once.
func TestDeclarativeLatency(t *testing.T) {
	const yaml = `metrics:
  histograms:
    - name: hx_lat_syscall_seconds
      help: syscall latency of hx-work
      start:
        probe: tracepoint/raw_syscalls/sys_enter
        key: tid
        filter: comm == "hx-work"
      end:
        probe: tracepoint/raw_syscalls/sys_exit
        key: tid
      bucket_type: exp2
      bucket_min: 0
      bucket_max: 40
      bucket_multiplier: 0.000000001
      labels:
        - name: syscall
          value: id
          decoders:
            - name: syscall
    - name: hx_lat_work_seconds
      help: hx_target_work latency
      start:
        probe: uprobe:/tmp/ebpf_exporter_test/hx-work:hx_target_work
        key: tid
      end:
        probe: uretprobe:/tmp/ebpf_exporter_test/hx-work:hx_target_work
        key: tid
      value: elapsed
      bucket_type: exp2
      bucket_min: 0
      bucket_max: 40
      bucket_multiplier: 0.000000001
      labels:
        - name: pid
          value: pid
  counters:
    - name: hx_lat_work_args_total
      help: hx_target_work calls with an even argument below 100
      probe: uprobe:/tmp/ebpf_exporter_test/hx-work:hx_target_work
      filter: arg0 % 2 == 0 && arg0 < 100
      labels:
        - name: pid
          value: pid
`
	hxWork(t, "getpid", "0") // the uprobes need the binary
	dir := declConfig(t, "lat", yaml)
	e := startExporter(t, "--config.dir="+dir, "--config.names=lat")
	requireAttached(t, e.scrape(), "lat")
	bt := startBpftrace(t, `
tracepoint:raw_syscalls:sys_enter /comm == "hx-work"/ { @start[tid] = nsecs; }
tracepoint:raw_syscalls:sys_exit /@start[tid]/ { @n[args->id] = count(); delete(@start[tid]); }`)
	hxWork(t, "getppid", "321")
	pid := hxWork(t, "work", "1000")
	oracle := bt.stop(t)
	fams := e.scrape()
	h := histogramOf(t, fams, "ebpf_exporter_hx_lat_syscall_seconds", map[string]string{"syscall": "getppid"})
	if h.GetSampleCount() != 321 || oracle["n[110]"] != 321 {
		t.Errorf("getppid latencies: exporter %d, bpftrace %d, workload 321", h.GetSampleCount(), oracle["n[110]"])
	}
	if h.GetSampleSum() <= 0 || h.GetSampleSum() > 1 {
		t.Errorf("getppid latency sum %v s is implausible", h.GetSampleSum())
	}
	w := histogramOf(t, fams, "ebpf_exporter_hx_lat_work_seconds", pidLabel(pid))
	if w.GetSampleCount() != 1000 {
		t.Errorf("hx_target_work latencies: got %d, want 1000", w.GetSampleCount())
	}
	if got := value(t, fams, "ebpf_exporter_hx_lat_work_args_total", pidLabel(pid)); got != 50 {
		t.Errorf("even arguments below 100: got %v, want 50", got)
	}
}

// TestDeclarativeExamplesCheck runs --config.check on every example.
func TestDeclarativeExamplesCheck(t *testing.T) {
	target(t, "work", "1") // the uprobe example probes the test target
	examples, err := filepath.Glob("../examples/declarative/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, ex := range examples {
		name := strings.TrimSuffix(filepath.Base(ex), ".yaml")
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(exporterBinary(t), "--config.dir=../examples/declarative", "--config.names="+name, "--config.check").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "all configs loaded and attached") {
				t.Errorf("--config.check %s: %v\n%s", name, err, out)
			}
		})
	}
}

// TestDeclarativeErrors checks that mistakes are reported at their YAML
// line in the config's terms.
func TestDeclarativeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", `metrics:
  counters:
    - name: x_total
      help: x
      probe: tracepoint/syscalls/sys_enter_write
      filter: bytes > 10
      labels:
        - name: pid
          value: pid
`, []string{"bad.yaml:6", "tracepoint syscalls/sys_enter_write has no field bytes", "fields: __syscall_nr, fd, buf, count"}},
		{"type mismatch", `metrics:
  counters:
    - name: x_total
      help: x
      probe: tracepoint/sched/sched_switch
      filter: prev_comm > 3
      labels:
        - name: pid
          value: pid
`, []string{"bad.yaml:6", "prev_comm is a string (16 bytes), not a number"}},
		{"missing tracepoint", `metrics:
  counters:
    - name: x_total
      help: x
      probe: tracepoint/syscalls/sys_enter_nothing
      labels:
        - name: pid
          value: pid
`, []string{"bad.yaml:5", "tracepoint syscalls/sys_enter_nothing does not exist"}},
		{"btf member", `metrics:
  counters:
    - name: x_total
      help: x
      probe: tp_btf/sched_switch
      labels:
        - name: pid
          value: args.prev->pidd
`, []string{"bad.yaml:8", "prev has no member pidd", "struct task_struct has"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenvPrivileged(t)
			dir := declConfig(t, "bad", tc.yaml)
			out, err := exec.Command(exporterBinary(t), "--config.dir="+dir, "--config.names=bad", "--config.check").CombinedOutput()
			if err == nil {
				t.Fatalf("--config.check passed:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func testenvPrivileged(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// sumSeries adds the counters of a family whose labels include want.
func sumSeries(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
	f := fams[name]
	if f == nil {
		return 0
	}
outer:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue outer
			}
		}
		sum += m.GetCounter().GetValue()
	}
	return sum
}

// TestDeclarativeContextSwitchesAgreeWithBpftrace counts hx-work's context
// switches with tp_btf (BTF member paths, a kernel char array) while
// bpftrace counts them from the sched_switch tracepoint: the same events,
// so the same count.
func TestDeclarativeContextSwitchesAgreeWithBpftrace(t *testing.T) {
	const yaml = `metrics:
  counters:
    - name: hx_cs_total
      help: context switches of hx-work
      probe: tp_btf/sched_switch
      filter: args.prev->comm == "hx-work"
      labels:
        - name: pid
          value: args.prev->tgid
        - name: preempted
          value: preempt
`
	hxWork(t, "getpid", "0")
	dir := declConfig(t, "cs", yaml)
	e := startExporter(t, "--config.dir="+dir, "--config.names=cs")
	requireAttached(t, e.scrape(), "cs")
	bt := startBpftrace(t, `tracepoint:sched:sched_switch /args->prev_comm == "hx-work"/ { @cs[args->prev_pid] = count(); }`)
	var pids []int
	for i := 0; i < 3; i++ {
		pids = append(pids, hxWork(t, "getpid", "300000"))
	}
	oracle := bt.stop(t)
	fams := e.scrape()
	for _, pid := range pids {
		got := sumSeries(fams, "ebpf_exporter_hx_cs_total", pidLabel(pid))
		want := oracle["cs["+strconv.Itoa(pid)+"]"]
		if got != float64(want) || want == 0 {
			t.Errorf("pid %d: exporter %v context switches, bpftrace %d", pid, got, want)
		}
	}
}
