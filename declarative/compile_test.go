package declarative

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// TestLoadConstructs loads every construct of testdata/constructs.yaml into
// the kernel: the verifier accepts what the compiler generates.
func TestLoadConstructs(t *testing.T) {
	l := load(t, "testdata/constructs.yaml")
	if len(l.Programs) != 8 {
		t.Errorf("%d programs, want 8", len(l.Programs))
	}
	var cfgLabels []config.Label
	for _, c := range l.Config.Metrics.Counters {
		if c.Name == "t_saddr" {
			cfgLabels = c.Labels
		}
	}
	if len(cfgLabels) != 1 || cfgLabels[0].Size != 4 || cfgLabels[0].Decoders[0].Name != "inet_ip" {
		t.Errorf("saddr label: %+v", cfgLabels)
	}
}

func TestParseExpr(t *testing.T) {
	for _, tc := range []struct{ src, err string }{
		{`comm == "x" && (pid > 3 || !tid)`, ""},
		{`args.prev->se.vruntime >> 30`, ""},
		{`a +`, "expression ends too early"},
		{`(a`, "expected )"},
		{`"abc`, "unterminated string"},
		{`a $ b`, "unexpected character"},
		{`str(filename, 32)`, ""},
	} {
		_, err := parseExpr(tc.src)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.err)
		}
	}
}

// TestCompileErrors checks that compile errors name the YAML line and say
// what is wrong in the config's terms.
func TestCompileErrors(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/tracing/events/syscalls"); err != nil {
		t.Skip("needs tracefs with syscall tracepoints")
	}
	head := "metrics:\n  counters:\n    - name: x_total\n      help: x\n"
	for _, tc := range []struct{ body, want string }{
		{"      probe: nope/x\n      labels:\n        - name: a\n          value: pid\n", "bad.yaml:5: metrics.counters.0.probe: unknown probe"},
		{"      probe: tracepoint/syscalls/sys_enter_write\n      filter: comm == 3\n      labels:\n        - name: a\n          value: pid\n",
			"bad.yaml:6: metrics.counters.0.filter: == compares comm with 3: strings can only be compared with a string literal"},
		{"      probe: tracepoint/syscalls/sys_enter_write\n      filter: count =~ \"x\"\n      labels:\n        - name: a\n          value: pid\n",
			"count is a number (u64); it cannot be compared with the string"},
		{"      probe: tracepoint/syscalls/sys_enter_write\n      labels:\n        - name: a\n          value: comm == \"a-very-long-name-indeed\"\n",
			"bad.yaml:8: metrics.counters.0.labels.0.value: \"a-very-long-name-indeed\" is longer than comm can hold"},
		{"      probe: tracepoint/syscalls/sys_enter_write\n      labels:\n        - name: a\n          value: retval\n",
			"retval is only for uretprobe and kretprobe probes"},
		{"      probe: tracepoint/syscalls/sys_enter_write\n      labels:\n        - name: a\n          value: elapsed\n",
			"elapsed is only known in a metric with start and end probes"},
		{"      probe: uprobe:/bin/true:main\n      labels:\n        - name: a\n          value: count\n",
			"uprobe probes offer arg0..arg5"},
		{"      probe: tp_btf/sched_switch\n      labels:\n        - name: a\n          value: args.prev\n",
			""},
		{"      probe: tp_btf/sched_switch\n      labels:\n        - name: a\n          value: args.prev->se\n",
			"prev->se is a struct sched_entity: pick one of its members"},
		{"      start:\n        probe: tracepoint/syscalls/sys_enter_write\n        key: tid\n      end:\n        probe: tracepoint/syscalls/sys_exit_write\n        key: tid, fd\n      labels:\n        - name: a\n          value: pid\n",
			"end key has 2 parts but start key has 1"},
		{"      probe: tracepoint/syscalls/sys_enter_write\n      labels:\n        - name: a\n          value: pid\n      filter: count / 0\n",
			"division by zero"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(head+tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: config: %v", tc.body, err)
		}
		_, err = Compile(cfg, Options{})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.body, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\ngot  %v\nwant %q", tc.body, err, tc.want)
		}
	}
}
