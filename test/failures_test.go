package test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

func TestFailingProgramsDoNotStopOthers(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=broken,core")
	fams := e.scrape()
	requireAttached(t, fams, "core")
	state := map[string]float64{}
	for _, m := range fams["ebpf_exporter_ebpf_program_attached"].Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["config"] == "broken" {
			state[labels["program"]] = m.Gauge.GetValue()
		}
	}
	want := map[string]float64{"good": 1, "refused_by_verifier": 0, "missing_tracepoint": 0, "needs_kprobes": 0}
	for p, w := range want {
		if got, ok := state[p]; !ok || got != w {
			t.Errorf("program %s attached = %v (present %v), want %v", p, got, ok, w)
		}
	}
	pid, _ := target(t, "getpid", "42")
	fams = e.scrape()
	if got := value(t, fams, "ebpf_exporter_test_broken_ok_total", pidLabel(pid)); got != 42 {
		t.Errorf("good program count: got %v, want 42", got)
	}
	if got := value(t, fams, "ebpf_exporter_test_getpid_calls_total", pidLabel(pid)); got != 42 {
		t.Errorf("other config count: got %v, want 42", got)
	}
	if f := fams["ebpf_exporter_test_broken_dead_total"]; f != nil && len(f.Metric) > 0 {
		t.Errorf("metric fed only by unattached programs is exported: %v", f)
	}
	for _, want := range []string{"refused_by_verifier", "missing_tracepoint", "needs_kprobes"} {
		lines := e.logLines(want)
		if len(lines) == 0 {
			t.Errorf("no log line names program %s; logs:\n%s", want, e.logs)
			continue
		}
		if !strings.Contains(lines[0], "config=broken") || !strings.Contains(lines[0], "section=") {
			t.Errorf("log line for %s lacks config or section: %s", want, lines[0])
		}
	}
	if l := e.logLines("refused_by_verifier"); len(l) > 0 && !strings.Contains(l[0], "verifier log") {
		t.Errorf("verifier refusal does not carry the verifier log tail: %s", l[0])
	}
}

func runCheck(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(exporterBinary(t), append([]string{"--config.check"}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func TestStrictAndCheck(t *testing.T) {
	testenv.RequirePrivileged(t)
	out, code := runCheck(t, "--config.dir=testdata", "--config.names=core")
	if code != 0 {
		t.Errorf("--config.check of a good config exited %d:\n%s", code, out)
	}
	out, code = runCheck(t, "--config.dir=testdata", "--config.names=broken")
	if code == 0 || !strings.Contains(out, "refused_by_verifier") || !strings.Contains(out, "needs_kprobes") {
		t.Errorf("--config.check of a broken config exited %d without naming every failure:\n%s", code, out)
	}
	cmd := exec.Command(exporterBinary(t), "--config.strict", "--config.dir=testdata", "--config.names=broken", "--web.listen-address="+freeAddr(t))
	b, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("--config.strict with a failing program did not exit non-zero:\n%s", b)
	}
}

func TestConfigErrorsNameFileAndField(t *testing.T) {
	out, code := runCheck(t, "--config.dir=testdata/bad", "--config.names=typo")
	if code == 0 || !strings.Contains(out, "testdata/bad/typo.yaml") || !strings.Contains(out, "line 8") || !strings.Contains(out, "decoder") {
		t.Errorf("unknown field: exit %d, output does not name file, line and field:\n%s", code, out)
	}
	// keysize.yaml's pid label is 8 bytes but core.bpf.o's key is 4; the
	// loader must name the metric and both sizes. Point it at core's object.
	dir := t.TempDir()
	copyFile(t, "testdata/bad/keysize.yaml", dir+"/keysize.yaml")
	copyFile(t, "testdata/core.bpf.o", dir+"/keysize.bpf.o")
	out, code = runCheck(t, "--config.dir="+dir, "--config.names=keysize")
	if code == 0 || !strings.Contains(out, "test_getpid_calls_total") || !strings.Contains(out, "4") || !strings.Contains(out, "8") {
		t.Errorf("key size mismatch: exit %d, output does not name metric and sizes:\n%s", code, out)
	}
	// A file that is not a BPF object names the file.
	copyFile(t, "testdata/core.yaml", dir+"/junk.yaml")
	if err := os.WriteFile(dir+"/junk.bpf.o", []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = runCheck(t, "--config.dir="+dir, "--config.names=junk")
	if code == 0 || !strings.Contains(out, "junk.bpf.o") {
		t.Errorf("corrupt object: exit %d, output does not name the file:\n%s", code, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBTFPath(t *testing.T) {
	testenv.RequirePrivileged(t)
	out, code := runCheck(t, "--config.dir=testdata", "--config.names=core,hooks", "--btf.path=/sys/kernel/btf/vmlinux")
	if code != 0 {
		t.Errorf("--btf.path with the kernel's own BTF: exit %d:\n%s", code, out)
	}
	out, code = runCheck(t, "--config.dir=testdata", "--config.names=core", "--btf.path=testdata/core.yaml")
	if code == 0 || !strings.Contains(out, "--btf.path testdata/core.yaml") {
		t.Errorf("--btf.path with a file that is not BTF: exit %d, output does not name it:\n%s", code, out)
	}
}
