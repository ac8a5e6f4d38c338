package attach

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParsePerfEvent(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want perfEventSpec
	}{
		{"type=1,config=0,frequency=99", perfEventSpec{typ: 1, config: 0, frequency: 99}},
		{"type=0,config=3,frequency=1", perfEventSpec{typ: 0, config: 3, frequency: 1}},
		{"type=0x4,config=0x1c0,sample_period=100000", perfEventSpec{typ: 4, config: 0x1c0, period: 100000}},
	} {
		got, err := parsePerfEvent(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "type=1", "type=1,config=0", "type=1,config=0,frequency=1,sample_period=2",
		"type=1,config=0,frequency=0", "type=1,config=0,frequency=x", "type=1,type=1,config=0,frequency=1",
		"type=1,config=0,frequency=1,cpu=2", "type=1,config=0,frequency",
	} {
		if _, err := parsePerfEvent(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{
		"0":         {0},
		"0-1":       {0, 1},
		"0-2,4,6-7": {0, 1, 2, 4, 6, 7},
		"3,5":       {3, 5},
	} {
		got, err := parseCPUList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a", "3-1", "0-"} {
		if _, err := parseCPUList(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestResolveBinary(t *testing.T) {
	sh, err := resolveBinary("sh")
	if err != nil || !filepath.IsAbs(sh) {
		t.Errorf("sh: got %q, %v", sh, err)
	}
	if _, err := resolveBinary("no-such-binary-here"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing program: got %v", err)
	}
	if _, err := resolveBinary("libno-such-library.so.1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing library: got %v", err)
	}
	if p, err := resolveBinary("libc.so.6"); err == nil {
		t.Logf("libc.so.6 -> %s", p)
	}
}

func TestParseTargets(t *testing.T) {
	for in, ok := range map[string]bool{
		"do_sys_openat2": true, "do_sys_openat2+0x10": true, "tcp_v4_rcv+16": true,
		"a b": false, "f+": false, "f+x": false,
	} {
		if got := kprobeTarget.MatchString(in); got != ok {
			t.Errorf("kprobe %q: matched %v", in, got)
		}
	}
	for in, ok := range map[string]bool{
		"/bin/bash:readline": true, "libc.so.6:malloc+0x4": true, "/x:0x1234": true,
		"/bin/bash": false, ":readline": false, "/bin/bash:": false,
	} {
		if got := uprobeTarget.MatchString(in); got != ok {
			t.Errorf("uprobe %q: matched %v", in, got)
		}
	}
}
