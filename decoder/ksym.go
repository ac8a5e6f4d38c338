package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// KSym decodes an 8-byte host byte order kernel address into the name of the
// kernel symbol starting exactly at it, from kallsyms (like the reference
// exporter, which expects function addresses such as those of
// bpf_get_func_ip or kprobe ctx IPs). An address that is no symbol's start
// decodes to "unknown_addr:0xADDR", as in the reference exporter; kallsyms is
// reread on such a miss at most every 10 seconds, for modules loaded later.
//
// Symbol names are given without their "[module]" suffix. Reading kallsyms
// addresses needs CAP_SYSLOG: without it every address reads as zero, and
// Decode returns an error saying so.
type KSym struct {
	syms *kallsyms
}

// Decode implements Decoder.
func (k *KSym) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	if len(in) != 8 {
		return nil, fmt.Errorf("input is %d bytes, want an 8 byte address", len(in))
	}
	addr, _ := hostUint(in)
	name, ok, err := k.syms.Exact(addr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return fmt.Appendf(nil, "unknown_addr:0x%x", addr), nil
	}
	return []byte(name), nil
}
