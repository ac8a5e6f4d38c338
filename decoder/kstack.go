package decoder

import (
	"fmt"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// KStack decodes an array of 8-byte host byte order kernel addresses (as
// bpf_get_stack writes them), ending at the first zero address or at the end
// of the input, into the symbols containing them (the nearest at or below
// each address), one per line, innermost frame first as in the reference
// exporter. An address below every symbol decodes to "??". An empty stack
// decodes to "". The input size must be a multiple of 8.
//
// Like ksym, it needs CAP_SYSLOG to read kallsyms addresses.
type KStack struct {
	syms *kallsyms
}

// Decode implements Decoder.
func (k *KStack) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	if len(in)%8 != 0 {
		return nil, fmt.Errorf("input is %d bytes, want a multiple of 8", len(in))
	}
	var out []byte
	for off := 0; off < len(in); off += 8 {
		addr, _ := hostUint(in[off : off+8])
		if addr == 0 {
			break
		}
		name, ok, err := k.syms.Floor(addr)
		if err != nil {
			return nil, err
		}
		if !ok {
			name = "??"
		}
		if off > 0 {
			out = append(out, '\n')
		}
		out = append(out, name...)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
