package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ebpf-exporter/ebpf_exporter/internal/exportertest"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// exporterBinary is the exporter binary under test
// ($EBPF_EXPORTER_BIN, or a build of cmd/ebpf_exporter).
func exporterBinary(t *testing.T) string { return exportertest.Binary(t) }

// lookTool finds a binary on PATH, skipping the test (a failure under
// EBPF_EXPORTER_REQUIRE_PRIVILEGED=1) when it is missing.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Skip(t, fmt.Sprintf("%s not found on PATH (apt-get install %s)", name, pkg))
	}
	return p
}

type logBuffer = exportertest.LogBuffer

func freeAddr(t *testing.T, host string) string { return exportertest.FreeAddr(t, host) }

// process is a started child process, stopped with SIGTERM at cleanup.
type process struct {
	name string
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{}
}

func startProcess(t *testing.T, name string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), logs: &logBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not exit within 20s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, tail(p.logs.String(), 4000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// waitHTTP polls url until it answers 200, failing after timeout or when
// the process exits.
func (p *process) waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited; logs:\n%s", p.name, tail(p.logs.String(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s within %v; logs:\n%s", p.name, url, timeout, tail(p.logs.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exporter is a running ebpf_exporter.
type exporter struct {
	*process
	addr string
}

func startExporter(t *testing.T, host string, args ...string) *exporter {
	t.Helper()
	testenv.RequirePrivileged(t)
	addr := freeAddr(t, host)
	p := startProcess(t, "exporter "+addr, exporterBinary(t), append([]string{"--web.listen-address=" + addr}, args...)...)
	p.waitHTTP(t, "http://"+addr+"/metrics", 60*time.Second)
	return &exporter{process: p, addr: addr}
}

// get fetches the exporter's metrics with an Accept header, returning the
// body and the Content-Type.
func (e *exporter) get(t *testing.T, accept string) ([]byte, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	return body, resp.Header.Get("Content-Type")
}

// recorder is a reverse proxy in front of an exporter that records the
// Content-Type of the scrapes through it: which format a Prometheus
// negotiated.
type recorder struct {
	addr string
	mu   sync.Mutex
	seen map[string]int
}

func startRecorder(t *testing.T, host string, target string) *recorder {
	t.Helper()
	r := &recorder{seen: map[string]int{}}
	u, _ := url.Parse("http://" + target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		r.mu.Lock()
		r.seen[resp.Header.Get("Content-Type")]++
		r.mu.Unlock()
		return nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(proxy)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	r.addr = l.Addr().String()
	return r
}

// contentTypes returns the Content-Types seen so far, with counts.
func (r *recorder) contentTypes() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.seen {
		out[k] = v
	}
	return out
}

// prom is a running Prometheus server.
type prom struct {
	*process
	addr string
}

// startPrometheus runs prometheus with config (YAML) on a free loopback
// port, with fast scrapes and a throwaway TSDB.
func startPrometheus(t *testing.T, name, config string, flags ...string) *prom {
	t.Helper()
	bin := lookTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t, "127.0.0.1")
	args := append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}, flags...)
	p := startProcess(t, name, bin, args...)
	p.waitHTTP(t, "http://"+addr+"/-/ready", 60*time.Second)
	return &prom{process: p, addr: addr}
}

// sample is one element of an instant vector: a float or a native histogram.
type sample struct {
	Metric    map[string]string
	Value     float64
	Histogram *nativeHist
}

type nativeHist struct {
	Count, Sum float64
	Buckets    [][4]string // boundary rule, lower, upper, count
}

// query runs an instant PromQL query at ts (zero: now). It fails the test on
// an API error: a parse error in the expression shows here.
func (p *prom) query(t *testing.T, expr string, ts time.Time) []sample {
	t.Helper()
	v := url.Values{"query": {expr}}
	if !ts.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(ts.UnixNano())/1e9, 'f', 3, 64))
	}
	resp, err := http.PostForm("http://"+p.addr+"/api/v1/query", v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status    string
		Error     string
		ErrorType string
		Data      struct {
			ResultType string
			Result     []struct {
				Metric    map[string]string
				Value     [2]any
				Histogram [2]json.RawMessage
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: decoding the answer: %v", expr, err)
	}
	if r.Status != "success" {
		t.Fatalf("%s: %s: %s", expr, r.ErrorType, r.Error)
	}
	if r.Data.ResultType != "vector" {
		t.Fatalf("%s: result type %s, want vector", expr, r.Data.ResultType)
	}
	out := make([]sample, 0, len(r.Data.Result))
	for _, res := range r.Data.Result {
		s := sample{Metric: res.Metric}
		if res.Value[1] != nil {
			f, err := strconv.ParseFloat(fmt.Sprint(res.Value[1]), 64)
			if err != nil {
				t.Fatalf("%s: value %v: %v", expr, res.Value[1], err)
			}
			s.Value = f
		}
		if len(res.Histogram[1]) > 0 {
			var h struct {
				Count, Sum string
				Buckets    [][4]any
			}
			if err := json.Unmarshal(res.Histogram[1], &h); err != nil {
				t.Fatalf("%s: histogram: %v", expr, err)
			}
			s.Histogram = &nativeHist{}
			s.Histogram.Count, _ = strconv.ParseFloat(h.Count, 64)
			s.Histogram.Sum, _ = strconv.ParseFloat(h.Sum, 64)
			for _, b := range h.Buckets {
				s.Histogram.Buckets = append(s.Histogram.Buckets, [4]string{fmt.Sprint(b[0]), fmt.Sprint(b[1]), fmt.Sprint(b[2]), fmt.Sprint(b[3])})
			}
		}
		out = append(out, s)
	}
	return out
}

// waitTargets waits until every target of p is up.
func (p *prom) waitTargets(t *testing.T, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var r struct {
			Data struct {
				ActiveTargets []struct {
					ScrapeURL string
					Health    string
					LastError string
				}
			}
		}
		resp, err := http.Get("http://" + p.addr + "/api/v1/targets")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
		}
		up := 0
		var states []string
		for _, tg := range r.Data.ActiveTargets {
			if tg.Health == "up" {
				up++
			}
			states = append(states, fmt.Sprintf("%s %s %s", tg.ScrapeURL, tg.Health, tg.LastError))
		}
		if err == nil && up == want && len(r.Data.ActiveTargets) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d targets up after %v (err %v):\n%s", p.name, up, want, timeout, err, strings.Join(states, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// within reports whether got is within frac of want.
func within(got, want, frac float64) bool {
	return got >= want*(1-frac) && got <= want*(1+frac)
}

// sleepUntil sleeps until ts or ctx's end.
func sleepUntil(ctx context.Context, ts time.Time) {
	select {
	case <-time.After(time.Until(ts)):
	case <-ctx.Done():
	}
}
