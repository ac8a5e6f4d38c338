package mapread

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
)

var benchSizes = []int{1000, 10000, 100000, 1000000}

// benchMap returns a full hash u64→u64 of n entries, created once per size.
func benchMap(b *testing.B, n int) *ebpf.Map {
	b.Helper()
	setup(b)
	m, _ := u64Hash(b, ebpf.Hash, n, n)
	return m
}

func report(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
}

// BenchmarkRead is Reader.Read, steady state: buffers already allocated.
func BenchmarkRead(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := benchMap(b, n)
			r := NewReader()
			var sum uint64
			fn := func(_ []byte, v uint64) { sum += v }
			if err := r.Read(m, fn); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := r.Read(m, fn); err != nil {
					b.Fatal(err)
				}
			}
			report(b, n)
		})
	}
}

// BenchmarkBareBatchLookup is the floor: BatchLookup into preallocated typed
// slices, nothing else.
func BenchmarkBareBatchLookup(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := benchMap(b, n)
			keys := make([]uint64, maxBatch)
			values := make([]uint64, maxBatch)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var cursor ebpf.MapBatchCursor
				total := 0
				for {
					c, err := m.BatchLookup(&cursor, keys, values, nil)
					total += c
					if errors.Is(err, ebpf.ErrKeyNotExist) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if total != n {
					b.Fatalf("read %d entries, want %d", total, n)
				}
			}
			report(b, n)
		})
	}
}

// BenchmarkIterate is per-key Map.Iterate: two system calls per entry.
func BenchmarkIterate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := benchMap(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var k, v uint64
				it := m.Iterate()
				total := 0
				for it.Next(&k, &v) {
					total++
				}
				if err := it.Err(); err != nil {
					b.Fatal(err)
				}
				if total != n {
					b.Fatalf("read %d entries, want %d", total, n)
				}
			}
			report(b, n)
		})
	}
}
