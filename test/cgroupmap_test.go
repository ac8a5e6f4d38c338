package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

// cgroup2Root is the cgroup2 mount point, from /proc/self/mountinfo.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if ok && strings.HasPrefix(post, "cgroup2 ") {
			return strings.Fields(pre)[4]
		}
	}
	testenv.Skip(t, "no cgroup2 hierarchy mounted")
	return ""
}

func TestCgroupIDMap(t *testing.T) {
	// Both kinds of the reference's cgroup_id_map: a hash of cgroup ids, and
	// cgroup storage (set through an fd of the cgroup's directory).
	for _, c := range []struct{ config, dirPrefix, metric string }{
		{"cgroupmap", "ebpf-exporter-test-", "ebpf_exporter_test_cgroup_getpid_calls_total"},
		{"cgrpstorage", "ebpf-exporter-storage-test-", "ebpf_exporter_test_cgrp_storage_getpid_calls_total"},
	} {
		t.Run(c.config, func(t *testing.T) {
			testenv.RequirePrivileged(t)
			target(t, "getpid", "0") // build the workload
			dir := filepath.Join(cgroup2Root(t), fmt.Sprintf("%s%d", c.dirPrefix, os.Getpid()))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Remove(dir) })
			e := startExporter(t, "--config.dir=testdata", "--config.names="+c.config)
			requireAttached(t, e.scrape(), c.config)

			// In the cgroup: counted exactly.
			cmd := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" getpid 777`, "sh", dir, targetPath)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("running the workload in %s: %v: %s", dir, err, out)
			}
			inside := cmd.Process.Pid
			// Outside: not counted.
			outside, _ := target(t, "getpid", "555")
			fams := e.scrape()
			if got := value(t, fams, c.metric, pidLabel(inside)); got != 777 {
				t.Errorf("getpid calls in the matching cgroup: got %v, want 777", got)
			}
			if m := find(fams, c.metric, pidLabel(outside)); m != nil {
				t.Errorf("a process outside the matching cgroups was counted: %v", m)
			}
		})
	}
}
