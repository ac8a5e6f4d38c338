package attach

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// perfEventNames name the common generic events for Attachment.Target.
var perfEventNames = map[[2]uint64]string{
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES}:          "cpu-cycles",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_INSTRUCTIONS}:        "instructions",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_REFERENCES}:    "cache-references",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_MISSES}:        "cache-misses",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS}: "branch-instructions",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_MISSES}:       "branch-misses",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BUS_CYCLES}:          "bus-cycles",
	{unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_REF_CPU_CYCLES}:      "ref-cycles",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK}:           "cpu-clock",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_TASK_CLOCK}:          "task-clock",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS}:         "page-faults",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES}:    "context-switches",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_MIGRATIONS}:      "cpu-migrations",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MIN}:     "minor-faults",
	{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ}:     "major-faults",
}

// perfEventSpec is a parsed "type=T,config=C,frequency=F" target.
type perfEventSpec struct {
	typ, config uint64
	frequency   uint64
	period      uint64
}

func (s perfEventSpec) String() string {
	if name, ok := perfEventNames[[2]uint64{s.typ, s.config}]; ok {
		return name
	}
	return fmt.Sprintf("type=%d,config=%d", s.typ, s.config)
}

// parsePerfEvent parses the reference exporter's perf_event section
// target: comma-separated type=, config= and one of frequency= (samples per
// second) or sample_period= (events per sample). Numbers are decimal or 0x hex.
func parsePerfEvent(target string) (perfEventSpec, error) {
	var s perfEventSpec
	seen := map[string]bool{}
	for _, item := range strings.Split(target, ",") {
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return s, fmt.Errorf("perf_event item %q is not KEY=VALUE", item)
		}
		if seen[key] {
			return s, fmt.Errorf("perf_event item %q repeats %s", item, key)
		}
		seen[key] = true
		n, err := strconv.ParseUint(value, 0, 64)
		if err != nil {
			return s, fmt.Errorf("perf_event item %q: %w", item, err)
		}
		switch key {
		case "type":
			s.typ = n
		case "config":
			s.config = n
		case "frequency":
			s.frequency = n
		case "sample_period":
			s.period = n
		default:
			return s, fmt.Errorf("unknown perf_event item %q (want type, config, frequency or sample_period)", item)
		}
	}
	switch {
	case !seen["type"] || !seen["config"]:
		return s, errors.New("perf_event needs type= and config=")
	case seen["frequency"] == seen["sample_period"]:
		return s, errors.New("perf_event needs exactly one of frequency= or sample_period=")
	case s.frequency == 0 && s.period == 0:
		return s, errors.New("perf_event frequency or sample_period must be positive")
	}
	return s, nil
}

// attachPerfEvent attaches "perf_event/type=T,config=C,frequency=F" (or
// sample_period=P): one sampling perf event per online CPU, counting all
// processes, each linked to prog. The perf event fds stay open until Close.
func attachPerfEvent(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, _ Options) (*Attachment, error) {
	spec, err := parsePerfEvent(target)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrUnsupportedSection)
	}
	cpus, err := onlineCPUs()
	if err != nil {
		return nil, err
	}

	attr := unix.PerfEventAttr{
		Type:   uint32(spec.typ),
		Config: spec.config,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample: spec.period,
	}
	if spec.frequency != 0 {
		attr.Sample = spec.frequency
		attr.Bits |= unix.PerfBitFreq
	}

	a := &Attachment{Kind: "perf_event", Target: fmt.Sprintf("%s on %d CPUs", spec, len(cpus))}
	for _, cpu := range cpus {
		fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			_ = a.Close()
			return nil, perfOpenError(spec, cpu, err)
		}
		a.closers = append(a.closers, func() error { return unix.Close(fd) })
		l, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: prog, Attach: ebpf.AttachPerfEvent})
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("perf_event %s: link program on CPU %d: %w", spec, cpu, err)
		}
		a.Links = append(a.Links, l)
	}
	return a, nil
}

func perfOpenError(spec perfEventSpec, cpu int, err error) error {
	hw := spec.typ == unix.PERF_TYPE_HARDWARE || spec.typ == unix.PERF_TYPE_HW_CACHE
	switch {
	case hw && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV)):
		return fmt.Errorf("no hardware PMU for perf event type=%d,config=%d (%s): %w", spec.typ, spec.config, spec, err)
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("perf event type=%d,config=%d does not exist on this kernel: %w", spec.typ, spec.config, err)
	default:
		return fmt.Errorf("perf_event_open %s on CPU %d: %w", spec, cpu, err)
	}
}

// onlineCPUs parses /sys/devices/system/cpu/online ("0-3,5,7-8").
func onlineCPUs() ([]int, error) {
	const path = "/sys/devices/system/cpu/online"
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("online CPUs: %w", err)
	}
	cpus, err := parseCPUList(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("online CPUs: %s: %w", path, err)
	}
	return cpus, nil
}

func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, r := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}
