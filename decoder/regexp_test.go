package decoder

import (
	"errors"
	"testing"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

func TestRegexp(t *testing.T) {
	conf := config.Decoder{Regexps: []string{"^systemd-journal$", "^syslog-ng$"}}
	groups := config.Decoder{Regexps: []string{"^(kswapd).*$", "^(systemd.*)$", "^.*$"}}
	runDecodeCases(t, newRegexp(), []decodeCase{
		{name: "first", in: []byte("systemd-journal"), conf: conf, out: "systemd-journal"},
		{name: "second", in: []byte("syslog-ng"), conf: conf, out: "syslog-ng"},
		{name: "no match", in: []byte("systemd-bananad"), conf: conf, err: "matches none of 2 regexps"},
		{name: "capture group", in: []byte("kswapd0"), conf: groups, out: "kswapd"},
		{name: "whole capture", in: []byte("systemd-logind"), conf: groups, out: "systemd-logind"},
		{name: "fallthrough", in: []byte("bash"), conf: groups, out: "bash"},
		{name: "optional group unmatched", in: []byte("b"), conf: config.Decoder{Regexps: []string{"^(a)?b$"}}, out: "b"},
		{name: "no regexps", in: []byte("x"), conf: config.Decoder{}, err: "no regexps in config"},
		{name: "invalid", in: []byte("x"), conf: config.Decoder{Regexps: []string{"("}}, err: `compiling regexp "("`},
	})
}

func TestRegexpSkipIsSentinel(t *testing.T) {
	_, err := newRegexp().Decode([]byte("sshd"), config.Decoder{Regexps: []string{"^bash$"}})
	if !errors.Is(err, ErrSkipLabelSet) {
		t.Fatalf("got %v, want ErrSkipLabelSet", err)
	}
}

func TestRegexpCaches(t *testing.T) {
	r := newRegexp()
	conf := config.Decoder{Regexps: []string{"^a", "^b"}}
	for range 3 {
		if _, err := r.Decode([]byte("b"), conf); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.cache) != 2 {
		t.Fatalf("cache has %d entries, want 2", len(r.cache))
	}
}
