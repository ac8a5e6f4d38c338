// Package mapread reads the entries of a BPF map at scrape time, fast.
//
// A Reader turns a map into (key bytes, u64 value) rows: the shape every
// counter and histogram of the exporter is read in. It uses the kernel's batch
// lookup (BPF_MAP_LOOKUP_BATCH, Linux 5.6+) into buffers reused from one read
// to the next, so a steady-state read costs a few system calls per 4096
// entries and no allocation per entry. Maps or kernels without batch
// operations are read key by key instead.
package mapread

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

const (
	// maxBatch is the most entries fetched by one batch lookup system call.
	maxBatch = 4096
	// minBatch is the fewest entries per batch for maps with large per-CPU values.
	minBatch = 64
	// perCPUBatchBytes bounds the value buffer of per-CPU maps on machines with many CPUs.
	perCPUBatchBytes = 2 << 20
)

// Reader reads maps into reused buffers.
//
// A Reader is not safe for concurrent use: give each metric its own, or guard
// it with a mutex. Buffers are kept per key and value shape, so one Reader may
// read several maps without reallocating.
type Reader struct {
	bufs map[shape]*buffers
	// noBatch remembers maps whose batch lookup returned ErrNotSupported.
	noBatch map[*ebpf.Map]struct{}
	cursor  ebpf.MapBatchCursor
	iter    iterBuffers
	// batchCap, when set, caps the entries per batch (tests use it to
	// exercise many batches and the ENOSPC retry).
	batchCap int
}

// shape is what a batch buffer depends on.
type shape struct {
	keySize   int
	slotSize  int // bytes per value slot: the value size, rounded up to 8 for per-CPU maps
	slots     int // value slots per entry: 1, or the number of possible CPUs
	batch     int
	valueSize int
}

// buffers are the batch lookup's output slices: keysOut and valuesOut hold
// slices of [keySize]byte and [slotSize]byte arrays, so cilium/ebpf counts
// entries right and writes straight into keys and values (no copy).
type buffers struct {
	keysOut, valuesOut any
	keys, values       []byte
}

// iterBuffers serve the key-by-key fallback.
type iterBuffers struct {
	key, value []byte
	perCPU64   []uint64
	perCPU32   []uint32
}

// NewReader returns a Reader with no buffers yet: they are allocated by the
// first read of each map shape and reused after.
func NewReader() *Reader {
	return &Reader{
		bufs:    make(map[shape]*buffers),
		noBatch: make(map[*ebpf.Map]struct{}),
	}
}

// Read calls fn for every entry of m with the key bytes and the value as a
// uint64. Values of per-CPU maps are summed over all possible CPUs. Values
// must be 8 bytes (u64) or 4 bytes (u32), read in the host's byte order;
// other sizes are an error naming the map and the size.
//
// key is only valid during fn: it points into a buffer the next entry
// overwrites. Entries changed while Read runs may be seen in either state,
// and a hash map's entries may be seen twice or not at all if keys are deleted
// and re-added concurrently, as with any BPF map iteration.
//
// Read uses the batch lookup of Linux 5.6+; for maps where it reports
// ebpf.ErrNotSupported, Read iterates key by key and remembers to do so for
// that map.
func (r *Reader) Read(m *ebpf.Map, fn func(key []byte, value uint64)) error {
	return r.ReadContext(context.Background(), m, fn)
}

// ReadContext is Read that stops between batches once ctx is done, returning
// its error: a cancelled scrape releases its work.
func (r *Reader) ReadContext(ctx context.Context, m *ebpf.Map, fn func(key []byte, value uint64)) error {
	valueSize := int(m.ValueSize())
	if valueSize != 8 && valueSize != 4 {
		return fmt.Errorf("map %s: value size %d bytes is not supported: want 8 (u64) or 4 (u32)", m, valueSize)
	}
	if _, ok := r.noBatch[m]; !ok {
		err := r.readBatch(ctx, m, nil, func(b *buffers, s shape, n int) { emit(b, s, n, fn) })
		if !errors.Is(err, ebpf.ErrNotSupported) {
			return err
		}
		r.noBatch[m] = struct{}{}
	}
	return r.readIter(ctx, m, fn)
}

// ReadValues is ReadContext for maps whose value is n u64s (a counter with
// values): fn gets them as n columns, each summed over all possible CPUs for
// per-CPU maps. values is only valid during fn.
func (r *Reader) ReadValues(ctx context.Context, m *ebpf.Map, n int, fn func(key []byte, values []uint64)) error {
	if n < 1 || int(m.ValueSize()) != 8*n {
		return fmt.Errorf("map %s: value size %d bytes is not %d u64 values", m, m.ValueSize(), n)
	}
	values := make([]uint64, n)
	if _, ok := r.noBatch[m]; !ok {
		err := r.readBatch(ctx, m, nil, func(b *buffers, s shape, count int) {
			entryBytes := s.slotSize * s.slots
			for i := range count {
				key := b.keys[i*s.keySize : (i+1)*s.keySize : (i+1)*s.keySize]
				sumColumns(values, b.values[i*entryBytes:(i+1)*entryBytes], s.slotSize)
				fn(key, values)
			}
		})
		if !errors.Is(err, ebpf.ErrNotSupported) {
			return err
		}
		r.noBatch[m] = struct{}{}
	}
	return r.readIterValues(ctx, m, values, fn)
}

// sumColumns sets values[j] to the sum of the j-th u64 of every slotSize
// slot of v.
func sumColumns(values []uint64, v []byte, slotSize int) {
	clear(values)
	for off := 0; off+8*len(values) <= len(v); off += slotSize {
		for j := range values {
			values[j] += binary.NativeEndian.Uint64(v[off+8*j:])
		}
	}
}

// readIterValues is readIter for ReadValues.
func (r *Reader) readIterValues(ctx context.Context, m *ebpf.Map, values []uint64, fn func(key []byte, values []uint64)) error {
	size := int(m.ValueSize())
	key := make([]byte, m.KeySize())
	var valueOut any
	var raw []byte
	if perCPU(m.Type()) {
		cpus, err := ebpf.PossibleCPU()
		if err != nil {
			return fmt.Errorf("map %s: %w", m, err)
		}
		valueOut, raw = byteArrays(size, cpus)
	} else {
		raw = make([]byte, size)
		valueOut = raw
	}
	iter := m.Iterate()
	for n := 0; iter.Next(key, valueOut); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		sumColumns(values, raw, size)
		fn(key, values)
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("map %s: %w", m, err)
	}
	return nil
}

// Count returns the number of entries in m. Array maps always hold
// MaxEntries entries; other maps are read in full to count them.
func (r *Reader) Count(m *ebpf.Map) (int, error) {
	switch m.Type() {
	case ebpf.Array, ebpf.PerCPUArray:
		return int(m.MaxEntries()), nil
	}
	// Only keys matter: count batches of any value size, without
	// summing values.
	n := 0
	err := r.readBatch(context.Background(), m, func(batch int) { n += batch }, nil)
	if errors.Is(err, ebpf.ErrNotSupported) {
		n = 0
		var key []byte
		next := make([]byte, m.KeySize())
		for {
			if err := m.NextKey(key, next); errors.Is(err, ebpf.ErrKeyNotExist) {
				return n, nil
			} else if err != nil {
				return n, fmt.Errorf("map %s: %w", m, err)
			}
			n++
			key = append(key[:0], next...)
		}
	}
	return n, err
}

// readBatch reads m in batches, passing each batch's size to counted (if
// not nil) and the batch to each (if not nil).
func (r *Reader) readBatch(ctx context.Context, m *ebpf.Map, counted func(int), each func(b *buffers, s shape, n int)) error {
	s, err := batchShape(m)
	if err != nil {
		return err
	}
	if r.batchCap > 0 {
		s.batch = min(s.batch, r.batchCap)
	}
	b := r.buffersFor(s)

	// A cursor is bound to one map and one pass: start a fresh one.
	r.cursor = ebpf.MapBatchCursor{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := m.BatchLookup(&r.cursor, b.keysOut, b.valuesOut, nil)
		done := errors.Is(err, ebpf.ErrKeyNotExist)
		if err != nil && !done {
			if errors.Is(err, unix.ENOSPC) && s.batch < int(m.MaxEntries()) {
				// A hash bucket holds more entries than a batch: the
				// kernel left the cursor at that bucket, so retry it
				// with a larger batch.
				s.batch = min(2*s.batch, int(m.MaxEntries()))
				b = r.buffersFor(s)
				continue
			}
			return fmt.Errorf("map %s: %w", m, err)
		}
		if counted != nil {
			counted(n)
		}
		if each != nil {
			each(b, s, n)
		}
		if done {
			return nil
		}
	}
}

// emit calls fn for the first n entries of a batch.
func emit(b *buffers, s shape, n int, fn func(key []byte, value uint64)) {
	keys, values := b.keys, b.values
	entryBytes := s.slotSize * s.slots
	for i := range n {
		key := keys[i*s.keySize : (i+1)*s.keySize : (i+1)*s.keySize]
		fn(key, sumSlots(values[i*entryBytes:(i+1)*entryBytes], s.slotSize, s.valueSize))
	}
}

// sumSlots sums the values at the start of each slotSize slot of v.
func sumSlots(v []byte, slotSize, valueSize int) uint64 {
	var sum uint64
	if valueSize == 8 {
		for off := 0; off+8 <= len(v); off += slotSize {
			sum += binary.NativeEndian.Uint64(v[off:])
		}
		return sum
	}
	for off := 0; off+4 <= len(v); off += slotSize {
		sum += uint64(binary.NativeEndian.Uint32(v[off:]))
	}
	return sum
}

func batchShape(m *ebpf.Map) (shape, error) {
	s := shape{
		keySize:   int(m.KeySize()),
		slotSize:  int(m.ValueSize()),
		slots:     1,
		valueSize: int(m.ValueSize()),
	}
	if s.keySize == 0 {
		return s, fmt.Errorf("map %s: key size 0 cannot be read by key: %w", m, ebpf.ErrNotSupported)
	}
	batch := maxBatch
	if perCPU(m.Type()) {
		cpus, err := ebpf.PossibleCPU()
		if err != nil {
			return s, fmt.Errorf("map %s: %w", m, err)
		}
		s.slots = cpus
		s.slotSize = (s.slotSize + 7) &^ 7
		batch = min(maxBatch, max(minBatch, perCPUBatchBytes/(s.slotSize*s.slots)))
	}
	s.batch = max(1, min(batch, int(m.MaxEntries())))
	return s, nil
}

func (r *Reader) buffersFor(s shape) *buffers {
	if b, ok := r.bufs[s]; ok {
		return b
	}
	b := &buffers{}
	b.keysOut, b.keys = byteArrays(s.keySize, s.batch)
	b.valuesOut, b.values = byteArrays(s.slotSize, s.batch*s.slots)
	r.bufs[s] = b
	return b
}

// byteArrays returns a []([size]byte) of length n, and its memory as bytes.
func byteArrays(size, n int) (any, []byte) {
	v := reflect.MakeSlice(reflect.SliceOf(reflect.ArrayOf(size, reflect.TypeFor[byte]())), n, n)
	return v.Interface(), unsafe.Slice((*byte)(v.UnsafePointer()), size*n)
}

// readIter reads m key by key: the fallback for kernels or map types without
// batch lookup.
func (r *Reader) readIter(ctx context.Context, m *ebpf.Map, fn func(key []byte, value uint64)) error {
	it := &r.iter
	it.key = resize(it.key, int(m.KeySize()))
	var valueOut any
	sum := func() uint64 { return sumSlots(it.value, len(it.value), len(it.value)) }
	if perCPU(m.Type()) {
		cpus, err := ebpf.PossibleCPU()
		if err != nil {
			return fmt.Errorf("map %s: %w", m, err)
		}
		if m.ValueSize() == 8 {
			it.perCPU64 = resize(it.perCPU64, cpus)
			valueOut = it.perCPU64
			sum = func() uint64 { return sumSlice(it.perCPU64) }
		} else {
			it.perCPU32 = resize(it.perCPU32, cpus)
			valueOut = it.perCPU32
			sum = func() uint64 { return sumSlice(it.perCPU32) }
		}
	} else {
		it.value = resize(it.value, int(m.ValueSize()))
		valueOut = it.value
	}

	iter := m.Iterate()
	for n := 0; iter.Next(it.key, valueOut); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		fn(it.key, sum())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("map %s: %w", m, err)
	}
	return nil
}

func sumSlice[T uint32 | uint64](s []T) uint64 {
	var sum uint64
	for _, v := range s {
		sum += uint64(v)
	}
	return sum
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// perCPU reports whether maps of type t hold one value per possible CPU.
func perCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}
