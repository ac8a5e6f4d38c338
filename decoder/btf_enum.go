package decoder

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/ebpf-exporter/ebpf_exporter/config"
)

// BTFEnum decodes a decimal enum value (the output of uint; a leading minus
// is accepted for signed enums) into the name of that enumerator in the
// kernel BTF enum named by the decoder's enum field: with enum
// "skb_drop_reason", 2 decodes to "SKB_DROP_REASON_NOT_SPECIFIED". Names are
// given in full, without stripping a common prefix. A value with no
// enumerator decodes to "unknown:N". This decoder is not in the reference
// exporter.
//
// The kernel BTF is loaded once, on first use; each enum's table is built
// once. A missing enum field, a BTF load failure, or no enum of that name in
// the BTF is an error.
type BTFEnum struct {
	loadSpec func() (*btf.Spec, error)

	once    sync.Once
	spec    *btf.Spec
	specErr error

	mu    sync.Mutex
	enums map[string]*enumTable
}

type enumTable struct {
	mask  uint64
	names map[uint64]string
	err   error
}

func newBTFEnum(load func() (*btf.Spec, error)) *BTFEnum {
	return &BTFEnum{loadSpec: load, enums: map[string]*enumTable{}}
}

// Decode implements Decoder.
func (b *BTFEnum) Decode(in []byte, conf config.Decoder) ([]byte, error) {
	if conf.Enum == "" {
		return nil, errors.New("no enum in config")
	}
	var v uint64
	if len(in) > 0 && in[0] == '-' {
		n, err := strconv.ParseInt(string(in), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("input %q is not a decimal integer", in)
		}
		v = uint64(n)
	} else {
		n, err := parseUint(in)
		if err != nil {
			return nil, err
		}
		v = n
	}
	t, err := b.table(conf.Enum)
	if err != nil {
		return nil, err
	}
	if v&^t.mask == 0 || v|t.mask == ^uint64(0) {
		if name, ok := t.names[v&t.mask]; ok {
			return []byte(name), nil
		}
	}
	return append([]byte("unknown:"), in...), nil
}

func (b *BTFEnum) table(name string) (*enumTable, error) {
	b.once.Do(func() {
		if b.loadSpec == nil {
			b.specErr = errors.New("no BTF loader")
			return
		}
		b.spec, b.specErr = b.loadSpec()
		if b.specErr == nil && b.spec == nil {
			b.specErr = errors.New("BTF loader returned no spec")
		}
	})
	if b.specErr != nil {
		return nil, fmt.Errorf("loading kernel BTF: %w", b.specErr)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.enums[name]; ok {
		return t, t.err
	}
	t := buildEnumTable(b.spec, name)
	if b.enums == nil {
		b.enums = map[string]*enumTable{}
	}
	b.enums[name] = t
	return t, t.err
}

func buildEnumTable(spec *btf.Spec, name string) *enumTable {
	types, err := spec.AnyTypesByName(name)
	if err != nil && !errors.Is(err, btf.ErrNotFound) {
		return &enumTable{err: fmt.Errorf("looking up enum %q in BTF: %w", name, err)}
	}
	for _, typ := range types {
		e, ok := typ.(*btf.Enum)
		if !ok {
			continue
		}
		t := &enumTable{mask: ^uint64(0), names: make(map[uint64]string, len(e.Values))}
		if e.Size > 0 && e.Size < 8 {
			t.mask = 1<<(8*e.Size) - 1
		}
		for _, ev := range e.Values {
			k := ev.Value & t.mask
			if _, dup := t.names[k]; !dup {
				t.names[k] = ev.Name
			}
		}
		return t
	}
	return &enumTable{err: fmt.Errorf("no enum %q in kernel BTF", name)}
}
