package attach

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// uprobeTarget is libbpf's "BINARY:FUNC[+OFFSET]".
var uprobeTarget = regexp.MustCompile(`^([^:]+):([^+]+)(?:\+(0[xX][0-9a-fA-F]+|[0-9]+))?$`)

// attachUprobe returns the attacher for "uprobe/BINARY:SYMBOL[+OFFSET]" and
// "uretprobe/BINARY:SYMBOL[+OFFSET]" (and their sleepable ".s" forms).
// SYMBOL may also be a number: a file offset in BINARY.
func attachUprobe(ret bool) attacher {
	kind := "uprobe"
	if ret {
		kind = "uretprobe"
	}
	return func(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, opts Options) (*Attachment, error) {
		m := uprobeTarget.FindStringSubmatch(target)
		if m == nil {
			return nil, fmt.Errorf("%s target %q is not BINARY:SYMBOL[+OFFSET]: %w", kind, target, ErrUnsupportedSection)
		}
		path, err := resolveBinary(m[1])
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, target, err)
		}
		uopts := &link.UprobeOptions{PID: opts.PID}
		symbol := m[2]
		if addr, err := strconv.ParseUint(symbol, 0, 64); err == nil {
			uopts.Address = addr
			symbol = ""
		}
		if m[3] != "" {
			if uopts.Offset, err = strconv.ParseUint(m[3], 0, 64); err != nil {
				return nil, fmt.Errorf("%s %s: offset: %w", kind, target, err)
			}
		}

		// Only used when the uprobe PMU is missing.
		_ = ensureTracefs()

		ex, err := link.OpenExecutable(path)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, target, err)
		}
		var l link.Link
		if ret {
			l, err = ex.Uretprobe(symbol, prog, uopts)
		} else {
			l, err = ex.Uprobe(symbol, prog, uopts)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, target, err)
		}
		return &Attachment{Links: []link.Link{l}, Kind: kind, Target: path + ":" + m[2] + suffix(m[3])}, nil
	}
}

func suffix(offset string) string {
	if offset == "" {
		return ""
	}
	return "+" + offset
}

// libraryDirs are searched for a bare library name, after LD_LIBRARY_PATH,
// as libbpf does (plus the Debian multiarch directories).
var libraryDirs = []string{
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
}

// resolveBinary turns the BINARY of a uprobe or usdt section into a path
// the way libbpf does: a name containing '/' is used as is, a name
// containing ".so" is searched in LD_LIBRARY_PATH and the library
// directories, any other name in PATH.
func resolveBinary(name string) (string, error) {
	if strings.Contains(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("binary %s: %w", name, err)
		}
		return name, nil
	}
	if strings.Contains(name, ".so") {
		dirs := filepath.SplitList(os.Getenv("LD_LIBRARY_PATH"))
		for _, dir := range append(dirs, libraryDirs...) {
			if dir == "" {
				continue
			}
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		return "", fmt.Errorf("library %s not found in LD_LIBRARY_PATH or %s: %w",
			name, strings.Join(libraryDirs, ":"), os.ErrNotExist)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			err = fmt.Errorf("%w: %w", err, os.ErrNotExist)
		}
		return "", fmt.Errorf("binary %s: %w", name, err)
	}
	return filepath.Abs(p)
}
