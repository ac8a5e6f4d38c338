package test

import (
	"testing"
	"time"
)

func TestPerfEventArrayCounter(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=perfevents")
	requireAttached(t, e.scrape(), "perfevents")
	pid, _ := target(t, "getpid", "2000")
	// Events arrive asynchronously: wait until the count settles.
	name := "ebpf_exporter_test_perf_getpid_events_total"
	deadline := time.Now().Add(10 * time.Second)
	var got float64
	for time.Now().Before(deadline) {
		if m := find(e.scrape(), name, pidLabel(pid)); m != nil {
			if got = m.GetCounter().GetValue(); got >= 2000 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fams := e.scrape()
	lost := value(t, fams, "dropped_perf_event_map_events_test_perf_getpid_events_total", nil)
	// Lost events are counted for all processes: exact when none were lost.
	if (lost == 0 && got != 2000) || got > 2000 || got+lost < 2000 {
		t.Errorf("events of pid %d: got %v (%v lost in all), want 2000", pid, got, lost)
	}
}
