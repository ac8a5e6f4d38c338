// Package declarative compiles metrics declared in YAML into BPF programs at
// load time, with github.com/cilium/ebpf/asm: no clang, no headers, no
// files written. A config whose metrics name a probe and has no NAME.bpf.o
// beside it is compiled by Compile into an *ebpf.CollectionSpec that
// loader.LoadSpec loads, verifies and attaches like an object file's.
//
// # Metrics
//
// A counter or histogram is declarative when it has probe, or start and end:
//
//	probe:       the event, see Probes
//	filter:      a condition; the event is ignored unless it holds
//	value:       counters: the amount to add (default 1); histograms: the
//	             observed value (default elapsed with start/end)
//	start, end:  {probe, key, filter}: latency between two events whose key
//	             expressions (comma-separated, numbers) are equal, like
//	             "tid" or "dev, sector"; the time between them is elapsed
//	             (nanoseconds). start.filter runs at start; end.filter and
//	             the metric's filter run at the end, after elapsed is known.
//	max_entries: bound of the metric's map (and its start map); 10240
//	labels:      [{name, value, decoders?, size?}]
//
// A label's value is an expression. Its type sets the key layout: numbers
// keep their width (size may widen or narrow it to 1, 2, 4 or 8 bytes) and
// are aligned naturally; strings take their buffer size (size overrides:
// __data_loc strings and str() default to 64 bytes). The default decoder is
// uint for numbers, string for char arrays and hex for other byte arrays;
// decoders that expect a decimal number (syscall, static_map, errno,
// cgroup, btf_enum, regexp, pci_*) get an implicit uint in front. A
// histogram's bucket label (u64) is implicit and must not be listed. Every
// metric needs at least one label (a constant such as "value: 0" works).
//
// Histograms support bucket_type exp2 (key = smallest k with v <= 2^k,
// clamped to bucket_max), exp2zero, linear (key = v clamped to bucket_max;
// divide in value for wider steps) and fixed (bucket_keys must be whole
// numbers of the value's unit), each with the sum key at bucket_max+1 (last
// key + 1 for fixed), as histogram.Layout reads them. bucket_multiplier
// scales to the exported unit.
//
// # Probes
//
//	tracepoint/CAT/NAME, tp/CAT/NAME, tracepoint:CAT:NAME   fields from tracefs
//	raw_tp/NAME, rawtracepoint:NAME                        BTF-typed arguments, read with bpf_probe_read_kernel
//	tp_btf/NAME                                            BTF-typed arguments, direct loads
//	uprobe:BINARY:SYMBOL, uretprobe:BINARY:SYMBOL          arg0..arg5 (di, si, dx, cx, r8, r9); retval (ax) in uretprobe
//	(libbpf form: uprobe//abs/path:SYMBOL)
//	kprobe:SYMBOL, kretprobe:SYMBOL                        as uprobes (kernels with kprobes)
//	software:EVENT[:PERIOD]                                perf software event (cpu-clock, page-faults, context-switches, ...); PERIOD default 1
//	profile:hz:RATE                                        cpu-clock sampling at RATE Hz
//	perf_event/type=T,config=C,frequency=F                 any perf event, as the attach package names it
//
// Tracepoint fields come from /sys/kernel/tracing/events/CAT/NAME/format
// (tracefs is mounted when missing): integers with their size and
// signedness, char[N] and __data_loc char[] strings, other arrays as bytes,
// pointers as u64. raw_tp and tp_btf arguments are named and typed from
// kernel BTF (btf_trace_NAME, names from __bpf_trace_NAME); pointers to
// structs can be followed: args.prev->comm, args.next->se.vruntime.
//
// # Expressions
//
// Names: a tracepoint field or tracepoint argument (bare, or args.NAME /
// args->NAME, which always means the field), a built-in, or argN/retval.
// Built-ins win over bare field names:
//
//	pid, tgid   process id (bpftrace's pid)          u32
//	tid         thread id                            u32
//	uid, gid                                         u32
//	cpu         CPU the event runs on                u32
//	cgroup      cgroup v2 id (decoder cgroup)        u64
//	comm        task name                            string, 16 bytes
//	nsecs       ktime_get_ns                         u64
//	elapsed     end - start, in a start/end metric   u64 (ns)
//	arg0..arg5  uprobe/kprobe registers; raw_tp/tp_btf arguments by position
//	retval      uretprobe/kretprobe return register  s64
//
// Operators, C precedence: || && | ^ & (== != =~) (< > <= >=) (<< >>) (+ -)
// (* / %), unary ! - ~, parentheses. Comparisons are signed when an operand
// is signed; arithmetic is 64-bit, division unsigned (division by a literal
// zero is an error; by a zero value, 0). Strings compare only with a
// literal: == and != exactly, =~ "prefix*" by prefix (the only wildcard is a
// trailing *). str(PTR[, SIZE]) reads a NUL-terminated string at a pointer:
// user memory for syscalls/* tracepoints and uprobes, kernel memory
// elsewhere.
//
// # Errors
//
// Compile errors are *config.Error values with the YAML line and field,
// quoting the expression where it went wrong: a missing field lists the
// fields that exist, a missing struct member lists the members, a string
// used as a number (or the reverse) names both types.
//
// # Drops
//
// Compile appends the counter declarative_dropped_updates_total{metric} to
// the config: failed map updates (a full map, or a full start map) by
// metric, from the array map of the same name, so it flows through the
// normal collector.
//
// # Generated code
//
// Each metric is one program (two with start/end): R6 holds the context;
// the key is built on the stack (zeroed first), numbers are loaded straight
// from the context where the verifier allows it, strings are copied with
// bpf_get_current_comm or bpf_probe_read_kernel(_str); the map update is a
// lookup with an atomic add, else an insert with BPF_NOEXIST, retrying the
// lookup on -EEXIST and counting a drop otherwise. exp2 buckets use a
// branch-per-step log2 without loops. Dump prints the maps and
// instructions.
package declarative
