// Package testenv holds helpers shared by tests that load real eBPF programs.
package testenv

import (
	"os"
	"testing"
)

// RequireEnv is the environment variable that turns privilege and kernel
// feature skips into failures. CI sets it: there, every test must run.
const RequireEnv = "EBPF_EXPORTER_REQUIRE_PRIVILEGED"

// Required reports whether skips must be failures.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Skip skips the test with the reason, or fails it when RequireEnv is set.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s=1 but the test would skip: %s", RequireEnv, reason)
	}
	t.Skip(reason)
}

// RequirePrivileged skips (or fails under RequireEnv) unless the test runs
// as root, which loading eBPF programs needs.
func RequirePrivileged(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "loading eBPF programs needs root (CAP_BPF, CAP_PERFMON)")
	}
}
