package mapread

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
)

func setup(t testing.TB) {
	t.Helper()
	testenv.RequirePrivileged(t)
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Fatalf("removing memlock limit: %v", err)
	}
}

func newMap(t testing.TB, spec *ebpf.MapSpec) *ebpf.Map {
	t.Helper()
	m, err := ebpf.NewMap(spec)
	if err != nil {
		t.Fatalf("creating %s map: %v", spec.Type, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// u64Hash returns a hash u64→u64 holding keys 0..n-1 with value key*3+1.
func u64Hash(t testing.TB, typ ebpf.MapType, n, maxEntries int) (*ebpf.Map, map[string]uint64) {
	t.Helper()
	m := newMap(t, &ebpf.MapSpec{Type: typ, KeySize: 8, ValueSize: 8, MaxEntries: uint32(maxEntries)})
	want := make(map[string]uint64, n)
	keys := make([]uint64, 0, n)
	values := make([]uint64, 0, n)
	for i := range n {
		k, v := uint64(i)*7919, uint64(i)*3+1
		keys = append(keys, k)
		values = append(values, v)
		want[string(binary.NativeEndian.AppendUint64(nil, k))] = v
	}
	for len(keys) > 0 {
		c := min(len(keys), 65536)
		if _, err := m.BatchUpdate(keys[:c], values[:c], nil); err != nil {
			t.Fatalf("filling map: %v", err)
		}
		keys, values = keys[c:], values[c:]
	}
	return m, want
}

// readers are the two ways a Reader reads a map: both must agree.
var readers = []struct {
	name string
	read func(*Reader, *ebpf.Map, func([]byte, uint64)) error
}{
	{"batch", (*Reader).Read},
	{"iterate", func(r *Reader, m *ebpf.Map, fn func([]byte, uint64)) error {
		return r.readIter(context.Background(), m, fn)
	}},
}

// check reads m and compares every entry against want, exactly once each.
func check(t *testing.T, r *Reader, m *ebpf.Map, want map[string]uint64) {
	t.Helper()
	for _, rd := range readers {
		got := make(map[string]uint64, len(want))
		var dup []string
		err := rd.read(r, m, func(key []byte, value uint64) {
			if _, ok := got[string(key)]; ok {
				dup = append(dup, fmt.Sprintf("%x", key))
			}
			got[string(key)] = value
		})
		if err != nil {
			t.Fatalf("%s: %v", rd.name, err)
		}
		if len(dup) > 0 {
			t.Errorf("%s: keys read twice: %v", rd.name, dup[:min(len(dup), 5)])
		}
		if len(got) != len(want) {
			t.Errorf("%s: read %d entries, want %d", rd.name, len(got), len(want))
		}
		bad := 0
		for k, w := range want {
			g, ok := got[k]
			if !ok || g != w {
				if bad++; bad <= 5 {
					t.Errorf("%s: key %x: got %d (present %v), want %d", rd.name, k, g, ok, w)
				}
			}
		}
	}
}

func TestReadHash(t *testing.T) {
	setup(t)
	r := NewReader()
	for _, n := range []int{0, 1, 4095, 4096, 4097, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m, want := u64Hash(t, ebpf.Hash, n, max(n, 1))
			check(t, r, m, want)
			// A second read reuses buffers and must start over.
			check(t, r, m, want)
		})
	}
	t.Run("sparse", func(t *testing.T) {
		// Few entries in a large table: most buckets are empty.
		m, want := u64Hash(t, ebpf.Hash, 100, 100000)
		check(t, r, m, want)
	})
}

func TestReadLRUHash(t *testing.T) {
	setup(t)
	m, want := u64Hash(t, ebpf.LRUHash, 5000, 10000)
	check(t, NewReader(), m, want)
}

func TestReadPerCPUHash(t *testing.T) {
	setup(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []ebpf.MapType{ebpf.PerCPUHash, ebpf.LRUCPUHash} {
		for _, valueSize := range []uint32{8, 4} {
			t.Run(fmt.Sprintf("%s/u%d", typ, valueSize*8), func(t *testing.T) {
				const n = 5000
				m := newMap(t, &ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: valueSize, MaxEntries: 2 * n})
				want := make(map[string]uint64, n)
				for i := range uint32(n) {
					var sum uint64
					var err error
					if valueSize == 8 {
						per := make([]uint64, cpus)
						for c := range per {
							// Large values: the sum must not be truncated.
							per[c] = uint64(i)<<33 + uint64(c)*1000 + 1
							sum += per[c]
						}
						err = m.Update(i, per, ebpf.UpdateAny)
					} else {
						per := make([]uint32, cpus)
						for c := range per {
							per[c] = 0xffff0000 + i + uint32(c)
							sum += uint64(per[c])
						}
						err = m.Update(i, per, ebpf.UpdateAny)
					}
					if err != nil {
						t.Fatal(err)
					}
					want[string(binary.NativeEndian.AppendUint32(nil, i))] = sum
				}
				check(t, NewReader(), m, want)
			})
		}
	}
}

func TestReadArray(t *testing.T) {
	setup(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []ebpf.MapType{ebpf.Array, ebpf.PerCPUArray} {
		t.Run(typ.String(), func(t *testing.T) {
			const n = 5000
			m := newMap(t, &ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: n})
			want := make(map[string]uint64, n)
			for i := range uint32(n) {
				// Every third slot is left zero: arrays still list it.
				var v uint64
				if i%3 != 0 {
					v = uint64(i) * 11
					var err error
					if typ == ebpf.PerCPUArray {
						per := make([]uint64, cpus)
						per[int(i)%cpus] = v
						err = m.Update(i, per, ebpf.UpdateAny)
					} else {
						err = m.Update(i, v, ebpf.UpdateAny)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				want[string(binary.NativeEndian.AppendUint32(nil, i))] = v
			}
			r := NewReader()
			check(t, r, m, want)
			count, err := r.Count(m)
			if err != nil || count != n {
				t.Errorf("Count = %d, %v; want %d", count, err, n)
			}
		})
	}
}

func TestReadValueU32(t *testing.T) {
	setup(t)
	m := newMap(t, &ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: 10000})
	want := map[string]uint64{}
	for i := range uint64(9000) {
		v := uint32(0xffffffff - i)
		if err := m.Update(i, v, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
		want[string(binary.NativeEndian.AppendUint64(nil, i))] = uint64(v)
	}
	check(t, NewReader(), m, want)
}

func TestReadKeyStruct(t *testing.T) {
	setup(t)
	type key struct{ PID, CPU, Op uint32 } // 12 bytes, no padding
	m := newMap(t, &ebpf.MapSpec{Type: ebpf.Hash, KeySize: 12, ValueSize: 8, MaxEntries: 10000})
	want := map[string]uint64{}
	for i := range uint32(6000) {
		k := key{PID: i * 31, CPU: i % 7, Op: ^i}
		if err := m.Update(k, uint64(i)+1<<40, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
		b := binary.NativeEndian.AppendUint32(nil, k.PID)
		b = binary.NativeEndian.AppendUint32(b, k.CPU)
		b = binary.NativeEndian.AppendUint32(b, k.Op)
		want[string(b)] = uint64(i) + 1<<40
	}
	r := NewReader()
	check(t, r, m, want)
	count, err := r.Count(m)
	if err != nil || count != len(want) {
		t.Errorf("Count = %d, %v; want %d", count, err, len(want))
	}
}

func TestReadManyMaps(t *testing.T) {
	setup(t)
	// One Reader alternating between maps of different shapes.
	a, wantA := u64Hash(t, ebpf.Hash, 5000, 5000)
	b, wantB := u64Hash(t, ebpf.Hash, 300, 1000)
	c := newMap(t, &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 3})
	wantC := map[string]uint64{}
	for i := range uint32(3) {
		if err := c.Update(i, i+5, ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
		wantC[string(binary.NativeEndian.AppendUint32(nil, i))] = uint64(i + 5)
	}
	r := NewReader()
	for range 3 {
		check(t, r, a, wantA)
		check(t, r, c, wantC)
		check(t, r, b, wantB)
	}
}

func TestReadValueSizeError(t *testing.T) {
	setup(t)
	m := newMap(t, &ebpf.MapSpec{Name: "odd_values", Type: ebpf.Hash, KeySize: 8, ValueSize: 16, MaxEntries: 10})
	err := NewReader().Read(m, func([]byte, uint64) { t.Error("fn called") })
	if err == nil || !strings.Contains(err.Error(), "odd_values") || !strings.Contains(err.Error(), "16") {
		t.Fatalf("got error %v, want one naming the map and the size 16", err)
	}
}

func TestReadNotSupportedFallback(t *testing.T) {
	setup(t)
	m, want := u64Hash(t, ebpf.Hash, 100, 100)
	r := NewReader()
	// Pretend the batch lookup failed with ErrNotSupported before.
	r.noBatch[m] = struct{}{}
	check(t, r, m, want)
}

func TestReadSmallBatches(t *testing.T) {
	setup(t)
	// Batches of 1 entry: many system calls, and hash buckets holding
	// more than one entry make the kernel answer ENOSPC, which Read
	// answers by growing the batch.
	m, want := u64Hash(t, ebpf.Hash, 3000, 3000)
	for _, c := range []int{1, 2, 7} {
		r := NewReader()
		r.batchCap = c
		check(t, r, m, want)
	}
}

func TestReadAllocs(t *testing.T) {
	setup(t)
	m, _ := u64Hash(t, ebpf.Hash, 100000, 100000)
	r := NewReader()
	var sum uint64
	fn := func(_ []byte, v uint64) { sum += v }
	if err := r.Read(m, fn); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if err := r.Read(m, fn); err != nil {
			t.Fatal(err)
		}
	})
	// A few allocations per read and per batch system call, none per entry.
	if allocs > 20 {
		t.Errorf("Read of 100000 entries allocates %v times, want a handful", allocs)
	}
	t.Logf("%v allocations per read of 100000 entries", allocs)
}

func TestReadContextCancelled(t *testing.T) {
	testenv.RequirePrivileged(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := uint64(0); i < 10; i++ {
		if err := m.Put(i, i); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	err = NewReader().ReadContext(ctx, m, func([]byte, uint64) { n++ })
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("cancelled read: err %v after %d entries, want context.Canceled after 0", err, n)
	}
}

func TestCountAnyValueSize(t *testing.T) {
	testenv.RequirePrivileged(t)
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.LRUHash, ebpf.PerCPUHash} {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 8, ValueSize: 24, MaxEntries: 10000})
		if err != nil {
			t.Fatal(err)
		}
		value := make([]byte, 24)
		var perCPU [][]byte
		if typ == ebpf.PerCPUHash {
			cpus, _ := ebpf.PossibleCPU()
			for range cpus {
				perCPU = append(perCPU, make([]byte, 24))
			}
		}
		for i := uint64(0); i < 5000; i++ {
			if perCPU != nil {
				err = m.Put(i, perCPU)
			} else {
				err = m.Put(i, value)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		n, err := NewReader().Count(m)
		if err != nil || n != 5000 {
			t.Errorf("%v with 24-byte values: Count = %d, %v; want 5000", typ, n, err)
		}
		m.Close()
	}
}

// TestReadValues reads maps whose value is several u64s (a counter with
// values): each column exactly, per-CPU maps summed per column, through both
// the batch lookup and the key-by-key fallback.
func TestReadValues(t *testing.T) {
	setup(t)
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	const n, cols = 3000, 3
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUCPUHash} {
		for _, fallback := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fallback=%v", typ, fallback), func(t *testing.T) {
				m := newMap(t, &ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 8 * cols, MaxEntries: 2 * n}) // room: LRU maps evict early
				want := map[uint32][cols]uint64{}
				for i := range uint32(n) {
					var sum [cols]uint64
					if perCPU(typ) {
						per := make([][cols]uint64, cpus)
						for c := range per {
							for j := range cols {
								per[c][j] = uint64(i)<<33 + uint64(c*1000+j*10) + 1
								sum[j] += per[c][j]
							}
						}
						err = m.Update(i, per, ebpf.UpdateAny)
					} else {
						for j := range cols {
							sum[j] = uint64(i)*uint64(j+1) + 7
						}
						err = m.Update(i, sum, ebpf.UpdateAny)
					}
					if err != nil {
						t.Fatal(err)
					}
					want[i] = sum
				}
				r := NewReader()
				if fallback {
					r.noBatch[m] = struct{}{}
				}
				got := map[uint32][cols]uint64{}
				err := r.ReadValues(context.Background(), m, cols, func(key []byte, values []uint64) {
					got[binary.NativeEndian.Uint32(key)] = [cols]uint64(values)
				})
				if err != nil {
					t.Fatal(err)
				}
				if !maps.Equal(got, want) {
					t.Errorf("read %d entries, want %d; first differences: %v", len(got), len(want), firstDiff(got, want))
				}
			})
		}
	}
	m := newMap(t, &ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 12, MaxEntries: 1})
	if err := NewReader().ReadValues(context.Background(), m, 2, func([]byte, []uint64) {}); err == nil || !strings.Contains(err.Error(), "value size 12 bytes is not 2 u64 values") {
		t.Errorf("12-byte values read as 2 u64s: %v", err)
	}
}

func firstDiff[K comparable, V comparable](got, want map[K]V) []string {
	var out []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			out = append(out, fmt.Sprintf("%v: got %v want %v", k, g, v))
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}
