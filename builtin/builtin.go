// Package builtin embeds the exporter's built-in configs: for each, a YAML
// config in the reference exporter's format and the compiled CO-RE object it
// reads its metrics from.
//
// The BPF C sources live in bpf/ and compile into configs/ with
// generate.sh (clang-19, llvm-strip-19). The objects are committed, so
// building the exporter needs no C toolchain; the build is reproducible, so
// `go generate ./builtin` followed by `git diff` shows whether they are up
// to date.
package builtin

import (
	"embed"
	"errors"
	"fmt"
	"sort"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

//go:generate ./generate.sh

// FS holds configs/NAME.yaml and configs/NAME.bpf.o for every built-in.
//
//go:embed configs/*.yaml configs/*.bpf.o
var FS embed.FS

// Entry describes one built-in config.
type Entry struct {
	// Name is the config name: configs/Name.yaml and configs/Name.bpf.o.
	Name string
	// Summary says in one line what the config measures.
	Summary string
	// Needs lists the kernel features its programs need to load and attach.
	Needs string
	// Default reports whether the exporter enables it when no config is chosen.
	Default bool
}

// catalogue is kept sorted by name; TestCatalogueSorted checks.
var catalogue = []Entry{
	{
		Name:    "bio-size",
		Summary: "Histogram of block request sizes at issue, by device and operation.",
		Needs:   "tp_btf (block_rq_issue; Linux 5.15+) or else tracepoints (block/block_rq_issue), BTF",
		Default: true,
	},
	{
		Name:    "biolatency",
		Summary: "Histogram of block request latency from issue to completion, by device and operation.",
		Needs:   "tp_btf (block_rq_issue, block_rq_complete; Linux 5.15+) or else tracepoints (block/block_rq_issue, block/block_rq_complete), BTF",
		Default: true,
	},
	{
		Name:    "exec",
		Summary: "Count of successful execs (new process images), by CPU.",
		Needs:   "tp_btf (sched_process_exec) or else tracepoints (sched/sched_process_exec), BTF",
		Default: true,
	},
	{
		Name:    "llcstat",
		Summary: "Last level cache references and misses, by CPU, sampled from the hardware PMU.",
		Needs:   "hardware PMU (perf_event type=0: cache references and misses)",
		Default: true,
	},
	{
		Name:    "oomkill",
		Summary: "Count of OOM kills, by the victim's cgroup.",
		Needs:   "tp_btf (BPF trampolines) with mark_victim passing the victim task, BTF",
		Default: true,
	},
	{
		Name:    "page-faults",
		Summary: "Count of page faults, user mode versus kernel mode.",
		Needs:   "tp_btf or else tracepoints (exceptions/page_fault_user, page_fault_kernel; x86 only), BTF",
		Default: false,
	},
	{
		Name:    "runqlat",
		Summary: "Histogram of run queue latency: how long runnable tasks wait for a CPU.",
		Needs:   "tp_btf (sched_wakeup, sched_wakeup_new, sched_switch), BTF",
		Default: true,
	},
	{
		Name:    "skb-drops",
		Summary: "Count of packets dropped by the kernel, by drop reason.",
		Needs:   "tp_btf or else tracepoints (skb/kfree_skb with a reason: Linux 5.17+), BTF",
		Default: true,
	},
	{
		Name:    "softirqs",
		Summary: "Count and run time histogram of softirq handlers, by kind.",
		Needs:   "tp_btf or else tracepoints (irq/softirq_entry, irq/softirq_exit), BTF",
		Default: true,
	},
	{
		Name:    "syscalls",
		Summary: "Count of system calls by syscall, and of failed ones by syscall and errno.",
		Needs:   "tp_btf or else tracepoints (raw_syscalls/sys_enter, raw_syscalls/sys_exit), BTF",
		Default: false,
	},
	{
		Name:    "tcp-connect",
		Summary: "Histogram of active TCP connect latency, SYN_SENT to ESTABLISHED.",
		Needs:   "tp_btf (sk_protocol a u16: Linux 5.6+) or else tracepoints (sock/inet_sock_set_state), BTF",
		Default: true,
	},
	{
		Name:    "tcp-retransmit",
		Summary: "Count of TCP retransmits, by address family and socket state.",
		Needs:   "tp_btf or else tracepoints (tcp/tcp_retransmit_skb), BTF",
		Default: true,
	},
	{
		Name:    "timers",
		Summary: "Count of kernel timers started, by callback function.",
		Needs:   "tp_btf or else tracepoints (timer/timer_start), BTF",
		Default: true,
	},
}

// ErrUnknown is wrapped by the error Files returns for a name that is not in
// the catalogue.
var ErrUnknown = errors.New("unknown built-in config")

// Catalogue lists the built-ins, sorted by name. The slice is a copy.
func Catalogue() []Entry {
	out := make([]Entry, len(catalogue))
	copy(out, catalogue)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the catalogue entry of a built-in.
func Lookup(name string) (Entry, bool) {
	for _, e := range catalogue {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Files returns the YAML and object bytes of a built-in. It fails with an
// error wrapping ErrUnknown (and config.ErrNotFound) for a name not in the
// catalogue.
func Files(name string) (yaml, object []byte, err error) {
	if _, ok := Lookup(name); !ok {
		return nil, nil, fmt.Errorf("%w %q: %w", ErrUnknown, name, config.ErrNotFound)
	}
	yaml, err = FS.ReadFile("configs/" + name + ".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("built-in %s: %w", name, err)
	}
	object, err = FS.ReadFile("configs/" + name + ".bpf.o")
	if err != nil {
		return nil, nil, fmt.Errorf("built-in %s: %w", name, err)
	}
	return yaml, object, nil
}

// Config parses the YAML of a built-in, naming it "builtin:NAME".
func Config(name string) (*config.Config, error) {
	data, _, err := Files(name)
	if err != nil {
		return nil, err
	}
	return config.Parse(name, "builtin:"+name, data)
}
