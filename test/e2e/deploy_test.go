package e2e

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/ebpf-exporter/ebpf_exporter/builtin"
)

const deployDir = "../../deploy"

// TestDeployPromtool checks the rules and the Prometheus config with
// promtool, as Prometheus would load them.
func TestDeployPromtool(t *testing.T) {
	promtool := lookTool(t, "promtool", "prometheus")
	rules, err := filepath.Glob(filepath.Join(deployDir, "*.rules.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no deploy/*.rules.yml (%v)", err)
	}
	for _, args := range [][]string{
		append([]string{"check", "rules"}, rules...),
		{"check", "config", filepath.Join(deployDir, "prometheus.yml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// knownMetrics are the metric names the built-ins and the exporter itself
// export, with the series names of histograms.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{"up": true}
	for _, e := range builtin.Catalogue() {
		c, err := builtin.Config(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Metrics.Counters {
			known["ebpf_exporter_"+m.Name] = true
		}
		for _, m := range c.Metrics.Histograms {
			for _, suffix := range []string{"", "_bucket", "_count", "_sum"} {
				known["ebpf_exporter_"+m.Name+suffix] = true
			}
		}
	}
	for _, self := range []string{"enabled_configs", "ebpf_program_attached", "ebpf_program_info",
		"decoder_errors_total", "series_dropped_total", "map_entries", "map_max_entries",
		"scrape_duration_seconds"} {
		known["ebpf_exporter_"+self] = true
	}
	return known
}

// checkExpr parses a PromQL expression with Prometheus' own parser and
// checks that it selects only metrics the exporter has.
func checkExpr(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && !known[vs.Name] {
			t.Errorf("%s: %q selects %s, which no built-in config or self metric exports", where, expr, vs.Name)
		}
		return nil
	})
}

// grafanaVars are the dashboard's variables, replaced by values PromQL
// accepts before parsing.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "${instance}", "x", "$instance", "x")

// TestDashboard checks that the Grafana dashboard is JSON and that every
// PromQL expression in it parses and selects metrics the exporter has.
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "grafana", "ebpf_exporter.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	known := knownMetrics(t)
	n := 0
	types := map[string]int{}
	for _, p := range dash.Panels {
		types[p.Type]++
		for _, tg := range p.Targets {
			if strings.Contains(grafanaVars.Replace(tg.Expr), "$") {
				t.Errorf("panel %q: unknown variable in %q", p.Title, tg.Expr)
			}
			checkExpr(t, "panel "+p.Title, grafanaVars.Replace(tg.Expr), known)
			n++
		}
	}
	if n < 20 || types["heatmap"] < 5 {
		t.Errorf("%d expressions, %d heatmaps: the dashboard lost panels", n, types["heatmap"])
	}
	// The cache hit ratio per CPU, as the issue asked for it.
	if !strings.Contains(string(data), "1 - rate(ebpf_exporter_llc_misses_total") {
		t.Error("no LLC hit ratio panel")
	}
}

// TestRulesParse parses every rule expression with Prometheus' parser and
// checks the metric names (promtool checks syntax, not names).
func TestRulesParse(t *testing.T) {
	rules, _ := filepath.Glob(filepath.Join(deployDir, "*.rules.yml"))
	known := knownMetrics(t)
	recorded := map[string]bool{}
	type rule struct{ Record, Alert, Expr string }
	var all []rule
	for _, f := range rules {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct{ Groups []struct{ Rules []rule } }
		if err := yaml.Unmarshal(data, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					recorded[r.Record] = true
				}
				all = append(all, r)
			}
		}
	}
	for k := range recorded {
		known[k] = true
	}
	for _, r := range all {
		checkExpr(t, "rule "+r.Record+r.Alert, r.Expr, known)
	}
	if len(recorded) < 5 || len(all)-len(recorded) < 5 {
		t.Errorf("%d recording and %d alerting rules", len(recorded), len(all)-len(recorded))
	}
}

// TestSystemdUnit verifies the unit with systemd-analyze, pointing ExecStart
// at a binary that exists.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(deployDir, "ebpf_exporter.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "AmbientCapabilities=CAP_BPF CAP_PERFMON", "NoNewPrivileges=yes", "ProtectSystem=strict"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %s", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: the unit is not verified")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "ebpf_exporter.service")
	fixed := strings.ReplaceAll(string(unit), "/usr/local/bin/ebpf_exporter", "/bin/true")
	if err := os.WriteFile(p, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", p).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestKubernetesManifests checks that the DaemonSet mounts what the
// exporter reads and adds the capabilities it needs, and that the
// PodMonitor selects its pods.
func TestKubernetesManifests(t *testing.T) {
	docs := map[string]map[string]any{}
	for _, f := range []string{"daemonset.yaml", "podmonitor.yaml"} {
		data, err := os.ReadFile(filepath.Join(deployDir, "kubernetes", f))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var d map[string]any
			if err := dec.Decode(&d); err != nil {
				break
			}
			docs[d["kind"].(string)] = d
		}
	}
	ds, pm := docs["DaemonSet"], docs["PodMonitor"]
	if ds == nil || pm == nil {
		t.Fatalf("kinds %v: want DaemonSet and PodMonitor", slices.Collect(maps.Keys(docs)))
	}
	text, _ := json.Marshal(ds)
	for _, want := range []string{`"/sys/kernel/btf"`, `"/sys/kernel/tracing"`, `"/sys/fs/bpf"`, `"/sys/fs/cgroup"`, `"hostPID":true`, `"BPF"`, `"PERFMON"`, `"DAC_READ_SEARCH"`, `"SYSLOG"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("DaemonSet lacks %s", want)
		}
	}
	if regexp.MustCompile(`"privileged":true`).Match(text) {
		t.Error("DaemonSet is privileged")
	}
	pmText, _ := json.Marshal(pm)
	if !strings.Contains(string(pmText), `"app.kubernetes.io/name":"ebpf-exporter"`) || !strings.Contains(string(pmText), `"port":"metrics"`) {
		t.Errorf("PodMonitor does not select the DaemonSet's pods and port: %s", pmText)
	}
}
