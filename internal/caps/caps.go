// Package caps drops Linux capabilities from every thread of the process, so
// that after its programs are attached the exporter keeps only what scraping
// needs.
package caps

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// names maps capability names (as in capabilities(7)) to numbers.
var names = map[string]int{
	"cap_chown": 0, "cap_dac_override": 1, "cap_dac_read_search": 2, "cap_fowner": 3, "cap_fsetid": 4,
	"cap_kill": 5, "cap_setgid": 6, "cap_setuid": 7, "cap_setpcap": 8, "cap_linux_immutable": 9,
	"cap_net_bind_service": 10, "cap_net_broadcast": 11, "cap_net_admin": 12, "cap_net_raw": 13,
	"cap_ipc_lock": 14, "cap_ipc_owner": 15, "cap_sys_module": 16, "cap_sys_rawio": 17, "cap_sys_chroot": 18,
	"cap_sys_ptrace": 19, "cap_sys_pacct": 20, "cap_sys_admin": 21, "cap_sys_boot": 22, "cap_sys_nice": 23,
	"cap_sys_resource": 24, "cap_sys_time": 25, "cap_sys_tty_config": 26, "cap_mknod": 27, "cap_lease": 28,
	"cap_audit_write": 29, "cap_audit_control": 30, "cap_setfcap": 31, "cap_mac_override": 32,
	"cap_mac_admin": 33, "cap_syslog": 34, "cap_wake_alarm": 35, "cap_block_suspend": 36,
	"cap_audit_read": 37, "cap_perfmon": 38, "cap_bpf": 39, "cap_checkpoint_restore": 40,
}

// Set is a set of capabilities as a bit mask.
type Set uint64

// All is every capability this package knows.
const All Set = 1<<41 - 1

// Parse reads a --capabilities.keep value: "all", "none", or a
// comma-separated list of names like "cap_syslog,cap_perfmon".
func Parse(spec string) (Set, error) {
	switch strings.TrimSpace(spec) {
	case "all":
		return All, nil
	case "none", "":
		return 0, nil
	}
	var s Set
	for _, n := range strings.Split(spec, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if !strings.HasPrefix(n, "cap_") {
			n = "cap_" + n
		}
		c, ok := names[n]
		if !ok {
			return 0, fmt.Errorf("unknown capability %q (want all, none or names like cap_syslog,cap_perfmon)", n)
		}
		s |= 1 << c
	}
	return s, nil
}

// String lists the names in s.
func (s Set) String() string {
	if s == 0 {
		return "none"
	}
	var out []string
	for n, c := range names {
		if s&(1<<c) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(sortStrings(out), ",")
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// ErrNeedsStaticBuild is returned when the process cannot change the
// capabilities of all its threads: Go supports that only without cgo.
var ErrNeedsStaticBuild = errors.New("dropping capabilities on every thread needs a CGO_ENABLED=0 build")

// Keep drops every capability not in keep from the effective, permitted,
// inheritable, ambient and bounding sets of every thread. It is a no-op for
// All.
func Keep(keep Set) error {
	if keep == All {
		return nil
	}
	// The bounding set first: dropping from it needs CAP_SETPCAP, which
	// may be about to go.
	for _, c := range names {
		if keep&(1<<c) != 0 {
			continue
		}
		if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); e != 0 {
			if e == syscall.ENOTSUP {
				return ErrNeedsStaticBuild
			}
			if e == syscall.EINVAL { // not supported by this kernel
				continue
			}
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, e)
		}
	}
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); e != 0 && e != syscall.EINVAL {
		return fmt.Errorf("clearing ambient capabilities: %w", e)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	lo, hi := uint32(keep), uint32(keep>>32)
	data[0].Effective &= lo
	data[0].Permitted &= lo
	data[0].Inheritable &= lo
	data[1].Effective &= hi
	data[1].Permitted &= hi
	data[1].Inheritable &= hi
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		if e == syscall.ENOTSUP {
			return ErrNeedsStaticBuild
		}
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}

// Effective returns the effective set of every thread of pid, read from
// /proc, for checks and tests.
func Effective(pid int) (map[int]Set, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[int]Set{}
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
				var s uint64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &s); err != nil {
					return nil, err
				}
				var tid int
				fmt.Sscanf(t.Name(), "%d", &tid)
				out[tid] = Set(s)
			}
		}
	}
	return out, nil
}
