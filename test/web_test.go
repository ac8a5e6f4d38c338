package test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestLandingPageAndDebugMaps(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core,broken", "--debug")
	code, page := get(t, "http://"+e.addr+"/")
	if code != 200 {
		t.Fatalf("landing page: status %d", code)
	}
	for _, want := range []string{"/metrics", "/maps", "<td>core</td><td>count_getpid</td><td>tracepoint/syscalls/sys_enter_getpid</td><td>attached</td>",
		"<td>broken</td><td>needs_kprobes</td>", "not attached: "} {
		if !strings.Contains(page, want) {
			t.Errorf("landing page lacks %q", want)
		}
	}
	pid, _ := target(t, "getpid", "3")
	code, maps := get(t, "http://"+e.addr+"/maps")
	if code != 200 || !strings.Contains(maps, "# config core map test_getpid_calls_total") {
		t.Fatalf("/maps: status %d:\n%s", code, maps)
	}
	// The key is the pid as 4 little-endian bytes, then the value.
	key := []byte{byte(pid), byte(pid >> 8), byte(pid >> 16), byte(pid >> 24)}
	want := ""
	for _, b := range key {
		want += string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
	}
	if !strings.Contains(maps, want+" 3\n") {
		t.Errorf("/maps lacks the workload's entry %q:\n%s", want+" 3", maps)
	}
}

func TestDebugMapsNeedsFlag(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core")
	if code, _ := get(t, "http://"+e.addr+"/maps"); code == 200 {
		t.Error("/maps is served without --debug")
	}
}
