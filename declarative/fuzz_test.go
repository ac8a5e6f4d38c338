package declarative

import (
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// FuzzParseExpr feeds arbitrary filter and value expressions to the parser:
// errors are fine, panics are not.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		`comm == "hx-work"`, `pid > 10 && !(cpu == 1 || uid != 0)`, `args.prev->comm =~ "kworker*"`,
		`str(args.filename, 32)`, `(a + b) * c % 7 << 2 >> 1 ^ ~d & e | f`, `-1`, `""`, `((((`, `a->`, `=~`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = parseExpr(src)
		_, _ = parseList(src)
	})
}

// FuzzCompileTracepoint compiles a counter on a tracepoint with an arbitrary
// filter and label expression against this kernel's tracefs: any input gives
// a spec or an error, never a panic.
func FuzzCompileTracepoint(f *testing.F) {
	f.Add(`comm == "x"`, `tgid`)
	f.Add(`count > 100 && fd != 1`, `fd`)
	f.Add(`buf`, `comm`)
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		f.Skip("no kernel BTF:", err)
	}
	f.Fuzz(func(t *testing.T, filter, label string) {
		cfg := &config.Config{Name: "fuzz", Path: "fuzz.yaml", Metrics: config.Metrics{Counters: []config.Counter{{
			Name: "fuzz_total", Help: "fuzz",
			Source: config.Source{Probe: "tracepoint/syscalls/sys_enter_write", Filter: filter},
			Labels: []config.Label{{Name: "l", Value: label}},
		}}}}
		_, _ = Compile(cfg, Options{KernelBTF: kernel})
	})
}
