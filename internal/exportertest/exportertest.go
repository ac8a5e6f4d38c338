// Package exportertest builds the exporter binary and provides the small
// pieces the end-to-end tests (test/ and test/e2e/) share.
package exportertest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// BinEnv names a prebuilt exporter binary to test instead of building
// cmd/ebpf_exporter.
const BinEnv = "EBPF_EXPORTER_BIN"

var (
	buildOnce sync.Once
	bin       string
	buildErr  error
)

// Binary returns the exporter binary: $EBPF_EXPORTER_BIN, or a static build
// of cmd/ebpf_exporter made once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv(BinEnv); b != "" {
		return b
	}
	buildOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			buildErr = fmt.Errorf("finding the module root: %v", err)
			return
		}
		dir, err := os.MkdirTemp("", "ebpf_exporter_bin")
		if err != nil {
			buildErr = err
			return
		}
		bin = filepath.Join(dir, "ebpf_exporter")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/ebpf_exporter")
		cmd.Dir = strings.TrimSpace(string(out))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// FreeAddr returns a free TCP address on host (any 127.0.0.0/8 address works
// on Linux loopback).
func FreeAddr(t testing.TB, host string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listening on %s: %v", host, err)
	}
	defer l.Close()
	return l.Addr().String()
}

// LogBuffer collects a process's output; safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
