package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

const (
	// workloadRate is the workload's getpid calls a second.
	workloadRate = 1000
	// workloadTime is how long the workload runs.
	workloadTime = 20 * time.Second
	// rateWindow is the range of the rate() queries, inside the workload.
	rateWindow     = "10s"
	protobufAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
)

// exporterArgs runs the test config "core" (test_getpid_calls_total{pid},
// test_write_size_bytes{pid}) with built-ins: runqlat (a native-ready time
// histogram), timers and llcstat (the seed's queries).
var exporterArgs = []string{"--config.dir=../testdata", "--config.names=core,runqlat,timers,llcstat"}

// TestPrometheus scrapes three exporters (127.0.0.2, .3, .4: one kernel,
// three scrape targets) with a real Prometheus that stores native
// histograms, and the first of them with a second Prometheus that stores
// classic buckets and federates the first. A workload makes getpid calls at
// a fixed rate and writes of known sizes; PromQL answers through the HTTP
// API must match it.
func TestPrometheus(t *testing.T) {
	testenv.RequirePrivileged(t)
	lookTool(t, "prometheus", "prometheus")
	ctx := t.Context()

	var exps []*exporter
	for _, host := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		exps = append(exps, startExporter(t, host, exporterArgs...))
	}
	// The first exporter is scraped through recording proxies, which show
	// what each Prometheus negotiated.
	viaNative := startRecorder(t, "127.0.0.2", exps[0].addr)
	viaClassic := startRecorder(t, "127.0.0.2", exps[0].addr)

	// Both load deploy/recording.rules.yml: its quantile rules have a
	// classic and a native half.
	rules, err := filepath.Abs(filepath.Join(deployDir, "recording.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	native := startPrometheus(t, "prometheus (native histograms)", fmt.Sprintf(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: ebpf
    static_configs: [{targets: [%q, %q, %q]}]
`, rules, viaNative.addr, exps[1].addr, exps[2].addr), "--enable-feature=native-histograms")
	classic := startPrometheus(t, "prometheus (classic, federating)", fmt.Sprintf(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: ebpf_classic
    static_configs: [{targets: [%q]}]
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{job="ebpf",__name__=~"ebpf_exporter_test_.*|ebpf_exporter_timer_starts_total"}']
    static_configs: [{targets: [%q]}]
`, rules, viaClassic.addr, native.addr))
	native.waitTargets(t, 3, 30*time.Second)
	classic.waitTargets(t, 2, 30*time.Second)

	// 25% of writes in (64, 128], 50% in (2048, 4096], 25% in (32768,
	// 65536]: the median is in (2048, 4096], 3072 by linear interpolation.
	w := startWorkload(t, workloadRate, workloadTime, 100, 3000, 3000, 50000)
	pid := strconv.Itoa(w.pid)
	at := w.start.Add(16 * time.Second) // rate windows [6s, 16s] of the workload
	sleepUntil(ctx, at.Add(3*time.Second))
	t.Logf("workload pid %s: %d getpid/s for %v; queries at workload start + 16s", pid, workloadRate, workloadTime)

	t.Run("rate", func(t *testing.T) {
		q := fmt.Sprintf(`rate(ebpf_exporter_test_getpid_calls_total{pid=%q}[%s])`, pid, rateWindow)
		res := native.query(t, q, at)
		if len(res) != 3 {
			t.Fatalf("%s: %d series, want 3 (one per exporter): %v", q, len(res), res)
		}
		for _, s := range res {
			t.Logf("%s{instance=%q} = %.1f", q, s.Metric["instance"], s.Value)
			if !within(s.Value, workloadRate, 0.10) {
				t.Errorf("%s{instance=%q} = %v, want %d ±10%%", q, s.Metric["instance"], s.Value, workloadRate)
			}
		}
	})

	t.Run("sum by instance", func(t *testing.T) {
		q := fmt.Sprintf(`sum by (instance) (rate(ebpf_exporter_test_getpid_calls_total{pid=%q}[%s]))`, pid, rateWindow)
		res := native.query(t, q, at)
		instances := map[string]bool{}
		for _, s := range res {
			instances[s.Metric["instance"]] = true
			t.Logf("%s: instance %s = %.1f", q, s.Metric["instance"], s.Value)
			if !within(s.Value, workloadRate, 0.10) {
				t.Errorf("instance %s: %v, want %d ±10%%", s.Metric["instance"], s.Value, workloadRate)
			}
		}
		for _, want := range []string{viaNative.addr, exps[1].addr, exps[2].addr} {
			if !instances[want] {
				t.Errorf("%s: no instance %s in %v", q, want, res)
			}
		}
		q = fmt.Sprintf(`sum(rate(ebpf_exporter_test_getpid_calls_total{pid=%q}[%s]))`, pid, rateWindow)
		if res := native.query(t, q, at); len(res) != 1 || !within(res[0].Value, 3*workloadRate, 0.10) {
			t.Errorf("%s = %v, want %d ±10%%", q, res, 3*workloadRate)
		} else {
			t.Logf("%s = %.1f", q, res[0].Value)
		}
	})

	t.Run("federation", func(t *testing.T) {
		// The federation endpoint itself: one series per exporter.
		match := fmt.Sprintf(`ebpf_exporter_test_getpid_calls_total{pid=%q}`, pid)
		resp, err := http.Get("http://" + native.addr + "/federate?match[]=" + url.QueryEscape(match))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := bytes.Count(body, []byte("ebpf_exporter_test_getpid_calls_total{")); n != 3 {
			t.Errorf("/federate?match[]=%s: %d series, want 3:\n%s", match, n, body)
		}
		// And the second Prometheus has them with the first one's labels.
		q := fmt.Sprintf(`sum by (instance) (rate(ebpf_exporter_test_getpid_calls_total{job="ebpf",pid=%q}[%s]))`, pid, rateWindow)
		res := classic.query(t, q, at)
		if len(res) != 3 {
			t.Fatalf("federated %s: %d series, want 3: %v", q, len(res), res)
		}
		for _, s := range res {
			t.Logf("federated %s: instance %s = %.1f", q, s.Metric["instance"], s.Value)
			if !within(s.Value, workloadRate, 0.10) {
				t.Errorf("federated instance %s: %v, want %d ±10%%", s.Metric["instance"], s.Value, workloadRate)
			}
		}
	})

	t.Run("negotiation", func(t *testing.T) {
		if ct := viaNative.contentTypes(); !hasPrefix(ct, "application/vnd.google.protobuf") {
			t.Errorf("the native-histogram Prometheus got %v, want protobuf", ct)
		} else {
			t.Logf("native Prometheus scrapes: %v", ct)
		}
		if ct := viaClassic.contentTypes(); !hasPrefix(ct, "application/openmetrics-text") {
			t.Errorf("the classic Prometheus got %v, want OpenMetrics", ct)
		} else {
			t.Logf("classic Prometheus scrapes: %v", ct)
		}
		// The native Prometheus stored a native histogram, not buckets; the
		// classic one stored buckets.
		h := native.query(t, fmt.Sprintf(`ebpf_exporter_test_write_size_bytes{instance=%q,pid=%q}`, viaNative.addr, pid), at)
		if len(h) != 1 || h[0].Histogram == nil {
			t.Errorf("native Prometheus: no native histogram for the workload: %v", h)
		} else {
			t.Logf("native histogram at %v: count %v, sum %v, buckets %v", at.Format(time.TimeOnly), h[0].Histogram.Count, h[0].Histogram.Sum, h[0].Histogram.Buckets)
		}
		if b := native.query(t, `count(ebpf_exporter_test_write_size_bytes_bucket)`, at); len(b) != 0 {
			t.Errorf("native Prometheus also stored classic buckets: %v", b)
		}
		if b := classic.query(t, fmt.Sprintf(`count(ebpf_exporter_test_write_size_bytes_bucket{pid=%q})`, pid), at); len(b) != 1 || b[0].Value != 22 {
			t.Errorf("classic Prometheus: %v bucket series, want 22 (21 bounds and +Inf)", b)
		}
	})

	t.Run("quantiles agree", func(t *testing.T) {
		qn := fmt.Sprintf(`histogram_quantile(0.5, rate(ebpf_exporter_test_write_size_bytes{instance=%q,pid=%q}[%s]))`, viaNative.addr, pid, rateWindow)
		qc := fmt.Sprintf(`histogram_quantile(0.5, rate(ebpf_exporter_test_write_size_bytes_bucket{job="ebpf_classic",pid=%q}[%s]))`, pid, rateWindow)
		n, c := one(t, native, qn, at), one(t, classic, qc, at)
		t.Logf("%s = %v\n%s = %v", qn, n, qc, c)
		for _, v := range []float64{n, c} {
			if !(v > 2048 && v <= 4096) {
				t.Errorf("median %v, want in (2048, 4096]: the bucket of the 3000-byte writes", v)
			}
		}
		if math.Max(n, c)/math.Min(n, c) > 2 {
			t.Errorf("native %v and classic %v medians more than a bucket apart", n, c)
		}
		// A built-in time histogram (2^-30 s units): exact schema 0. Both
		// Prometheus servers scrape at their own moments, so only log.
		qn = fmt.Sprintf(`histogram_quantile(0.9, rate(ebpf_exporter_run_queue_latency_seconds{instance=%q}[%s]))`, viaNative.addr, rateWindow)
		qc = fmt.Sprintf(`histogram_quantile(0.9, rate(ebpf_exporter_run_queue_latency_seconds_bucket{job="ebpf_classic"}[%s]))`, rateWindow)
		n, c = one(t, native, qn, at), one(t, classic, qc, at)
		t.Logf("%s = %v\n%s = %v", qn, n, qc, c)
		if !(n > 0) || !(c > 0) {
			t.Errorf("run queue latency p90: native %v, classic %v; want both positive", n, c)
		}
	})

	t.Run("recording rules", func(t *testing.T) {
		// Native half on the native Prometheus, one series per exporter.
		for _, q := range []string{
			`instance:ebpf_exporter_run_queue_latency_seconds:p99_rate5m`,
			`instance:ebpf_exporter_timer_starts:rate5m`,
		} {
			res := native.query(t, q, time.Time{})
			if len(res) != 3 {
				t.Errorf("native Prometheus: %s: %d series, want 3: %v", q, len(res), res)
			}
			for _, s := range res {
				t.Logf("%s{instance=%q} = %v", q, s.Metric["instance"], s.Value)
				if !(s.Value > 0) {
					t.Errorf("%s{instance=%q} = %v, want > 0", q, s.Metric["instance"], s.Value)
				}
			}
		}
		// Classic half on the classic one.
		q := `instance:ebpf_exporter_run_queue_latency_seconds:p99_rate5m{instance=` + strconv.Quote(viaClassic.addr) + `}`
		if res := classic.query(t, q, time.Time{}); len(res) != 1 || !(res[0].Value > 0) {
			t.Errorf("classic Prometheus: %s = %v, want one positive value", q, res)
		} else {
			t.Logf("classic Prometheus: %s = %v", q, res[0].Value)
		}
	})

	// The seed's expressions, as written.
	t.Run("llcstat", func(t *testing.T) {
		attached := native.query(t, `ebpf_exporter_ebpf_program_attached{config="llcstat"}`, at)
		if len(attached) == 0 {
			t.Fatal("no ebpf_exporter_ebpf_program_attached for llcstat: the config did not load")
		}
		if len(native.query(t, `ebpf_exporter_ebpf_program_attached{config="llcstat"} == 1`, at)) == 0 {
			// A kernel fact, not a missing tool: skip even in CI.
			t.Skip("llcstat is not attached (ebpf_exporter_ebpf_program_attached{config=\"llcstat\"} == 0): no hardware PMU for cache events on this machine")
		}
		q := `irate(ebpf_exporter_llc_references_total[1m]) - irate(ebpf_exporter_llc_misses_total{cpu=~"[0-7]{1}"}[1m])`
		res := native.query(t, q, time.Time{})
		if len(res) == 0 {
			t.Fatalf("llcstat is attached but %s returns nothing", q)
		}
		for _, s := range res {
			t.Logf("%s{instance=%q,cpu=%q} = %v", q, s.Metric["instance"], s.Metric["cpu"], s.Value)
		}
		ratio := `1 - sum by (cpu) (rate(ebpf_exporter_llc_misses_total[1m])) / sum by (cpu) (rate(ebpf_exporter_llc_references_total[1m]))`
		for _, s := range native.query(t, ratio, time.Time{}) {
			t.Logf("cache hit ratio cpu %s: %.3f", s.Metric["cpu"], s.Value)
		}
	})

	t.Run("timers", func(t *testing.T) {
		q := `sum by (instance) (irate(ebpf_exporter_timer_starts_total[1m]))`
		res := native.query(t, q, at)
		if len(res) != 3 {
			t.Fatalf("%s: %d series, want 3: %v", q, len(res), res)
		}
		for _, s := range res {
			t.Logf("%s: instance %s = %.1f timers/s", q, s.Metric["instance"], s.Value)
			if !(s.Value > 0) {
				t.Errorf("instance %s: %v timers/s, want > 0", s.Metric["instance"], s.Value)
			}
		}
		q = fmt.Sprintf(`topk(3, irate(ebpf_exporter_timer_starts_total{instance=%q}[1m]))`, viaNative.addr)
		res = native.query(t, q, at)
		if len(res) == 0 {
			t.Fatalf("%s: nothing", q)
		}
		for _, s := range res {
			if s.Metric["function"] == "" {
				t.Errorf("%s: series without a function: %v", q, s.Metric)
			}
			t.Logf("%s: %s = %.1f", q, s.Metric["function"], s.Value)
		}
		// The seed's shape: a vector minus a regexp-selected part of itself
		// matches series by labels; a series minus itself is 0.
		q = `irate(ebpf_exporter_timer_starts_total[1m]) - irate(ebpf_exporter_timer_starts_total{function=~"[a-z_0-9.]+"}[1m])`
		res = native.query(t, q, at)
		if len(res) == 0 {
			t.Fatalf("%s: nothing", q)
		}
		for _, s := range res {
			if s.Value != 0 {
				t.Errorf("%s: %v = %v, want 0", q, s.Metric, s.Value)
			}
		}
		t.Logf("%s: %d series, all 0", q, len(res))
	})

	t.Run("openmetrics", func(t *testing.T) {
		body, ct := exps[0].get(t, "application/openmetrics-text; version=1.0.0; charset=utf-8")
		if !strings.HasPrefix(ct, "application/openmetrics-text") {
			t.Fatalf("Content-Type %q, want OpenMetrics", ct)
		}
		if !bytes.HasSuffix(body, []byte("\n# EOF\n")) {
			t.Errorf("OpenMetrics exposition does not end with # EOF")
		}
		for _, want := range []string{
			"# TYPE ebpf_exporter_test_getpid_calls counter\n",
			fmt.Sprintf("ebpf_exporter_test_getpid_calls_total{pid=%q} ", pid),
			"# TYPE ebpf_exporter_test_write_size_bytes histogram\n",
			fmt.Sprintf("ebpf_exporter_test_write_size_bytes_bucket{pid=%q,le=\"+Inf\"} ", pid),
		} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("OpenMetrics exposition lacks %q", want)
			}
		}
		// Const metrics have no creation time: no _created samples.
		if bytes.Contains(body, []byte("_created")) {
			t.Errorf("OpenMetrics exposition has _created samples")
		}
		// The classic Prometheus negotiated OpenMetrics (see negotiation)
		// and parsed it: its target is up. promtool checks the text format.
		if promtool, err := exec.LookPath("promtool"); err == nil {
			text, _ := exps[0].get(t, "text/plain; version=0.0.4")
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(text)
			out, err := cmd.CombinedOutput()
			// Exit status 3 is lint advice (names, help); anything else
			// is a parse error.
			if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 3) {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			} else if len(out) > 0 {
				t.Logf("promtool check metrics advice:\n%s", out)
			}
		}
	})

	t.Run("protobuf native", func(t *testing.T) {
		body, ct := exps[0].get(t, protobufAccept)
		if !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
			t.Fatalf("Content-Type %q, want protobuf", ct)
		}
		h := findHistogram(t, body, "ebpf_exporter_run_queue_latency_seconds")
		if h == nil || h.Schema == nil || h.GetSchema() != 0 || len(h.PositiveSpan) == 0 {
			t.Fatalf("run_queue_latency_seconds has no schema 0 native histogram: %v", h)
		}
		if len(h.Bucket) != 37 {
			t.Errorf("run_queue_latency_seconds: %d classic buckets beside the native ones, want 37", len(h.Bucket))
		}
		var total int64
		var cur int64
		for _, d := range h.PositiveDelta {
			cur += d
			total += cur
		}
		if uint64(total)+h.GetZeroCount() != h.GetSampleCount() {
			t.Errorf("native buckets hold %d + zero %d, count %d", total, h.GetZeroCount(), h.GetSampleCount())
		}
	})

	t.Run("native off", func(t *testing.T) {
		e := startExporter(t, "127.0.0.5", "--config.names=runqlat", "--no-web.native-histograms")
		body, _ := e.get(t, protobufAccept)
		h := findHistogram(t, body, "ebpf_exporter_run_queue_latency_seconds")
		if h == nil {
			t.Fatal("no run_queue_latency_seconds")
		}
		if h.Schema != nil || len(h.PositiveSpan) != 0 {
			t.Errorf("--no-web.native-histograms: native fields in %v", h)
		}
		if len(h.Bucket) != 37 {
			t.Errorf("%d classic buckets, want 37", len(h.Bucket))
		}
	})

	select {
	case <-w.done:
		if w.err != nil {
			t.Errorf("workload: %v", w.err)
		}
	case <-time.After(time.Until(w.end) + 5*time.Second):
		t.Error("workload did not end")
	}
}

// one runs a query that must return one sample, and returns its value.
func one(t *testing.T, p *prom, q string, at time.Time) float64 {
	t.Helper()
	res := p.query(t, q, at)
	if len(res) != 1 {
		t.Fatalf("%s: %d samples, want 1: %v", q, len(res), res)
	}
	return res[0].Value
}

func hasPrefix(m map[string]int, prefix string) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
	}
	return true
}

// findHistogram decodes a delimited protobuf exposition and returns the
// first series of the named histogram.
func findHistogram(t *testing.T, body []byte, name string) *dto.Histogram {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(body))
	for {
		var mf dto.MetricFamily
		if err := protodelim.UnmarshalFrom(r, &mf); err != nil {
			if err == io.EOF {
				return nil
			}
			t.Fatalf("decoding protobuf exposition: %v", err)
		}
		if mf.GetName() == name && len(mf.Metric) > 0 {
			return mf.Metric[0].Histogram
		}
	}
}
