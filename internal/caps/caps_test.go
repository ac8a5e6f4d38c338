package caps

import "testing"

func TestParse(t *testing.T) {
	cases := map[string]Set{
		"all":                    All,
		"none":                   0,
		"cap_syslog,cap_perfmon": 1<<34 | 1<<38,
		"CAP_BPF, perfmon":       1<<39 | 1<<38,
	}
	for in, want := range cases {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := Parse("cap_flying"); err == nil {
		t.Error("Parse accepted an unknown capability")
	}
	if s := Set(1<<34 | 1<<39).String(); s != "cap_bpf,cap_syslog" {
		t.Errorf("String = %q", s)
	}
}
