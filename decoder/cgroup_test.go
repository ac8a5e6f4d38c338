package decoder

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func decimal(n uint64) []byte { return []byte(strconv.FormatUint(n, 10)) }

// TestCgroupTree decodes ids of a directory tree standing in for cgroupfs
// into the directories' paths, root included, as the reference does.
func TestCgroupTree(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "system.slice", "foo.service"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "system.slice", "cgroup.procs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := newCgroupResolver(root)
	r.interval = 0
	c := &Cgroup{resolver: r}
	file := inode(t, filepath.Join(root, "system.slice", "cgroup.procs"))
	runDecodeCases(t, c, []decodeCase{
		{name: "root", in: decimal(inode(t, root)), out: root},
		{name: "slice", in: decimal(inode(t, filepath.Join(root, "system.slice"))), out: root + "/system.slice"},
		{name: "service", in: decimal(inode(t, filepath.Join(root, "system.slice", "foo.service"))), out: root + "/system.slice/foo.service"},
		{name: "file is no cgroup", in: decimal(file), out: fmt.Sprintf("unknown_cgroup_id:%d", file)},
		{name: "garbage", in: []byte("abc"), err: `input "abc" is not a decimal unsigned integer`},
		{name: "raw", in: u64(1), err: "is not a decimal unsigned integer"},
	})

	// A cgroup created after the first walk is found by the rescan on a miss.
	late := filepath.Join(root, "late")
	if err := os.Mkdir(late, 0o755); err != nil {
		t.Fatal(err)
	}
	runDecodeCases(t, c, []decodeCase{{name: "late", in: decimal(inode(t, late)), out: late}})
}

func TestCgroupRescanRateLimited(t *testing.T) {
	root := t.TempDir()
	c := &Cgroup{resolver: newCgroupResolver(root)}
	runDecodeCases(t, c, []decodeCase{{name: "root", in: decimal(inode(t, root)), out: root}})
	late := filepath.Join(root, "late")
	if err := os.Mkdir(late, 0o755); err != nil {
		t.Fatal(err)
	}
	id := inode(t, late)
	runDecodeCases(t, c, []decodeCase{{name: "within interval", in: decimal(id), out: fmt.Sprintf("unknown_cgroup_id:%d", id)}})
	c.resolver.interval = 0
	runDecodeCases(t, c, []decodeCase{{name: "after interval", in: decimal(id), out: late}})
}

func TestCgroupMissingRoot(t *testing.T) {
	c := &Cgroup{resolver: newCgroupResolver("testdata/no-such-cgroup-root")}
	runDecodeCases(t, c, []decodeCase{{name: "missing root", in: []byte("1"), err: "cgroup2 root"}})
}

func TestCgroupClosed(t *testing.T) {
	r := newCgroupResolver(t.TempDir())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	runDecodeCases(t, &Cgroup{resolver: r}, []decodeCase{{name: "closed", in: []byte("1"), err: "is closed"}})
}

func TestFindCgroup2Mount(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"testdata/mountinfo", "/sys/fs/my cgroup2"},
		{"testdata/mountinfo_v1", DefaultCgroupRoot},
		{"testdata/no-such-file", DefaultCgroupRoot},
	} {
		if got := findCgroup2Mount(c.file); got != c.want {
			t.Errorf("findCgroup2Mount(%s) = %q, want %q", c.file, got, c.want)
		}
	}
}

// TestCgroupKernel creates a real cgroup after the first walk and decodes
// its id through a Set with default options.
func TestCgroupKernel(t *testing.T) {
	testenv.RequirePrivileged(t)
	root := findCgroup2Mount("/proc/self/mountinfo")
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(root, &sfs); err != nil || sfs.Type != 0x63677270 { // CGROUP2_SUPER_MAGIC
		testenv.Skip(t, "no cgroup2 mount at "+root)
	}
	s, err := NewSet(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.cgroups.interval = 0
	c := s.decoders["cgroup"]

	runDecodeCases(t, c, []decodeCase{{name: "root", in: decimal(inode(t, root)), out: root}})

	name := fmt.Sprintf("ebpf-exporter-decoder-test-%d", os.Getpid())
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		testenv.Skip(t, "creating a cgroup: "+err.Error())
	}
	defer os.Remove(dir)
	runDecodeCases(t, c, []decodeCase{{name: "new cgroup", in: decimal(inode(t, dir)), out: dir}})
}
