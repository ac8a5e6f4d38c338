package decoder

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// cgroupRescanInterval limits how often a missed id rescans the cgroup tree.
const cgroupRescanInterval = time.Second

// Cgroup decodes a decimal cgroup id (the output of uint; bpf_get_current_cgroup_id
// and friends return the inode number of the cgroup's cgroup2 directory) into
// the path of the cgroup's directory, as the reference exporter prints it:
// "/sys/fs/cgroup" for the root cgroup, "/sys/fs/cgroup/system.slice/foo.service"
// below it (with the cgroup2 hierarchy mounted at /sys/fs/cgroup).
//
// The id to path map is built by walking the cgroup2 tree on first use. An
// id missing from it rescans the tree, at most once a second, so cgroups
// created later are found; an id still missing decodes to
// "unknown_cgroup_id:N", as in the reference exporter.
type Cgroup struct {
	resolver *cgroupResolver
}

// Decode implements Decoder.
func (c *Cgroup) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	id, err := parseUint(in)
	if err != nil {
		return nil, err
	}
	path, ok, err := c.resolver.Resolve(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return fmt.Appendf(nil, "unknown_cgroup_id:%d", id), nil
	}
	return []byte(path), nil
}

type cgroupResolver struct {
	root string

	mu       sync.Mutex
	paths    map[uint64]string
	scanned  time.Time
	interval time.Duration
	closed   bool
}

func newCgroupResolver(root string) *cgroupResolver {
	return &cgroupResolver{root: root, interval: cgroupRescanInterval}
}

// Resolve returns the path of cgroup id relative to the root.
func (r *cgroupResolver) Resolve(id uint64) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return "", false, fmt.Errorf("cgroup resolver of %s is closed", r.root)
	}
	if p, ok := r.paths[id]; ok {
		return p, true, nil
	}
	if r.paths != nil && time.Since(r.scanned) < r.interval {
		return "", false, nil
	}
	paths, err := walkCgroups(r.root)
	r.scanned = time.Now()
	if err != nil {
		if r.paths == nil {
			return "", false, err
		}
		// Keep the previous map after a failed rescan.
		return "", false, nil
	}
	r.paths = paths
	p, ok := r.paths[id]
	return p, ok, nil
}

// Close makes further lookups fail and frees the map.
func (r *cgroupResolver) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.paths = nil
	return nil
}

// walkCgroups maps the inode number of every directory below root to its
// path, root included, as the reference exporter names cgroups.
func walkCgroups(root string) (map[uint64]string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(root, &st); err != nil {
		return nil, fmt.Errorf("cgroup2 root: %w", err)
	}
	paths := map[uint64]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != root {
				// Cgroups come and go while we walk.
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return nil
		}
		paths[st.Ino] = filepath.Clean(path)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking cgroup2 tree %s: %w", root, err)
	}
	return paths, nil
}

// findCgroup2Mount returns the first cgroup2 mount point listed in the
// mountinfo file, or DefaultCgroupRoot.
func findCgroup2Mount(mountinfo string) string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return DefaultCgroupRoot
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok {
			continue
		}
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(tail) < 1 || tail[0] != "cgroup2" {
			continue
		}
		return unescapeMountinfo(fields[4])
	}
	return DefaultCgroupRoot
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			o := s[i+1 : i+4]
			if o[0] >= '0' && o[0] <= '3' && o[1] >= '0' && o[1] <= '7' && o[2] >= '0' && o[2] <= '7' {
				b.WriteByte((o[0]-'0')<<6 | (o[1]-'0')<<3 | (o[2] - '0'))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Cgroups maps the id (inode number) of every cgroup of the cgroup2
// hierarchy mounted on this system to the path of its directory, like
// "/sys/fs/cgroup/system.slice/foo.service". The loader uses it to fill cgroup_id_map maps.
func Cgroups() (map[uint64]string, error) {
	return walkCgroups(findCgroup2Mount("/proc/self/mountinfo"))
}
