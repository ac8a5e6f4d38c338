package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// workloadEnv makes the test binary run the workload instead of the tests:
// E2E_WORKLOAD=RATE,SECONDS,SIZE... makes RATE getpid calls a second for
// SECONDS seconds, and every 10 ms one write to /dev/null of the next SIZE
// in turn, then exits.
const workloadEnv = "E2E_WORKLOAD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(workloadEnv); spec != "" {
		if err := runWorkload(spec); err != nil {
			fmt.Fprintln(os.Stderr, "workload:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runWorkload(spec string) error {
	f := strings.Split(spec, ",")
	if len(f) < 3 {
		return fmt.Errorf("%s=%q: want RATE,SECONDS,SIZE...", workloadEnv, spec)
	}
	rate, err := strconv.Atoi(f[0])
	if err != nil {
		return err
	}
	secs, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return err
	}
	var sizes []int
	for _, s := range f[2:] {
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		sizes = append(sizes, n)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	start := time.Now()
	end := start.Add(time.Duration(secs * float64(time.Second)))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	calls, writes := 0, 0
	for now := start; now.Before(end); now = <-tick.C {
		// Catch up to the rate since the start, so a late tick does not
		// lower the average.
		for target := int(float64(rate) * now.Sub(start).Seconds()); calls < target; calls++ {
			syscall.Getpid() // a raw getpid syscall, counted by core.bpf.o
		}
		if _, err := null.Write(buf[:sizes[writes%len(sizes)]]); err != nil {
			return err
		}
		writes++
	}
	return nil
}

// workload is a running workload process.
type workload struct {
	pid   int
	start time.Time
	end   time.Time
	done  chan struct{}
	err   error // the exit status, once done is closed
}

// startWorkload runs the workload in a child process.
func startWorkload(t *testing.T, rate int, d time.Duration, sizes ...int) *workload {
	t.Helper()
	spec := fmt.Sprintf("%d,%g", rate, d.Seconds())
	for _, s := range sizes {
		spec += "," + strconv.Itoa(s)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workloadEnv+"="+spec)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	w := &workload{start: time.Now(), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.pid = cmd.Process.Pid
	w.end = w.start.Add(d)
	go func() { w.err = cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.done
	})
	return w
}
