package test

import (
	"strings"
	"testing"
)

func TestProgramAlternatives(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=alternatives")
	fams := e.scrape()
	var listed []string
	for _, m := range fams["ebpf_exporter_ebpf_program_attached"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.Label {
			l[p.GetName()] = p.GetValue()
		}
		if l["config"] == "alternatives" {
			listed = append(listed, l["program"])
			if m.Gauge.GetValue() != 1 {
				t.Errorf("chosen alternative %s is not attached", l["program"])
			}
		}
	}
	if len(listed) != 1 {
		t.Fatalf("programs of the group in ebpf_program_attached: %v, want exactly the one chosen", listed)
	}
	chosen := listed[0]
	order := []string{"via_kprobe", "via_btf", "via_tp"}
	for _, p := range order {
		if p == chosen {
			break
		}
		// Every better alternative that was passed over is logged with its reason.
		lines := e.logLines("alternative program not used")
		found := false
		for _, l := range lines {
			if strings.Contains(l, "program="+p) && strings.Contains(l, "using="+chosen) && strings.Contains(l, "reason=") {
				found = true
			}
		}
		if !found {
			t.Errorf("no log line says why %s was passed over for %s; logs:\n%s", p, chosen, e.logs)
		}
	}
	t.Logf("chosen alternative: %s", chosen)
	pid, _ := target(t, "getpid", "2500")
	if got := value(t, e.scrape(), "ebpf_exporter_test_alt_getpid_calls_total", pidLabel(pid)); got != 2500 {
		t.Errorf("getpid calls: got %v, want 2500 (one program of the group counts)", got)
	}
}
