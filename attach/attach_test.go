package attach

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

//go:generate ./testdata/generate.sh

// Slots of the counts map in testdata/counters.bpf.c.
const (
	slotTracepoint = iota
	slotRawTP
	slotTPBTF
	slotUprobe
	slotUSDT
	slotXDP
	slotIter
	slotKprobe
)

// loadCounters loads testdata/counters.bpf.o with the filter constants set,
// and lets edit adjust the spec (section names) before loading.
func loadCounters(t *testing.T, port uint16, edit func(*ebpf.CollectionSpec)) (*ebpf.Collection, *ebpf.CollectionSpec) {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpec("testdata/counters.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]any{
		"target_tgid":    uint32(os.Getpid()),
		"target_syscall": uint64(unix.SYS_GETPPID),
		"target_port":    port,
	} {
		if err := spec.Variables[name].Set(value); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	if edit != nil {
		edit(spec)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatalf("load counters: %v", err)
	}
	t.Cleanup(coll.Close)
	return coll, spec
}

// attachProg attaches one program of the collection and closes it at the
// end of the test, checking that Close succeeds.
func attachProg(t *testing.T, coll *ebpf.Collection, spec *ebpf.CollectionSpec, name string) *Attachment {
	t.Helper()
	a, err := Program(coll.Programs[name], spec.Programs[name], Options{})
	if err != nil {
		t.Fatalf("attach %s: %v", name, err)
	}
	t.Logf("%s: kind %s, target %s, %d links", name, a.Kind, a.Target, len(a.Links))
	t.Cleanup(func() { closeAndCheck(t, a) })
	return a
}

// closeAndCheck closes a and checks that the kernel dropped every link.
func closeAndCheck(t *testing.T, a *Attachment) {
	t.Helper()
	var ids []link.ID
	for _, l := range a.Links {
		info, err := l.Info()
		if err != nil {
			t.Errorf("link info: %v", err)
			continue
		}
		ids = append(ids, info.ID)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, id := range ids {
		for {
			l, err := link.NewFromID(id)
			if err != nil {
				break
			}
			_ = l.Close()
			if time.Now().After(deadline) {
				t.Errorf("link %d still exists after Close", id)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func count(t *testing.T, coll *ebpf.Collection, slot uint32) uint64 {
	t.Helper()
	var v uint64
	if err := coll.Maps["counts"].Lookup(slot, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const syscalls = 1000

// getpids makes n raw getppid syscalls. Not getpid: the Go runtime calls
// getpid itself to signal its threads (async preemption), which made exact
// counts of the test process's getpid calls flaky under load.
func getpids(n int) {
	for range n {
		unix.Getppid()
	}
}

func TestTracepoint(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, section := range []string{"tracepoint/syscalls/sys_enter_getppid", "tp/syscalls/sys_enter_getppid"} {
		t.Run(section, func(t *testing.T) {
			coll, spec := loadCounters(t, 0, nil)
			spec.Programs["tp_getpid"].SectionName = section
			a := attachProg(t, coll, spec, "tp_getpid")
			if a.Kind != "tracepoint" || a.Target != "syscalls/sys_enter_getppid" {
				t.Errorf("got kind %q target %q", a.Kind, a.Target)
			}
			getpids(syscalls)
			if got := count(t, coll, slotTracepoint); got != syscalls {
				t.Errorf("tracepoint counted %d getppid calls, want %d", got, syscalls)
			}
		})
	}
}

func TestTracepointMissing(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	ps := spec.Programs["tp_getpid"].Copy()
	ps.SectionName = "tracepoint/syscalls/sys_enter_no_such_call"
	_, err := Program(coll.Programs["tp_getpid"], ps, Options{})
	want := `section "tracepoint/syscalls/sys_enter_no_such_call": tracepoint syscalls/sys_enter_no_such_call does not exist on this kernel`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want %q wrapping os.ErrNotExist", err, want)
	}
}

func TestRawTracepoint(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, tc := range []struct {
		prog, kind string
		slot       uint32
	}{
		{"raw_sys_enter", "raw_tracepoint", slotRawTP},
		{"btf_sys_enter", "tp_btf", slotTPBTF},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			coll, spec := loadCounters(t, 0, nil)
			a := attachProg(t, coll, spec, tc.prog)
			if a.Kind != tc.kind || a.Target != "sys_enter" {
				t.Errorf("got kind %q target %q", a.Kind, a.Target)
			}
			getpids(syscalls)
			if got := count(t, coll, tc.slot); got != syscalls {
				t.Errorf("%s counted %d getppid calls, want %d", tc.kind, got, syscalls)
			}
		})
	}
}

// buildProbed compiles testdata/probed.c into a temporary directory.
func buildProbed(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Skip(t, "needs gcc to build the probed binary")
	}
	bin := filepath.Join(t.TempDir(), "probed")
	out, err := exec.Command(gcc, "-O2", "-o", bin, "testdata/probed.c").CombinedOutput()
	if err != nil && strings.Contains(string(out), "sys/sdt.h") {
		testenv.Skip(t, "needs <sys/sdt.h> (apt-get install systemtap-sdt-dev)")
	}
	if err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// runProbed runs the probed binary for n iterations and returns its output.
func runProbed(t *testing.T, bin string, n int) string {
	t.Helper()
	out, err := exec.Command(bin, strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	return string(out)
}

func TestUprobe(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildProbed(t)
	coll, spec := loadCounters(t, 0, nil)
	// The loader rewrites BINARY the same way for user configs.
	spec.Programs["uprobe_func"].SectionName = "uprobe/" + bin + ":target_func"
	a := attachProg(t, coll, spec, "uprobe_func")
	if a.Kind != "uprobe" || a.Target != bin+":target_func" {
		t.Errorf("got kind %q target %q", a.Kind, a.Target)
	}
	const n = 777
	runProbed(t, bin, n)
	if got := count(t, coll, slotUprobe); got != n {
		t.Errorf("uprobe counted %d calls, want %d", got, n)
	}
}

func TestUprobeMissingSymbol(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildProbed(t)
	coll, spec := loadCounters(t, 0, nil)
	spec.Programs["uprobe_func"].SectionName = "uprobe/" + bin + ":no_such_func"
	_, err := Program(coll.Programs["uprobe_func"], spec.Programs["uprobe_func"], Options{})
	if err == nil || !strings.Contains(err.Error(), "no_such_func") {
		t.Errorf("got %v, want an error naming the symbol", err)
	}
}

func TestUSDT(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildProbed(t)

	if out := runProbed(t, bin, 1); !strings.Contains(out, "semaphore=0\n") {
		t.Fatalf("semaphore raised before attaching: %q", out)
	}

	coll, spec := loadCounters(t, 0, nil)
	spec.Programs["usdt_hit"].SectionName = "usdt/" + bin + ":ebpftest:hit"
	a := attachProg(t, coll, spec, "usdt_hit")
	if a.Kind != "usdt" || len(a.Links) != 1 {
		t.Errorf("got kind %q, %d links", a.Kind, len(a.Links))
	}
	const n = 555
	out := runProbed(t, bin, n)
	if !strings.Contains(out, "semaphore=1\n") {
		t.Errorf("semaphore not raised while attached: %q", out)
	}
	if got := count(t, coll, slotUSDT); got != n {
		t.Errorf("usdt counted %d probe hits, want %d", got, n)
	}
}

func TestUSDTNotes(t *testing.T) {
	bin := buildProbed(t)
	notes, err := ReadUSDTNotes(bin)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 {
		t.Fatalf("got %d notes, want 1: %+v", len(notes), notes)
	}
	n := notes[0]
	if n.Provider != "ebpftest" || n.Name != "hit" || n.Args == "" || n.Semaphore == 0 || n.SemaphoreOffset == 0 || n.Offset == 0 {
		t.Errorf("unexpected note %+v", n)
	}
	// Cross-check the note's addresses against readelf when it is there.
	if readelf, err := exec.LookPath("readelf"); err == nil {
		out, err := exec.Command(readelf, "-n", bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Location: 0x" + hex(n.Location), "Semaphore: 0x" + hex(n.Semaphore), "Arguments: " + n.Args} {
			if !strings.Contains(string(out), want) {
				t.Errorf("readelf -n lacks %q:\n%s", want, out)
			}
		}
	}
}

func hex(v uint64) string { return fmt.Sprintf("%016x", v) }

func TestUSDTMissingProbe(t *testing.T) {
	testenv.RequirePrivileged(t)
	bin := buildProbed(t)
	coll, spec := loadCounters(t, 0, nil)
	spec.Programs["usdt_hit"].SectionName = "usdt/" + bin + ":ebpftest:nope"
	_, err := Program(coll.Programs["usdt_hit"], spec.Programs["usdt_hit"], Options{})
	if err == nil || !strings.Contains(err.Error(), "has no USDT probe ebpftest:nope") {
		t.Errorf("got %v", err)
	}
}

func TestPerfEventSoftware(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	a := attachProg(t, coll, spec, "cpu_clock")
	cpus, err := onlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Links) != len(cpus) || !strings.HasPrefix(a.Target, "cpu-clock on ") {
		t.Errorf("got %d links for %d CPUs, target %q", len(a.Links), len(cpus), a.Target)
	}

	// Keep every CPU busy for a while: 1000 Hz gives ~200 samples each.
	var wg sync.WaitGroup
	stop := time.Now().Add(200 * time.Millisecond)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
			}
		}()
	}
	wg.Wait()

	for _, cpu := range cpus {
		var v uint64
		if err := coll.Maps["cpu_samples"].Lookup(uint32(cpu), &v); err != nil {
			t.Fatal(err)
		}
		t.Logf("CPU %d: %d samples", cpu, v)
		if v == 0 {
			t.Errorf("CPU %d: no cpu-clock samples", cpu)
		}
	}
}

func TestPerfEventHardware(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	a, err := Program(coll.Programs["cpu_cycles"], spec.Programs["cpu_cycles"], Options{})
	if _, statErr := os.Stat("/sys/bus/event_source/devices/cpu"); statErr == nil {
		// A machine with a CPU PMU: attaching must work.
		if err != nil {
			t.Fatalf("hardware perf event on a machine with a PMU: %v", err)
		}
		closeAndCheck(t, a)
		return
	}
	want := `section "perf_event/type=0,config=0,frequency=99": no hardware PMU for perf event type=0,config=0`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want prefix %q", err, want)
	}
}

func TestXDP(t *testing.T) {
	testenv.RequirePrivileged(t)
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	port := rx.LocalAddr().(*net.UDPAddr).Port

	coll, spec := loadCounters(t, uint16(port), nil)
	a := attachProg(t, coll, spec, "xdp_udp")
	if a.Kind != "xdp" || !strings.HasPrefix(a.Target, "lo (") {
		t.Errorf("got kind %q target %q", a.Kind, a.Target)
	}

	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	const n = 100
	buf := make([]byte, 64)
	for i := range n {
		if _, err := tx.Write([]byte("ebpf")); err != nil {
			t.Fatal(err)
		}
		// Read each one back so the socket never drops (not that XDP cares).
		_ = rx.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := rx.ReadFromUDP(buf); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if got := count(t, coll, slotXDP); got != n {
		t.Errorf("xdp counted %d packets to port %d, want %d", got, port, n)
	}
}

func TestXDPBare(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	ps := spec.Programs["xdp_udp"].Copy()
	ps.SectionName = "xdp"
	_, err := Program(coll.Programs["xdp_udp"], ps, Options{})
	if err == nil || !strings.Contains(err.Error(), "xdp program needs its interface in the section: xdp/IFNAME") ||
		!errors.Is(err, ErrUnsupportedSection) {
		t.Errorf("got %v", err)
	}
}

func TestIter(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	a := attachProg(t, coll, spec, "iter_task")
	if a.Iter == nil || a.Kind != "iter" || a.Target != "task" {
		t.Fatalf("got %+v", a)
	}
	for range 2 {
		r, err := a.Iter.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	if got := count(t, coll, slotIter); got == 0 {
		t.Error("iter/task counted no tasks")
	} else {
		t.Logf("iter/task: %d tasks over two runs", got)
	}
}

func TestKprobe(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	for _, name := range []string{"kprobe_open", "kretprobe_open"} {
		a, err := Program(coll.Programs[name], spec.Programs[name], Options{})
		if haveKprobes() {
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			closeAndCheck(t, a)
			continue
		}
		want := `: kernel has no kprobe support (CONFIG_KPROBES off)`
		if err == nil || !strings.HasSuffix(err.Error(), want) || !errors.Is(err, ErrNoKprobes) {
			t.Errorf("%s: got %v, want suffix %q", name, err, want)
		}
	}
}

func TestFentry(t *testing.T) {
	testenv.RequirePrivileged(t)
	spec, err := ebpf.LoadCollectionSpec("testdata/fentry.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if errors.Is(err, unix.EPERM) {
		// Kernels in lockdown refuse fentry/fexit at load time already.
		err = LoadError(spec.Programs["fentry_open"], err)
		if !strings.Contains(err.Error(), `section "fentry/do_sys_openat2": kernel lockdown forbids fentry/fexit`) {
			t.Errorf("load error lacks the lockdown reason: %v", err)
		}
		t.Logf("fentry does not load here: %v", err)
		return
	}
	if err != nil {
		t.Fatalf("load fentry: %v", err)
	}
	defer coll.Close()
	for _, name := range []string{"fentry_open", "fexit_open"} {
		a, err := Program(coll.Programs[name], spec.Programs[name], Options{})
		if errors.Is(err, unix.EPERM) {
			if !strings.Contains(err.Error(), "kernel lockdown forbids fentry/fexit") {
				t.Errorf("%s: EPERM without the lockdown reason: %v", name, err)
			}
			t.Logf("%s: %v", name, err)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		closeAndCheck(t, a)
	}
}

func TestUnsupportedSection(t *testing.T) {
	testenv.RequirePrivileged(t)
	coll, spec := loadCounters(t, 0, nil)
	for _, section := range []string{"socket", "bogus/thing", "kprobe", "perf_event", "tracepoint/onlyone", "perf_event/type=1"} {
		ps := spec.Programs["tp_getpid"].Copy()
		ps.SectionName = section
		_, err := Program(coll.Programs["tp_getpid"], ps, Options{})
		if !errors.Is(err, ErrUnsupportedSection) || !strings.Contains(err.Error(), `"`+section+`"`) {
			t.Errorf("section %q: got %v, want ErrUnsupportedSection naming the section", section, err)
		}
	}
}
