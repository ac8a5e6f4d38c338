package decoder

import "testing"

func TestErrno(t *testing.T) {
	runDecodeCases(t, &Errno{}, []decodeCase{
		{name: "ENOENT", in: []byte("2"), out: "ENOENT"},
		{name: "EPERM", in: []byte("1"), out: "EPERM"},
		{name: "negative", in: []byte("-110"), out: "ETIMEDOUT"},
		{name: "EADDRINUSE", in: []byte("98"), out: "EADDRINUSE"},
		{name: "zero", in: []byte("0"), out: "unknown:0"},
		{name: "unknown", in: []byte("4000"), out: "unknown:4000"},
		{name: "huge", in: []byte("18446744073709551615"), out: "unknown:18446744073709551615"},
		{name: "min int64", in: []byte("-9223372036854775808"), out: "unknown:9223372036854775808"},
		{name: "empty", in: nil, err: `input "" is not a decimal unsigned integer`},
		{name: "raw bytes", in: []byte{2, 0, 0, 0}, err: "is not a decimal unsigned integer"},
		{name: "bad negative", in: []byte("-x"), err: `input "-x" is not a decimal integer`},
	})
}
