package main

import (
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf/btf"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/ebpf-exporter/ebpf_exporter/collector"
	"github.com/ebpf-exporter/ebpf_exporter/declarative"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

// exporter is the running set of configs, reloadable as a whole.
type exporter struct {
	o         options
	logger    *slog.Logger
	loadOpts  loader.Options
	decoders  *decoder.Set
	collector *collector.Collector
	registry  *prometheus.Registry

	reloadMu sync.Mutex // serialises reloads
	mu       sync.Mutex // guards running and problems
	running  map[string]*runningConfig
	order    []string
	problems []error
	landing  atomic.Pointer[web.LandingPageHandler]
}

// runningConfig is a loaded config and the content it was loaded from.
type runningConfig struct {
	loaded *loader.Loaded
	hash   [32]byte
}

func newExporter(o options, logger *slog.Logger) (*exporter, error) {
	ex := &exporter{o: o, logger: logger, running: map[string]*runningConfig{}}
	ex.loadOpts = loader.Options{Cache: btf.NewCache(), Kallsyms: loader.KallsymsLookup("/proc/kallsyms"), Logger: logger}
	if o.btfPath != "" {
		spec, err := btf.LoadSpec(o.btfPath)
		if err != nil {
			return nil, fmt.Errorf("--btf.path %s: %w", o.btfPath, err)
		}
		ex.loadOpts.KernelTypes = spec
	}
	var err error
	// btf_enum reads the same kernel types the loader relocates against:
	// one parse of the kernel's BTF serves both.
	kernelBTF := ex.loadOpts.Cache.Kernel
	if spec := ex.loadOpts.KernelTypes; spec != nil {
		kernelBTF = func() (*btf.Spec, error) { return spec, nil }
	}
	if ex.decoders, err = decoder.NewSet(decoder.Options{BTF: kernelBTF}); err != nil {
		return nil, err
	}
	ex.collector = collector.New(collector.Options{Decoders: ex.decoders, Logger: logger, MaxSeries: o.maxSeries, NoNativeHistograms: !o.native})
	ex.registry = prometheus.NewRegistry()
	ex.registry.MustRegister(versioncollector.NewCollector("ebpf_exporter"), ex.collector.Status())
	if err := ex.apply(true); err != nil {
		ex.close()
		return nil, err
	}
	return ex, nil
}

// reload re-reads the configs: unchanged ones stay attached with their
// counters, changed ones are loaded anew, removed ones are detached. If a
// config cannot be read, nothing changes.
func (ex *exporter) reload() error {
	err := ex.apply(false)
	if err == nil {
		ex.logger.Info("configs reloaded", "configs", strings.Join(ex.names(), ","))
	}
	return err
}

func (ex *exporter) names() []string {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return append([]string(nil), ex.order...)
}

func (ex *exporter) apply(initial bool) error {
	ex.reloadMu.Lock()
	defer ex.reloadMu.Unlock()
	var names []string
	if ex.o.configNames != "" {
		names = strings.Split(ex.o.configNames, ",")
	}
	sources, err := resolveConfigs(ex.o.configDir, names)
	var problems []error
	if err != nil {
		// At start, run what can run (unless strict); on reload, keep the old set.
		if !initial || ex.o.strict || ex.o.check || len(sources) == 0 {
			return err
		}
		ex.logger.Error("some configs were not loaded", "err", err)
		problems = append(problems, err)
	}

	ex.mu.Lock()
	old := ex.running
	ex.mu.Unlock()
	next := map[string]*runningConfig{}
	var order []string
	var fresh []*loader.Loaded
	discard := func() {
		for _, l := range fresh {
			_ = l.Close()
		}
	}
	for _, src := range sources {
		name := src.config.Name
		if rc, ok := old[name]; ok && rc.hash == src.hash {
			next[name] = rc
			order = append(order, name)
			continue
		}
		if src.config.Tracing.Kind != 0 {
			ex.logger.Warn("config has a tracing section; span export is not supported and is ignored", "config", name)
		}
		var l *loader.Loaded
		if src.spec != nil {
			l, err = loader.LoadSpec(src.config, src.objectPath, src.spec, ex.loadOpts)
		} else {
			l, err = loader.Load(src.config, src.objectPath, src.object, ex.loadOpts)
		}
		if err != nil {
			if !initial {
				discard()
				return err
			}
			problems = append(problems, err)
			ex.logger.Error("config not loaded", "config", name, "err", err)
			continue
		}
		fresh = append(fresh, l)
		next[name] = &runningConfig{loaded: l, hash: src.hash}
		order = append(order, name)
		for _, p := range l.Programs {
			if p.Err != nil {
				problems = append(problems, fmt.Errorf("config %s: %w", name, p.Err))
			}
		}
		ex.logger.Info("config loaded", "config", name, "object", src.objectPath, "programs", len(l.Programs))
	}
	if ex.o.strict && len(problems) > 0 {
		discard()
		return fmt.Errorf("--config.strict: %w", errors.Join(problems...))
	}
	loaded := make([]*loader.Loaded, 0, len(order))
	for _, name := range order {
		loaded = append(loaded, next[name].loaded)
	}
	if err := ex.collector.SetConfigs(loaded); err != nil {
		discard()
		return err
	}
	ex.mu.Lock()
	ex.running, ex.order, ex.problems = next, order, problems
	ex.mu.Unlock()
	for name, rc := range old {
		if next[name] != rc {
			if err := rc.loaded.Close(); err != nil {
				ex.logger.Error("closing config", "config", name, "err", err)
			}
		}
	}
	return ex.rebuildLanding()
}

// close detaches and releases everything.
func (ex *exporter) close() {
	ex.reloadMu.Lock()
	defer ex.reloadMu.Unlock()
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.collector != nil {
		_ = ex.collector.Close()
	}
	for _, name := range ex.order {
		if err := ex.running[name].loaded.Close(); err != nil {
			ex.logger.Error("closing config", "config", name, "err", err)
		}
	}
	ex.running, ex.order = nil, nil
	if ex.decoders != nil {
		_ = ex.decoders.Close()
	}
}

// report prints every problem for --config.check and returns the exit code.
func (ex *exporter) report(w io.Writer) int {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for _, name := range ex.order {
		l := ex.running[name].loaded
		for _, p := range l.Programs {
			state := "attached"
			if p.Err != nil {
				state = "FAILED: " + p.Err.Error()
			}
			fmt.Fprintf(w, "%s/%s (%s): %s\n", name, p.Name, p.Section, state)
		}
		if ex.o.debug {
			// The generated (or loaded) instructions, for declarative configs above all.
			fmt.Fprintf(w, "--- %s: maps and instructions\n%s\n", name, declarative.Dump(l.Spec))
		}
	}
	if len(ex.problems) == 0 {
		fmt.Fprintln(w, "all configs loaded and attached")
		return 0
	}
	fmt.Fprintf(w, "%d problem(s):\n", len(ex.problems))
	for _, err := range ex.problems {
		fmt.Fprintf(w, "- %v\n", err)
	}
	return 1
}

// mux routes the exporter's HTTP endpoints.
func (ex *exporter) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(ex.o.metricsPath, collector.NewHandler(ex.collector, ex.registry, promhttp.HandlerOpts{
		ErrorLog:            loggerErr(ex.logger),
		ErrorHandling:       promhttp.ContinueOnError,
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: 0,
	}))
	if ex.o.debug {
		mux.HandleFunc("/maps", ex.collector.ServeMaps)
	}
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if !ex.o.enableLifecycle {
			http.Error(w, "Lifecycle API is not enabled (--web.enable-lifecycle).", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "This endpoint requires a POST or PUT request.", http.StatusMethodNotAllowed)
			return
		}
		if err := ex.reload(); err != nil {
			http.Error(w, "reload failed; the previous configs keep running: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "reloaded:", strings.Join(ex.names(), ","))
	})
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy.") })
	if ex.o.metricsPath != "/" {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if h := ex.landing.Load(); h != nil {
				h.ServeHTTP(w, r)
				return
			}
			http.NotFound(w, r)
		})
	}
	return mux
}

// rebuildLanding renders the landing page with the current attach states.
func (ex *exporter) rebuildLanding() error {
	if ex.o.metricsPath == "/" {
		return nil
	}
	links := []web.LandingLinks{{Address: ex.o.metricsPath, Text: "Metrics"}}
	if ex.o.debug {
		links = append(links, web.LandingLinks{Address: "/maps", Text: "Raw maps"})
	}
	h, err := web.NewLandingPage(web.LandingConfig{
		Name:        "eBPF Exporter",
		Description: "Prometheus exporter for eBPF programs",
		Version:     version.Info(),
		Links:       links,
		ExtraHTML:   ex.statusHTML(),
	})
	if err != nil {
		return fmt.Errorf("landing page: %w", err)
	}
	ex.landing.Store(h)
	return nil
}

// statusHTML is the landing page table of configs and programs.
func (ex *exporter) statusHTML() string {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	var b strings.Builder
	b.WriteString("<h2>Configs</h2><table><tr><th>config</th><th>program</th><th>section</th><th>state</th></tr>")
	for _, name := range ex.order {
		for _, p := range ex.running[name].loaded.Programs {
			state := "attached"
			if p.Err != nil {
				state = "not attached: " + p.Err.Error()
			}
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				html.EscapeString(name), html.EscapeString(p.Name), html.EscapeString(p.Section), html.EscapeString(state))
		}
	}
	b.WriteString("</table>")
	for _, err := range ex.problems {
		fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(err.Error()))
	}
	return b.String()
}
