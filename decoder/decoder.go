package decoder

//go:generate go run gen_syscalls.go

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Decoder turns one label's input bytes into output bytes for the next
// decoder in the chain. The first decoder of a label gets the label's raw key
// bytes; the last one's output is the label value.
//
// Decode must not panic on any input and must not keep or modify in.
type Decoder interface {
	Decode(in []byte, conf config.Decoder) ([]byte, error)
}

// ErrSkipLabelSet is returned (possibly wrapped) when a decoder decides that
// the whole series must be dropped silently, as the regexp decoder does for
// inputs that match none of its expressions. Callers check it with errors.Is.
var ErrSkipLabelSet = errors.New("label set skipped by decoder")

// Options locate the host data some decoders need. The zero value uses the
// running system's defaults.
type Options struct {
	// KallsymsPath is read by ksym and kstack. Default /proc/kallsyms.
	KallsymsPath string
	// CgroupRoot is the cgroup2 mount walked by cgroup. Default: the cgroup2
	// mount found in /proc/self/mountinfo, else /sys/fs/cgroup.
	CgroupRoot string
	// PCIIDsPath is the pci.ids database read by the pci_* decoders.
	// Default: the first existing of /usr/share/misc/pci.ids and
	// /usr/share/hwdata/pci.ids.
	PCIIDsPath string
	// BTF returns the kernel BTF searched by btf_enum. Default btf.LoadKernelSpec.
	BTF func() (*btf.Spec, error)
	// Arch selects the syscall table of the syscall decoder: "amd64" or
	// "arm64". Default runtime.GOARCH.
	Arch string
}

// Default locations of host data.
const (
	DefaultKallsymsPath = "/proc/kallsyms"
	DefaultCgroupRoot   = "/sys/fs/cgroup"
)

// Negative caching of ifname and majorminor lookups: a miss is retried after
// negativeCacheTTL; the miss map is reset when it reaches negativeCacheMax
// entries so garbage keys cannot grow it without bound.
const (
	negativeCacheTTL = 10 * time.Second
	negativeCacheMax = 4096
)

// DefaultPCIIDsPaths are searched in order for the pci.ids database.
var DefaultPCIIDsPaths = []string{"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"}

// Set is the set of all known decoders, sharing lazily loaded host state
// (kallsyms, cgroup ids, pci.ids, BTF). It is safe for concurrent use.
type Set struct {
	decoders map[string]Decoder
	cgroups  *cgroupResolver
}

// NewSet returns a Set of every decoder, configured by opts. It reads nothing
// yet: each decoder loads its data on first use and caches it.
func NewSet(opts Options) (*Set, error) {
	if opts.KallsymsPath == "" {
		opts.KallsymsPath = DefaultKallsymsPath
	}
	if opts.CgroupRoot == "" {
		opts.CgroupRoot = findCgroup2Mount("/proc/self/mountinfo")
	}
	if opts.PCIIDsPath == "" {
		opts.PCIIDsPath = findPCIIDs(DefaultPCIIDsPaths)
	}
	if opts.BTF == nil {
		opts.BTF = btf.LoadKernelSpec
	}
	if opts.Arch == "" {
		opts.Arch = runtime.GOARCH
	}

	ksyms := newKallsyms(opts.KallsymsPath)
	cgroups := newCgroupResolver(opts.CgroupRoot)
	pci := newPCIDB(opts.PCIIDsPath)

	s := &Set{
		decoders: map[string]Decoder{
			"btf_enum":     newBTFEnum(opts.BTF),
			"cgroup":       &Cgroup{resolver: cgroups},
			"dname":        &Dname{},
			"errno":        &Errno{},
			"hex":          &Hex{},
			"ifname":       newIfName(),
			"inet_ip":      &InetIP{},
			"kstack":       &KStack{syms: ksyms},
			"ksym":         &KSym{syms: ksyms},
			"majorminor":   newMajorMinor("/sys/dev/block"),
			"pci_class":    pciClass(pci),
			"pci_device":   pciDevice(pci),
			"pci_subclass": pciSubclass(pci),
			"pci_vendor":   pciVendor(pci),
			"regexp":       newRegexp(),
			"static_map":   &StaticMap{},
			"string":       &String{},
			"syscall":      &Syscall{Arch: opts.Arch},
			"uint":         &UInt{},
		},
		cgroups: cgroups,
	}
	return s, nil
}

// Names returns the names of the decoders in the set, for config validation.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.decoders))
	for name := range s.decoders {
		names = append(names, name)
	}
	return names
}

// Has reports whether the set has a decoder called name.
func (s *Set) Has(name string) bool {
	_, ok := s.decoders[name]
	return ok
}

// Decode runs one label's decoder chain over in and returns the label value.
// Errors name the label and the failing decoder; a decoder asking to skip
// the series yields an error wrapping ErrSkipLabelSet.
func (s *Set) Decode(in []byte, label config.Label) (string, error) {
	if len(label.Decoders) == 0 {
		return "", fmt.Errorf("label %q: no decoders", label.Name)
	}
	out := in
	for _, conf := range label.Decoders {
		d, ok := s.decoders[conf.Name]
		if !ok {
			return "", fmt.Errorf("label %q: unknown decoder %q", label.Name, conf.Name)
		}
		next, err := d.Decode(out, conf)
		if err != nil {
			return "", fmt.Errorf("label %q: decoder %s: %w", label.Name, conf.Name, err)
		}
		out = next
	}
	// Prometheus label values must be valid UTF-8.
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// DecodeLabels splits key by the labels' Size and Padding (label i occupies
// Size bytes, then Padding bytes are skipped), runs each label's decoder
// chain, and returns the label values in label order.
//
// A key whose length differs from the sum of sizes and paddings is an error
// naming both. An error wrapping ErrSkipLabelSet means the series must be
// dropped silently; any other error means the key could not be decoded.
// Invalid UTF-8 in a value is replaced with U+FFFD.
func (s *Set) DecodeLabels(key []byte, labels []config.Label) ([]string, error) {
	var want uint64
	for _, l := range labels {
		if l.Size == 0 {
			return nil, fmt.Errorf("label %q: size is zero", l.Name)
		}
		want += uint64(l.Size) + uint64(l.Padding)
	}
	if want != uint64(len(key)) {
		return nil, fmt.Errorf("key is %d bytes but labels need %d bytes (sizes plus paddings)", len(key), want)
	}

	values := make([]string, len(labels))
	var off uint64
	for i, l := range labels {
		end := off + uint64(l.Size)
		v, err := s.Decode(key[off:end:end], l)
		if err != nil {
			return nil, err
		}
		values[i] = v
		off = end + uint64(l.Padding)
	}
	return values, nil
}

// Close stops background work of the set. The set must not be used after.
func (s *Set) Close() error {
	return s.cgroups.Close()
}

// parseUint parses in as a decimal unsigned integer, the output of uint.
func parseUint(in []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(in), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("input %q is not a decimal unsigned integer", in)
	}
	return n, nil
}

// hostUint reads a host byte order unsigned integer of 4 or 8 bytes.
func hostUint(in []byte) (uint64, error) {
	switch len(in) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(in)), nil
	case 8:
		return binary.NativeEndian.Uint64(in), nil
	}
	return 0, fmt.Errorf("input is %d bytes, want 4 or 8", len(in))
}
