package decoder

import (
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// Regexp lets through inputs matching one of the decoder's regexps, tried in
// order, and skips the series (ErrSkipLabelSet) for any other input. When the
// first matching expression has a capture group, the output is the text of
// its first group (as in the reference exporter: "^(kswapd).*$" folds every
// kswapd thread into "kswapd"); otherwise it is the input unchanged.
//
// Expressions are compiled once and cached by pattern; an invalid one is an
// error.
type Regexp struct {
	mu    sync.RWMutex
	cache map[string]*regexp.Regexp
}

func newRegexp() *Regexp {
	return &Regexp{cache: map[string]*regexp.Regexp{}}
}

// Decode implements Decoder.
func (r *Regexp) Decode(in []byte, conf config.Decoder) ([]byte, error) {
	if len(conf.Regexps) == 0 {
		return nil, errors.New("no regexps in config")
	}
	for _, expr := range conf.Regexps {
		re, err := r.compile(expr)
		if err != nil {
			return nil, err
		}
		m := re.FindSubmatchIndex(in)
		if m == nil {
			continue
		}
		if len(m) >= 4 && m[2] >= 0 {
			return append([]byte(nil), in[m[2]:m[3]]...), nil
		}
		return append([]byte(nil), in...), nil
	}
	return nil, fmt.Errorf("input %q matches none of %d regexps: %w", in, len(conf.Regexps), ErrSkipLabelSet)
}

func (r *Regexp) compile(expr string) (*regexp.Regexp, error) {
	r.mu.RLock()
	re, ok := r.cache[expr]
	r.mu.RUnlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("compiling regexp %q: %w", expr, err)
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]*regexp.Regexp{}
	}
	r.cache[expr] = re
	r.mu.Unlock()
	return re, nil
}
