package collector

import (
	"bufio"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// fastFormat reports whether format is one that writeText writes: the text
// format 0.0.4 and OpenMetrics 1.0 / 0.0.1. Protobuf and OpenMetrics 2.0 go
// through promhttp.
func fastFormat(format expfmt.Format) bool {
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		return true
	case expfmt.TypeOpenMetrics:
		return !strings.Contains(string(format), "version=2")
	}
	return false
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// writeText writes families in a text format. Counter families that carry
// their series are written from the series' pre-rendered labels: the
// expensive part of exposition (escaping checks, float formatting, one call
// per label) is done once per series, not once per scrape.
func (h *Handler) writeText(w http.ResponseWriter, r *http.Request, format expfmt.Format, fams []Family) {
	w.Header().Set("Content-Type", string(format))
	var out interface {
		Write([]byte) (int, error)
	} = w
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzipPool.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() { gz.Close(); gzipPool.Put(gz) }()
		out = gz
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	defer bw.Flush()
	enc := expfmt.NewEncoder(bw, format)
	openMetrics := format.FormatType() == expfmt.TypeOpenMetrics
	num := make([]byte, 0, 24)
	for _, f := range fams {
		if len(f.counters) < 2 {
			if err := enc.Encode(f.MetricFamily); err != nil {
				h.logEncodeError(f.GetName(), err)
			}
			continue
		}
		// The encoder writes HELP, TYPE and the first sample exactly as
		// it would; the rest follow in the same shape.
		first := &dto.MetricFamily{Name: f.Name, Help: f.Help, Type: f.Type, Metric: f.Metric[:1]}
		if err := enc.Encode(first); err != nil {
			h.logEncodeError(f.GetName(), err)
			continue
		}
		name := f.GetName()
		if openMetrics && !strings.HasSuffix(name, "_total") {
			name += "_total"
		}
		for _, e := range f.counters[1:] {
			bw.WriteString(name)
			bw.Write(e.labelText)
			bw.WriteByte(' ')
			num = strconv.AppendUint(num[:0], e.raw, 10)
			bw.Write(num)
			bw.WriteByte('\n')
		}
	}
	if closer, ok := enc.(expfmt.Closer); ok {
		if err := closer.Close(); err != nil {
			h.logEncodeError("EOF", err)
		}
	}
}

func (h *Handler) logEncodeError(family string, err error) {
	if h.opts.ErrorLog != nil {
		h.opts.ErrorLog.Println("encoding metric family", family+":", err)
	}
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) != "gzip" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
