package test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ebpf-exporter/ebpf_exporter/internal/exportertest"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// targetPath is where the uprobe and USDT configs expect the workload binary.
const targetPath = "/tmp/ebpf_exporter_test/target"

// exporterBinary is the exporter binary under test.
func exporterBinary(t *testing.T) string { return exportertest.Binary(t) }

var targetOnce sync.Once
var targetErr error

// target builds the workload binary at targetPath and runs it.
func target(t *testing.T, args ...string) (pid int, stdout string) {
	t.Helper()
	targetOnce.Do(func() {
		if err := os.MkdirAll(filepath.Dir(targetPath), 0o755); err != nil {
			targetErr = err
			return
		}
		out, err := exec.Command("gcc", "-O2", "-o", targetPath, "testdata/target.c").CombinedOutput()
		if err != nil {
			targetErr = fmt.Errorf("building the workload (needs gcc and systemtap-sdt-dev): %v\n%s", err, out)
		}
	})
	if targetErr != nil {
		t.Fatal(targetErr)
	}
	cmd := exec.Command(targetPath, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("target %v: %v", args, err)
	}
	return cmd.Process.Pid, out.String()
}

// exporter is a running ebpf_exporter process.
type exporter struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
}

type syncBuffer = exportertest.LogBuffer

func freeAddr(t *testing.T) string { return exportertest.FreeAddr(t, "127.0.0.1") }

// startExporter runs the exporter with args and waits until it serves metrics.
func startExporter(t *testing.T, args ...string) *exporter {
	t.Helper()
	testenv.RequirePrivileged(t)
	addr := freeAddr(t)
	e := &exporter{t: t, addr: addr, logs: &syncBuffer{}}
	e.cmd = exec.Command(exporterBinary(t), append([]string{"--web.listen-address=" + addr}, args...)...)
	e.cmd.Stdout = e.logs
	e.cmd.Stderr = e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not serve metrics within 30s; logs:\n%s", e.logs)
		}
		if e.cmd.ProcessState != nil {
			t.Fatalf("exporter exited; logs:\n%s", e.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (e *exporter) stop() int {
	if e.cmd.ProcessState != nil {
		return e.cmd.ProcessState.ExitCode()
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- e.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
		e.t.Errorf("exporter did not exit within 20s of SIGTERM; logs:\n%s", e.logs)
	}
	return e.cmd.ProcessState.ExitCode()
}

// scrape fetches /metrics and parses it with the Prometheus text parser.
func (e *exporter) scrape() map[string]*dto.MetricFamily {
	e.t.Helper()
	resp, err := http.Get("http://" + e.addr + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	return fams
}

// find returns the metric of a family whose labels include want, or nil.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
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
		return m
	}
	return nil
}

// value of a counter or gauge, failing the test when it is absent.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	m := find(fams, name, want)
	if m == nil {
		t.Fatalf("no series %s%v", name, want)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	t.Fatalf("%s%v is not a counter or gauge", name, want)
	return 0
}

// requireAttached fails unless every program of config is attached.
func requireAttached(t *testing.T, fams map[string]*dto.MetricFamily, config string) {
	t.Helper()
	f := fams["ebpf_exporter_ebpf_program_attached"]
	if f == nil {
		t.Fatal("no ebpf_exporter_ebpf_program_attached")
	}
	n := 0
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["config"] != config {
			continue
		}
		n++
		if m.Gauge.GetValue() != 1 {
			t.Errorf("program %s of config %s is not attached", labels["program"], config)
		}
	}
	if n == 0 {
		t.Fatalf("config %s has no programs in ebpf_exporter_ebpf_program_attached", config)
	}
}

func pidLabel(pid int) map[string]string { return map[string]string{"pid": strconv.Itoa(pid)} }

// logLines returns the exporter's log lines containing s.
func (e *exporter) logLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
		}
	}
	return out
}
