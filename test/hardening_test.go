package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
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

	"golang.org/x/crypto/bcrypt"

	"github.com/ebpf-exporter/ebpf_exporter/internal/caps"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// selfSignedCert writes a certificate and key for 127.0.0.1 and returns a
// client pool trusting it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ebpf_exporter test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSAndBasicAuth(t *testing.T) {
	testenv.RequirePrivileged(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	writeFile(t, webConfig, []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prom: %s\n", certFile, keyFile, hash)))

	addr := freeAddr(t)
	cmd := exec.Command(exporterBinary(t), "--web.listen-address="+addr, "--web.config.file="+webConfig,
		"--config.dir=testdata", "--config.names=core")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	get := func(user, pass string) (int, string) {
		req, _ := http.NewRequest("GET", "https://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := get("prom", "s3cret")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS scrape within 30s; logs:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get("", ""); code != 401 {
		t.Errorf("no credentials: status %d, want 401", code)
	}
	if code, _ := get("prom", "wrong"); code != 401 {
		t.Errorf("wrong password: status %d, want 401", code)
	}
	code, body := get("prom", "s3cret")
	if code != 200 || !strings.Contains(body, "ebpf_exporter_test_getpid_calls_total") {
		t.Errorf("authenticated scrape: status %d, body lacks the test metric", code)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP scrape succeeded against a TLS listener")
		}
	}
}

func TestCapabilitiesKeepNone(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core", "--capabilities.keep=none", "--ebpf.stats=off")
	requireAttached(t, e.scrape(), "core")
	threads, err := caps.Effective(e.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) == 0 {
		t.Fatal("no threads read")
	}
	for tid, set := range threads {
		if set != 0 {
			t.Errorf("thread %d keeps effective capabilities %v", tid, set)
		}
	}
	pid, _ := target(t, "getpid", "321")
	if got := value(t, e.scrape(), "ebpf_exporter_test_getpid_calls_total", pidLabel(pid)); got != 321 {
		t.Errorf("scrape without capabilities: got %v, want 321", got)
	}
}

// rssKiB reads a process's resident set size.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func TestConcurrentScrapesSoak(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core,hooks,runqlat,softirqs,biolatency")
	// Keep the kernel busy while scraping.
	stop := make(chan struct{})
	var busy sync.WaitGroup
	for i := 0; i < 2; i++ {
		busy.Add(1)
		go func() {
			defer busy.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = exec.Command(targetPath, "write", "100", "5000", "70000").Run()
				_ = exec.Command(targetPath, "getpid", "20000").Run()
			}
		}()
	}
	target(t, "getpid", "1") // builds the workload binary
	before := rssKiB(t, e.cmd.Process.Pid)
	const goroutines, perGoroutine = 40, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := 0; i < perGoroutine; i++ {
				resp, err := client.Get("http://" + e.addr + "/metrics")
				if err != nil {
					errs <- err
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), "ebpf_exporter_map_reads_total") {
					errs <- fmt.Errorf("status %d, read error %v", resp.StatusCode, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	busy.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	fams := e.scrape()
	reads := value(t, fams, "ebpf_exporter_map_reads_total", nil)
	if reads >= goroutines*perGoroutine {
		t.Errorf("%v map reads for %d concurrent scrapes: concurrent scrapes should share reads", reads, goroutines*perGoroutine)
	}
	after := rssKiB(t, e.cmd.Process.Pid)
	t.Logf("%d scrapes from %d goroutines: %v map reads; RSS %d KiB before, %d KiB after", goroutines*perGoroutine, goroutines, reads, before, after)
	if after > before+64*1024 {
		t.Errorf("RSS grew from %d KiB to %d KiB over the soak", before, after)
	}
}

func TestCancelledScrapeReleasesWork(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core")
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.000000001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("scrape with an expired timeout: status %d, want 503", resp.StatusCode)
	}
	pid, _ := target(t, "getpid", "17")
	if got := value(t, e.scrape(), "ebpf_exporter_test_getpid_calls_total", pidLabel(pid)); got != 17 {
		t.Errorf("scrape after a cancelled one: got %v, want 17", got)
	}
}

func TestSeriesLimit(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core", "--metrics.max-series=3")
	for i := 0; i < 5; i++ {
		target(t, "getpid", "1")
	}
	fams := e.scrape()
	if n := len(fams["ebpf_exporter_test_getpid_calls_total"].GetMetric()); n != 3 {
		t.Errorf("got %d series, want the limit 3", n)
	}
	dropped := value(t, fams, "ebpf_exporter_series_dropped_total", map[string]string{"config": "core", "metric": "ebpf_exporter_test_getpid_calls_total"})
	if dropped < 2 {
		t.Errorf("series_dropped_total = %v, want at least 2", dropped)
	}
}
