package collector

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
	"github.com/ebpf-exporter/ebpf_exporter/internal/testenv"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

// stringMap returns a hash map keyed by 16-byte strings.
func stringMap(t *testing.T, entries map[string]uint64) *ebpf.Map {
	t.Helper()
	testenv.RequirePrivileged(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 16, ValueSize: 8, MaxEntries: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for k, v := range entries {
		var key [16]byte
		copy(key[:], k)
		if err := m.Put(key, v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func counterConfig(name, metric, help string, decoders ...config.Decoder) *config.Config {
	return &config.Config{Name: name, Metrics: config.Metrics{Counters: []config.Counter{{
		Name: metric, Help: help,
		Labels: []config.Label{{Name: "name", Size: 16, Decoders: decoders}},
	}}}}
}

func newTestCollector(t *testing.T, loaded ...*loader.Loaded) (*Collector, *Handler) {
	t.Helper()
	set, err := decoder.NewSet(decoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Decoders: set})
	if err := c.SetConfigs(loaded); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c.Status())
	return c, NewHandler(c, reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// samples scrapes h with an Accept header and returns "name{labels} value"
// lines for the families named prefix*, parsed by the Prometheus parsers.
func samples(t *testing.T, h http.Handler, accept, prefix string) []string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	var fams []*dto.MetricFamily
	ct := rec.Header().Get("Content-Type")
	switch {
	case strings.Contains(ct, "openmetrics"):
		if !bytes.HasSuffix(body, []byte("# EOF\n")) {
			t.Fatalf("OpenMetrics output does not end with # EOF:\n%s", body)
		}
		// The text parser reads OpenMetrics counters and gauges too, once
		// the OpenMetrics-only lines are gone.
		var kept []string
		for _, l := range strings.Split(string(body), "\n") {
			if l == "# EOF" || strings.HasPrefix(l, "# UNIT") {
				continue
			}
			kept = append(kept, l)
		}
		body = []byte(strings.Join(kept, "\n"))
		fallthrough
	case strings.HasPrefix(ct, "text/plain"):
		p := expfmt.NewTextParser(model.UTF8Validation)
		m, err := p.TextToMetricFamilies(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parsing %s: %v\n%s", ct, err, body)
		}
		for _, f := range m {
			fams = append(fams, f)
		}
	default:
		dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
		for {
			f := &dto.MetricFamily{}
			if err := dec.Decode(f); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			fams = append(fams, f)
		}
	}
	var out []string
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), prefix) {
			continue
		}
		name := strings.TrimSuffix(f.GetName(), "_total") // OpenMetrics family names drop _total
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue()
			if m.Untyped != nil { // OpenMetrics samples (name_total) read by the text parser
				v = m.GetUntyped().GetValue()
			}
			out = append(out, name+"{"+strings.Join(labels, ",")+"} "+formatFloat(v))
		}
	}
	sort.Strings(out)
	return out
}

func formatFloat(v float64) string { return model.SampleValue(v).String() }

func TestExpositionFormatsAgree(t *testing.T) {
	m := stringMap(t, map[string]uint64{
		"plain": 1, `quo"te`: 2, `back\slash`: 3, "new\nline": 4, "big": 1 << 40, "zero": 0, "ünïcode": 7,
	})
	l := &loader.Loaded{Config: counterConfig("c", "escapes_total", "help with \\ and \n", config.Decoder{Name: "string"}),
		Maps: map[string]*ebpf.Map{"escapes_total": m}}
	_, h := newTestCollector(t, l)
	want := []string{
		`ebpf_exporter_escapes{name=back\slash} 3`,
		`ebpf_exporter_escapes{name=big} 1099511627776`,
		"ebpf_exporter_escapes{name=new\nline} 4",
		`ebpf_exporter_escapes{name=plain} 1`,
		`ebpf_exporter_escapes{name=quo"te} 2`,
		`ebpf_exporter_escapes{name=zero} 0`,
		`ebpf_exporter_escapes{name=ünïcode} 7`,
	}
	for _, accept := range []string{
		"", // text
		"application/openmetrics-text;version=1.0.0", // OpenMetrics
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	} {
		got := samples(t, h, accept, "ebpf_exporter_escapes")
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("Accept %q:\n got %q\nwant %q", accept, got, want)
		}
	}
}

func TestDecoderErrorsRegexpAndEviction(t *testing.T) {
	m := stringMap(t, map[string]uint64{"keep-a": 1, "keep-b": 2, "drop": 3})
	l := &loader.Loaded{Config: counterConfig("c", "names_total", "x",
		config.Decoder{Name: "string"}, config.Decoder{Name: "regexp", Regexps: []string{"^keep-.*$"}}),
		Maps: map[string]*ebpf.Map{"names_total": m}}
	bad := &loader.Loaded{Config: counterConfig("bad", "bad_total", "x", config.Decoder{Name: "ksym"}),
		Maps: map[string]*ebpf.Map{"bad_total": stringMap(t, map[string]uint64{"x": 1, "y": 2})}}
	_, h := newTestCollector(t, l, bad)
	got := samples(t, h, "", "ebpf_exporter_names")
	if strings.Join(got, "|") != "ebpf_exporter_names{name=keep-a} 1|ebpf_exporter_names{name=keep-b} 2" {
		t.Errorf("regexp did not drop the series: %q", got)
	}
	if got := samples(t, h, "", "ebpf_exporter_bad"); len(got) != 0 {
		t.Errorf("undecodable series exported: %q", got)
	}
	// ksym of 16 bytes fails for both keys of config bad, on every scrape
	// (failures are not cached): 2 keys × 3 scrapes.
	errs := samples(t, h, "", "ebpf_exporter_decoder_errors")
	if strings.Join(errs, "|") != "ebpf_exporter_decoder_errors{config=bad} 6|ebpf_exporter_decoder_errors{config=c} 0" {
		t.Errorf("decoder errors after three scrapes: %q", errs)
	}
	var key [16]byte
	copy(key[:], "keep-a")
	if err := m.Delete(key); err != nil {
		t.Fatal(err)
	}
	if got := samples(t, h, "", "ebpf_exporter_names"); strings.Join(got, "|") != "ebpf_exporter_names{name=keep-b} 2" {
		t.Errorf("deleted key still exported: %q", got)
	}
}

func TestMergedAndConflictingConfigs(t *testing.T) {
	a := &loader.Loaded{Config: counterConfig("a", "shared_total", "shared", config.Decoder{Name: "string"}),
		Maps: map[string]*ebpf.Map{"shared_total": stringMap(t, map[string]uint64{"x": 1, "y": 2})}}
	b := &loader.Loaded{Config: counterConfig("b", "shared_total", "shared", config.Decoder{Name: "string"}),
		Maps: map[string]*ebpf.Map{"shared_total": stringMap(t, map[string]uint64{"y": 10, "z": 20})}}
	_, h := newTestCollector(t, a, b)
	got := samples(t, h, "", "ebpf_exporter_shared")
	if strings.Join(got, "|") != "ebpf_exporter_shared{name=x} 1|ebpf_exporter_shared{name=y} 12|ebpf_exporter_shared{name=z} 20" {
		t.Errorf("merged series: %q", got)
	}
	c := &loader.Loaded{Config: counterConfig("c", "shared_total", "other help", config.Decoder{Name: "string"}),
		Maps: b.Maps}
	set, _ := decoder.NewSet(decoder.Options{})
	err := New(Options{Decoders: set}).SetConfigs([]*loader.Loaded{a, c})
	if err == nil || !strings.Contains(err.Error(), "configs a and c") {
		t.Errorf("conflicting definitions: %v, want an error naming both configs", err)
	}
}
