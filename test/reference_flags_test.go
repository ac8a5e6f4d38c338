package test

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// TestReferenceUnitFlags runs the exporter as a reference exporter's systemd
// unit would: socket activation through --web.listen-address=fd://0 (the
// socket passed as fd 3 with LISTEN_FDS=1 and LISTEN_PID), and
// --log.no-timestamps. The unit must work after switching binaries.
func TestReferenceUnitFlags(t *testing.T) {
	testenv.RequirePrivileged(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	logs := &syncBuffer{}
	// sh's $$ is the pid the exporter keeps after exec: what LISTEN_PID names.
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, exporterBinary(t),
		"--config.dir=testdata", "--config.names=core", "--web.listen-address=fd://0", "--log.no-timestamps")
	cmd.ExtraFiles = []*os.File{sock}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &exporter{t: t, cmd: cmd, addr: ln.Addr().String(), logs: logs}
	t.Cleanup(func() { e.stop() })

	// A socket nobody serves still accepts connections into its backlog:
	// each try needs a timeout.
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://" + e.addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics on the activation socket %s within 30s; logs:\n%s", e.addr, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fams := e.scrape()
	requireAttached(t, fams, "core")

	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	lines := 0
	for sc.Scan() {
		lines++
		if strings.Contains(sc.Text(), "time=") || strings.Contains(sc.Text(), "ts=") {
			t.Errorf("--log.no-timestamps: a log line with a timestamp: %s", sc.Text())
		}
	}
	if lines == 0 {
		t.Error("no log lines to check")
	}
}
