package collector

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Handler serves /metrics: the families of a Collector plus those of a
// registry (self metrics, build info). Scrapes that arrive while a read of
// the maps runs wait for it and share its result instead of reading again; a
// read whose every scrape went away (timed out or cancelled) is stopped.
type Handler struct {
	c    *Collector
	reg  prometheus.Gatherer
	opts promhttp.HandlerOpts

	// rw keeps a read from reusing the exposition objects while scrapes
	// encode them: reads take it for writing, encoders for reading.
	rw sync.RWMutex

	mu     sync.Mutex // guards call and latest
	call   *gatherCall
	latest []Family
}

type gatherCall struct {
	done    chan struct{}
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewHandler returns the metrics handler.
func NewHandler(c *Collector, reg prometheus.Gatherer, opts promhttp.HandlerOpts) *Handler {
	return &Handler{c: c, reg: reg, opts: opts}
}

// ServeHTTP gathers (sharing a read in flight) and encodes in the format the
// scraper negotiated.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(secs*float64(time.Second)))
			defer cancel()
		}
	}
	if err := h.read(ctx); err != nil {
		http.Error(w, "reading BPF maps: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	h.rw.RLock()
	defer h.rw.RUnlock()
	own, err := h.reg.Gather()
	if err != nil && h.opts.ErrorLog != nil {
		h.opts.ErrorLog.Println("gathering self metrics:", err)
	}
	all := make([]Family, 0, len(own)+len(h.latest))
	for _, f := range own {
		all = append(all, Family{MetricFamily: f})
	}
	all = append(all, h.latest...)
	sort.Slice(all, func(i, j int) bool { return all[i].GetName() < all[j].GetName() })

	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	if h.opts.EnableOpenMetrics {
		format = expfmt.NegotiateAccept(r.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	}
	if !fastFormat(format) {
		g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
			out := make([]*dto.MetricFamily, len(all))
			for i, f := range all {
				out[i] = f.MetricFamily
			}
			return out, nil
		})
		promhttp.HandlerFor(g, h.opts).ServeHTTP(w, r)
		return
	}
	h.writeText(w, r, format, all)
}

// read waits for the read of the maps in flight, or starts one if none runs:
// scrapes that arrive while a read runs share its result.
func (h *Handler) read(ctx context.Context) error {
	h.mu.Lock()
	c := h.call
	if c == nil {
		rctx, cancel := context.WithCancel(context.Background())
		c = &gatherCall{done: make(chan struct{}), cancel: cancel}
		h.call = c
		go h.run(rctx, c)
	}
	c.waiters++
	h.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		h.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			c.cancel()
		}
		h.mu.Unlock()
		return ctx.Err()
	}
}

func (h *Handler) run(ctx context.Context, c *gatherCall) {
	h.rw.Lock()
	fams, err := h.c.Gather(ctx)
	if err == nil {
		h.latest = fams
	} else {
		// The exposition objects may be half updated: drop them.
		h.latest = nil
	}
	h.rw.Unlock()
	h.mu.Lock()
	h.call = nil
	c.err = err
	close(c.done)
	c.cancel()
	h.mu.Unlock()
}
