package decoder

import "testing"

func TestString(t *testing.T) {
	runDecodeCases(t, &String{}, []decodeCase{
		{name: "terminated", in: []byte("bash\x00\x00\x00\x00"), out: "bash"},
		{name: "garbage after nul", in: []byte("sh\x00junk"), out: "sh"},
		{name: "unterminated", in: []byte("kworker/"), out: "kworker/"},
		{name: "empty", in: nil, out: ""},
		{name: "leading nul", in: []byte("\x00abc"), out: ""},
	})
}
