package test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func threadsOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads line")
	return 0
}

func TestIteratorRunsAtScrape(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=iter")
	requireAttached(t, e.scrape(), "iter")
	// A process started after the exporter: only an iteration at scrape
	// time can have seen it.
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	fams := e.scrape()
	if got := value(t, fams, "ebpf_exporter_test_iter_threads", pidLabel(sleep.Process.Pid)); got != 1 {
		t.Errorf("threads of sleep: got %v, want 1", got)
	}
	// The exporter itself is multi-threaded; compare with /proc when stable.
	for i := 0; i < 5; i++ {
		before := threadsOf(t, e.cmd.Process.Pid)
		got := value(t, e.scrape(), "ebpf_exporter_test_iter_threads", pidLabel(e.cmd.Process.Pid))
		if before == threadsOf(t, e.cmd.Process.Pid) {
			if got != float64(before) {
				t.Errorf("threads of the exporter: got %v, /proc says %d", got, before)
			}
			return
		}
	}
}
