package test

import (
	"strconv"
	"testing"
)

func TestProgramCostAndMapFillMetrics(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=core", "--ebpf.stats=on")
	requireAttached(t, e.scrape(), "core")
	const n = 5000
	pid, _ := target(t, "getpid", strconv.Itoa(n))
	fams := e.scrape()
	prog := map[string]string{"config": "core", "program": "count_getpid"}
	runs := value(t, fams, "ebpf_exporter_ebpf_program_run_count_total", prog)
	if runs < n {
		t.Errorf("run_count_total of count_getpid = %v, want at least the workload's %d", runs, n)
	}
	if rt := value(t, fams, "ebpf_exporter_ebpf_program_run_time_seconds", prog); rt <= 0 {
		t.Errorf("run_time_seconds of count_getpid = %v, want > 0", rt)
	} else {
		t.Logf("count_getpid: %v runs, %.0f ns per run", runs, rt/runs*1e9)
	}
	if got := value(t, fams, "ebpf_exporter_ebpf_program_recursion_misses_total", prog); got < 0 {
		t.Errorf("recursion_misses_total = %v", got)
	}
	// The getpid map holds one entry per process that called getpid since
	// start: at least the workload's.
	m := map[string]string{"config": "core", "map": "test_getpid_calls_total"}
	if got := value(t, fams, "ebpf_exporter_map_entries", m); got < 1 {
		t.Errorf("map_entries = %v, want at least 1", got)
	}
	if got := value(t, fams, "ebpf_exporter_map_max_entries", m); got != 1024 {
		t.Errorf("map_max_entries = %v, want 1024 (core.bpf.c)", got)
	}
	if got := value(t, fams, "ebpf_exporter_scrape_duration_seconds", map[string]string{"config": "core"}); got <= 0 {
		t.Errorf("scrape_duration_seconds = %v, want > 0", got)
	}
	if got := value(t, fams, "ebpf_exporter_test_getpid_calls_total", pidLabel(pid)); got != n {
		t.Errorf("getpid calls = %v, want %d", got, n)
	}
}

func TestMapEntriesOfStartMaps(t *testing.T) {
	e := startExporter(t, "--config.names=runqlat")
	requireAttached(t, e.scrape(), "runqlat")
	m := map[string]string{"config": "runqlat", "map": "start"}
	fams := e.scrape()
	if got := value(t, fams, "ebpf_exporter_map_max_entries", m); got != 16384 {
		t.Errorf("max entries of runqlat's start map: %v, want 16384", got)
	}
	if got := value(t, fams, "ebpf_exporter_map_entries", m); got < 0 || got > 16384 {
		t.Errorf("entries of runqlat's start map: %v", got)
	}
}
