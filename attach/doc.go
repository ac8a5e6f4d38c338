// Package attach attaches loaded eBPF programs by their ELF section name,
// named the way libbpf names sections, so that objects written for
// Cloudflare's ebpf_exporter attach unchanged.
//
// Program reads spec.SectionName and creates the links; Attachment.Close
// removes them. Supported sections (one file per kind):
//
//	tracepoint/CATEGORY/NAME     tracepoint.go  tracefs event (tp/CATEGORY/NAME too)
//	raw_tp/NAME                  rawtp.go       raw tracepoint (raw_tracepoint/NAME, .w forms)
//	tp_btf/NAME                  rawtp.go       BTF-typed raw tracepoint
//	fentry/FUNC, fexit/FUNC      tracing.go     BTF trampolines (fmod_ret/FUNC, .s forms)
//	kprobe/SYMBOL[+OFFSET]       kprobe.go      kernel probe
//	kretprobe/SYMBOL             kprobe.go      kernel return probe
//	uprobe/BINARY:SYMBOL[+OFF]   uprobe.go      user probe (uretprobe/..., .s forms)
//	usdt/BINARY:PROVIDER:NAME    usdt.go        one uprobe per SystemTap SDT note, semaphore raised, arguments
//	perf_event/type=T,config=C,frequency=F
//	perf_event/type=T,config=C,sample_period=P
//	                             perf_event.go  one sampling perf event per online CPU
//	xdp/IFNAME[,IFNAME...]       xdp.go         driver mode, falling back to generic mode
//	iter/TARGET                  iter.go        BPF iterator, run by reading Attachment.Iter
//
// BINARY is a path, a library name containing ".so" (searched in
// LD_LIBRARY_PATH and the system library directories) or a program name
// (searched in PATH), as libbpf resolves it. SYMBOL may be a number: a file
// offset. Numbers are decimal or 0x hexadecimal.
//
// Errors name the section and wrap the kernel's error, so errors.Is works
// with unix.Errno values and os.ErrNotExist. Sections this package cannot
// attach (unknown kinds, or bare "kprobe", "xdp", "perf_event" with no
// target) wrap ErrUnsupportedSection. Known kernel gaps get a named reason:
// a missing tracepoint ("tracepoint CAT/NAME does not exist on this
// kernel"), no kprobes (ErrNoKprobes), a missing hardware PMU ("no hardware
// PMU for perf event type=0,config=..."), and fentry/fexit under lockdown
// ("kernel lockdown forbids fentry/fexit"; such kernels refuse the program
// at load time, so the loader passes load errors through LoadError).
//
// Tracepoints, kprobes and uprobes without their perf PMU need tracefs:
// Program mounts tracefs at /sys/kernel/tracing (or debugfs at
// /sys/kernel/debug) when neither is mounted.
//
// A USDT program that reads its arguments through libbpf's usdt.bpf.h
// (BPF_USDT(), bpf_usdt_arg()) gets them as libbpf gives them: with
// Options.USDTSpecs, each probe site's argument string (x86_64 and arm64
// forms: register, register + offset in memory, constant) is stored in the
// object's __bpf_usdt_specs map and its id becomes the uprobe's BPF cookie.
// The loader makes such objects loadable by cilium/ebpf (weak symbols,
// hidden functions, the LINUX_HAS_BPF_COOKIE extern).
package attach
