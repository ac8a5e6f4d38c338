// Package decoder turns the raw bytes of a BPF map key into Prometheus label
// values, with the label decoders of Cloudflare's ebpf_exporter.
//
// A config label names a slice of the key (size bytes, then padding bytes
// skipped) and a chain of decoders: the first gets the raw bytes, each next
// one the previous one's output, and the last output is the label value.
// [Set.DecodeLabels] does this for a whole key. A decoder returning an error
// wrapping [ErrSkipLabelSet] drops the series silently; any other error means
// the key could not be decoded. No decoder panics on any input.
//
// Decoders, their input and output ("decimal" means the output of uint):
//
//	uint          1, 2, 4 or 8 byte host order unsigned int -> decimal
//	string        bytes -> the bytes up to the first NUL
//	hex           bytes -> lowercase hex
//	inet_ip       4 bytes -> "10.0.0.1", 16 bytes -> "2001:db8::1" (network order)
//	dname         DNS wire format name -> "example.com"
//	static_map    input -> static_map[input], else "unknown:INPUT" (input itself with allow_unknown)
//	regexp        input matching one of regexps -> input (or its first capture group); else skip the series
//	ksym          8 byte kernel address -> symbol starting there, else "unknown_addr:0xADDR"
//	kstack        u64 address array, zero terminated -> containing symbols joined by "\n" ("??" if none)
//	syscall       decimal -> syscall name for amd64 or arm64, else "unknown_syscall:N"
//	errno         decimal (negative allowed) -> "ENOENT", else "unknown:N"
//	majorminor    4 or 8 byte host order new_encode_dev dev_t -> "sda", else "MAJOR:MINOR"
//	ifname        4 byte host order ifindex -> "eth0", else the index in decimal
//	cgroup        decimal cgroup id -> "/system.slice/foo.service", else "unknown_cgroup_id:N"
//	pci_vendor    decimal vendor id -> vendor name from pci.ids
//	pci_device    decimal vendor<<16|device -> device name from pci.ids
//	pci_class     decimal class -> class name from pci.ids
//	pci_subclass  decimal class<<8|subclass -> subclass name from pci.ids
//	btf_enum      decimal -> enumerator name of the kernel BTF enum named by enum, else "unknown:N"
//
// Host state (kallsyms, the cgroup id map, pci.ids, kernel BTF) is loaded on
// first use and cached; see [Options] for where it is read from. A [Set] is
// safe for concurrent use.
package decoder
