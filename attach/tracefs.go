package attach

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	tracefsDir = "/sys/kernel/tracing"
	debugfsDir = "/sys/kernel/debug"
)

var tracefsMu sync.Mutex

// ensureTracefs mounts tracefs at /sys/kernel/tracing, or failing that
// debugfs at /sys/kernel/debug, unless one of them is already mounted.
// cilium/ebpf looks tracefs up once per process, so this must run before
// the first tracefs-backed attach (tracepoints, kprobes, uprobe fallback).
func ensureTracefs() error {
	tracefsMu.Lock()
	defer tracefsMu.Unlock()

	if tracefsMounted() {
		return nil
	}
	errTrace := unix.Mount("tracefs", tracefsDir, "tracefs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if errTrace == nil {
		return nil
	}
	errDebug := unix.Mount("debugfs", debugfsDir, "debugfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	if errDebug == nil && tracefsMounted() {
		return nil
	}
	if errDebug == nil {
		errDebug = errors.New("debugfs has no tracing directory")
	}
	return fmt.Errorf("neither tracefs nor debugfs is mounted and mounting failed: tracefs at %s: %w; debugfs at %s: %w",
		tracefsDir, errTrace, debugfsDir, errDebug)
}

// tracefsMounted reports whether a tracefs (or a debugfs holding one) is
// mounted anywhere.
func tracefsMounted() bool {
	for _, p := range []struct {
		path  string
		magic int64
	}{
		{tracefsDir, unix.TRACEFS_MAGIC},
		{debugfsDir + "/tracing", unix.TRACEFS_MAGIC},
		{debugfsDir + "/tracing", unix.DEBUGFS_MAGIC},
	} {
		var st unix.Statfs_t
		if unix.Statfs(p.path, &st) == nil && int64(st.Type) == p.magic {
			return true
		}
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 2 && fields[2] == "tracefs" {
			return true
		}
	}
	return false
}
