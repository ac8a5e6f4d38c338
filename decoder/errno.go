package decoder

import (
	"fmt"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Errno decodes a decimal errno (the output of uint) into its name, like
// "ENOENT". A negative number, as kernel functions return, is decoded by its
// absolute value. An unknown number decodes to "unknown:N", as in the
// reference exporter.
type Errno struct{}

// Decode implements Decoder.
func (*Errno) Decode(in []byte, _ config.Decoder) ([]byte, error) {
	var n uint64
	if len(in) > 0 && in[0] == '-' {
		v, err := strconv.ParseInt(string(in), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("input %q is not a decimal integer", in)
		}
		n = uint64(-v) // -MinInt64 wraps to 1<<63, which has no name
	} else {
		v, err := parseUint(in)
		if err != nil {
			return nil, err
		}
		n = v
	}
	if n <= 4095 {
		if name := unix.ErrnoName(syscall.Errno(n)); name != "" {
			return []byte(name), nil
		}
	}
	return fmt.Appendf(nil, "unknown:%d", n), nil
}
