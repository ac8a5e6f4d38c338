// Package eventsink turns events that BPF programs send through a perf event
// array into counters: the reference exporter's perf_event_array counters.
// Each event's bytes are the counter's labels; every event adds one to its
// series, and the series are reset every flush_interval (default an hour) so
// that label sets that stop appearing go away.
package eventsink

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
	dto "github.com/prometheus/client_model/go"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
)

// DefaultFlushInterval is the reference exporter's flush interval when a
// config sets none.
const DefaultFlushInterval = time.Hour

// Sink counts the events of one perf_event_array counter.
type Sink struct {
	counter  config.Counter
	config   string
	keySize  int
	decoders *decoder.Set
	logger   *slog.Logger
	reader   *perf.Reader
	done     chan struct{}
	stop     chan struct{}

	mu     sync.Mutex
	series map[string]*series
	lost   float64
	errors float64 // events whose labels did not decode
}

type series struct {
	values []string
	count  float64
}

// Start reads the events of the perf event array m for counter c of the
// config named configName.
func Start(configName string, c config.Counter, m *ebpf.Map, decoders *decoder.Set, logger *slog.Logger) (*Sink, error) {
	if m.Type() != ebpf.PerfEventArray {
		return nil, fmt.Errorf("metric %s: perf_event_array counter needs a map of type PerfEventArray, the object's is %s", c.Name, m.Type())
	}
	rd, err := perf.NewReader(m, 16*os.Getpagesize())
	if err != nil {
		return nil, fmt.Errorf("metric %s: reading perf event array: %w", c.Name, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sink{counter: c, config: configName, keySize: int(config.KeySize(c.Labels)), decoders: decoders,
		logger: logger, reader: rd, done: make(chan struct{}), stop: make(chan struct{}), series: map[string]*series{}}
	flush := c.FlushInterval
	if flush <= 0 {
		flush = DefaultFlushInterval
	}
	go s.read()
	go s.flushEvery(flush)
	return s, nil
}

func (s *Sink) read() {
	defer close(s.done)
	var rec perf.Record
	for {
		if err := s.reader.ReadInto(&rec); err != nil {
			if errors.Is(err, perf.ErrClosed) {
				return
			}
			s.logger.Error("reading perf events", "config", s.config, "metric", s.counter.Name, "err", err)
			continue
		}
		s.add(&rec)
	}
}

// add counts one record.
func (s *Sink) add(rec *perf.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.LostSamples > 0 {
		s.lost += float64(rec.LostSamples)
		return
	}
	// Samples may carry up to 7 bytes of trailing padding: the labels are
	// the first keySize bytes.
	if len(rec.RawSample) < s.keySize {
		s.errors++
		return
	}
	key := rec.RawSample[:s.keySize]
	if se, ok := s.series[string(key)]; ok {
		se.count++
		return
	}
	values, err := s.decoders.DecodeLabels(key, s.counter.Labels)
	if err != nil {
		if !errors.Is(err, decoder.ErrSkipLabelSet) {
			s.errors++
			s.logger.Debug("decoding perf event labels", "config", s.config, "metric", s.counter.Name, "err", err)
		}
		return
	}
	s.series[string(key)] = &series{values: values, count: 1}
}

func (s *Sink) flushEvery(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.series = map[string]*series{}
			s.mu.Unlock()
		}
	}
}

// Families returns the counter and its lost-events counter (named as the
// reference names it: dropped_perf_event_map_events_NAME).
func (s *Sink) Families() []*dto.MetricFamily {
	s.mu.Lock()
	defer s.mu.Unlock()
	counter := dto.MetricType_COUNTER
	name := config.MetricPrefix + s.counter.Name
	help := s.counter.Help
	fam := &dto.MetricFamily{Name: &name, Help: &help, Type: &counter}
	for _, se := range s.series {
		m := &dto.Metric{Counter: &dto.Counter{Value: ptr(se.count)}}
		for i, l := range s.counter.Labels {
			m.Label = append(m.Label, &dto.LabelPair{Name: ptr(l.Name), Value: ptr(se.values[i])})
		}
		fam.Metric = append(fam.Metric, m)
	}
	lostName := "dropped_perf_event_map_events_" + s.counter.Name
	lost := &dto.MetricFamily{Name: &lostName, Help: ptr("Dropped perf map events"), Type: &counter,
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: ptr(s.lost)}}}}
	out := []*dto.MetricFamily{lost}
	if len(fam.Metric) > 0 {
		out = append(out, fam)
	}
	return out
}

// DecodeErrors is the number of events dropped because their labels did not
// decode.
func (s *Sink) DecodeErrors() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// Close stops reading.
func (s *Sink) Close() error {
	close(s.stop)
	err := s.reader.Close()
	<-s.done
	return err
}

func ptr[T any](v T) *T { return &v }
