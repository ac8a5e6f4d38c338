package test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// bpfFDs counts the process's file descriptors by kind: bpf-prog, bpf-map,
// bpf_link and perf_event.
func bpfFDs(t *testing.T, pid int) map[string]int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, kind := range []string{"bpf-prog", "bpf-map", "bpf_link", "perf_event"} {
			if strings.Contains(target, kind) {
				out[kind]++
			}
		}
	}
	return out
}

// programIDs returns the program ids of a config from ebpf_program_info.
func programIDs(t *testing.T, e *exporter, config string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, m := range e.scrape()["ebpf_exporter_ebpf_program_info"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.Label {
			l[p.GetName()] = p.GetValue()
		}
		if l["config"] == config {
			ids[l["program"]] = l["id"]
		}
	}
	return ids
}

func reloadOnce(t *testing.T, e *exporter) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+e.addr+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := make([]byte, 4096)
	n, _ := resp.Body.Read(b)
	return resp.StatusCode, string(b[:n])
}

func TestHotReloadKeepsUnchangedAndLeaksNothing(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"core.yaml", "core.bpf.o", "hooks.yaml", "hooks.bpf.o"} {
		copyFile(t, "testdata/"+f, filepath.Join(dir, f))
	}
	hooks, err := os.ReadFile("testdata/hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := startExporter(t, "--config.dir="+dir, "--config.names=core,hooks", "--web.enable-lifecycle")
	requireAttached(t, e.scrape(), "core")
	requireAttached(t, e.scrape(), "hooks")
	pid, _ := target(t, "getpid", "99")
	coreIDs := programIDs(t, e, "core")
	hooksIDs := programIDs(t, e, "hooks")
	initial := bpfFDs(t, e.cmd.Process.Pid)
	t.Logf("file descriptors before reloads: %v", initial)

	const reloads = 100
	replaced := map[string]bool{} // ids of programs that reloads replaced
	for i := 0; i < reloads; i++ {
		// Change hooks.yaml every time (its help text), keep core.yaml.
		changed := strings.Replace(string(hooks), "help: getppid calls by process", fmt.Sprintf("help: getppid calls by process (v%d)", i), 1)
		writeFile(t, filepath.Join(dir, "hooks.yaml"), []byte(changed))
		before := programIDs(t, e, "hooks")
		if code, body := reloadOnce(t, e); code != 200 {
			t.Fatalf("reload %d: status %d: %s", i, code, body)
		}
		for _, id := range before {
			replaced[id] = true
		}
	}
	// Every replaced program is gone from the kernel (ids are never reused
	// soon, so this holds whatever else runs on the machine); the kernel
	// frees them asynchronously.
	for _, id := range programIDs(t, e, "hooks") {
		delete(replaced, id)
	}
	deadline := time.Now().Add(10 * time.Second)
	for id := range replaced {
		n, _ := strconv.Atoi(id)
		for {
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(n))
			if err != nil {
				break
			}
			p.Close()
			if time.Now().After(deadline) {
				t.Errorf("program %d, replaced by a reload, is still loaded", n)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("%d programs replaced by %d reloads, none left loaded", len(replaced), reloads)
	after := bpfFDs(t, e.cmd.Process.Pid)
	t.Logf("file descriptors after %d reloads: %v", reloads, after)
	for kind, n := range initial {
		if after[kind] != n {
			t.Errorf("%s file descriptors: %d before, %d after %d reloads", kind, n, after[kind], reloads)
		}
	}
	fams := e.scrape()
	requireAttached(t, fams, "core")
	requireAttached(t, fams, "hooks")
	if got := value(t, fams, "ebpf_exporter_test_getpid_calls_total", pidLabel(pid)); got != 99 {
		t.Errorf("unchanged config's counter after reloads: got %v, want 99 (kept)", got)
	}
	for p, id := range programIDs(t, e, "core") {
		if coreIDs[p] != id {
			t.Errorf("unchanged config's program %s was reloaded: id %s → %s", p, coreIDs[p], id)
		}
	}
	for p, id := range programIDs(t, e, "hooks") {
		if hooksIDs[p] == id {
			t.Errorf("changed config's program %s kept id %s", p, id)
		}
	}

	// A bad config keeps the running set.
	writeFile(t, filepath.Join(dir, "hooks.yaml"), []byte("metrics:\n  counters:\n    - name: x\n      hepl: typo\n"))
	code, body := reloadOnce(t, e)
	if code != 500 || !strings.Contains(body, "hooks.yaml") || !strings.Contains(body, "hepl") {
		t.Errorf("bad reload: status %d, body %q: want 500 naming the file and field", code, body)
	}
	requireAttached(t, e.scrape(), "hooks")

	// SIGHUP reloads too: removing hooks detaches it.
	if err := os.Remove(filepath.Join(dir, "hooks.yaml")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "hooks.yaml"), hooks)
	_ = e.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for {
		ids := programIDs(t, e, "hooks")
		changed := false
		for p, id := range ids {
			if hooksIDs[p] != id {
				changed = true
			}
		}
		if changed && len(e.logLines("configs reloaded")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload within 10s; logs:\n%s", e.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReloadNeedsLifecycleFlag(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core")
	if code, _ := reloadOnce(t, e); code != http.StatusForbidden {
		t.Errorf("POST /-/reload without --web.enable-lifecycle: status %d, want 403", code)
	}
}
