// Command ebpf_exporter runs eBPF programs in the kernel and exports what
// they count as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ebpf-exporter/ebpf_exporter/collector"
	"github.com/ebpf-exporter/ebpf_exporter/decoder"
	"github.com/ebpf-exporter/ebpf_exporter/loader"
)

type options struct {
	configDir   string
	configNames string
	strict      bool
	check       bool
	list        bool
	btfPath     string
	debug       bool
	metricsPath string
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	app := kingpin.New("ebpf_exporter", "Runs eBPF programs in the kernel and exports their maps as Prometheus metrics.")
	var o options
	app.Flag("config.dir", "Directory with NAME.yaml and NAME.bpf.o configs.").StringVar(&o.configDir)
	app.Flag("config.names", "Comma-separated config names to load, from --config.dir or the built-ins; empty runs the default built-ins.").StringVar(&o.configNames)
	app.Flag("config.strict", "Exit when any program fails to load or attach.").BoolVar(&o.strict)
	app.Flag("config.check", "Load and attach the configs, report every problem, and exit (0 when all attached).").BoolVar(&o.check)
	app.Flag("config.list", "List the built-in configs with what they measure and need, and exit.").BoolVar(&o.list)
	app.Flag("btf.path", "Kernel BTF file for CO-RE on kernels without /sys/kernel/btf/vmlinux.").StringVar(&o.btfPath)
	app.Flag("debug", "Serve raw map contents at /maps.").BoolVar(&o.debug)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.metricsPath)
	webFlags := kingpinflag.AddFlags(app, ":9435")
	logConfig := &promslog.Config{}
	flag.AddFlags(app, logConfig)
	app.Version(version.Print("ebpf_exporter"))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger := promslog.New(logConfig)

	if o.list {
		printCatalogue(os.Stdout)
		return 0
	}

	running, err := start(o, logger)
	if err != nil {
		logger.Error("starting", "err", err)
		return 1
	}
	defer running.close(logger)
	if o.check {
		return running.report(os.Stdout)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("ebpf_exporter"), running.collector)
	mux := http.NewServeMux()
	mux.Handle(o.metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
	if o.debug {
		mux.HandleFunc("/maps", running.collector.ServeMaps)
	}
	if o.metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "eBPF Exporter",
			Description: "Prometheus exporter for eBPF programs",
			Version:     version.Info(),
			Links:       landingLinks(o),
			ExtraHTML:   running.statusHTML(),
		})
		if err != nil {
			logger.Error("landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: mux}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, webFlags, logger) }()
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serving", "err", err)
			return 1
		}
	case <-ctx.Done():
		logger.Info("shutting down", "reason", context.Cause(ctx))
		_ = srv.Shutdown(context.Background())
	}
	return 0
}

func landingLinks(o options) []web.LandingLinks {
	links := []web.LandingLinks{{Address: o.metricsPath, Text: "Metrics"}}
	if o.debug {
		links = append(links, web.LandingLinks{Address: "/maps", Text: "Raw maps"})
	}
	return links
}

// runningSet is the configs loaded into the kernel and their collector.
type runningSet struct {
	loaded    []*loader.Loaded
	decoders  *decoder.Set
	collector *collector.Collector
	problems  []error
}

func start(o options, logger *slog.Logger) (*runningSet, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		logger.Warn("removing memlock rlimit", "err", err)
	}
	var names []string
	if o.configNames != "" {
		names = strings.Split(o.configNames, ",")
	}
	sources, err := resolveConfigs(o.configDir, names)
	rs := &runningSet{}
	if err != nil {
		if o.strict || o.check || len(sources) == 0 {
			return nil, err
		}
		logger.Error("some configs were not loaded", "err", err)
		rs.problems = append(rs.problems, err)
	}
	opts := loader.Options{Cache: btf.NewCache(), Kallsyms: loader.KallsymsLookup("/proc/kallsyms"), Logger: logger}
	if o.btfPath != "" {
		spec, err := btf.LoadSpec(o.btfPath)
		if err != nil {
			return nil, fmt.Errorf("--btf.path %s: %w", o.btfPath, err)
		}
		opts.KernelTypes = spec
	}
	for _, src := range sources {
		if src.config.Tracing.Kind != 0 {
			logger.Warn("config has a tracing section; span export is not supported and is ignored", "config", src.config.Name)
		}
		l, err := loader.Load(src.config, src.objectPath, src.object, opts)
		if err != nil {
			rs.problems = append(rs.problems, err)
			logger.Error("config not loaded", "config", src.config.Name, "err", err)
			continue
		}
		rs.loaded = append(rs.loaded, l)
		for _, p := range l.Programs {
			if p.Err != nil {
				rs.problems = append(rs.problems, fmt.Errorf("config %s: %w", l.Config.Name, p.Err))
			}
		}
		logger.Info("config loaded", "config", l.Config.Name, "object", src.objectPath, "programs", len(l.Programs))
	}
	if o.strict && len(rs.problems) > 0 {
		rs.close(logger)
		return nil, fmt.Errorf("--config.strict: %w", errors.Join(rs.problems...))
	}
	rs.decoders, err = decoder.NewSet(decoder.Options{})
	if err != nil {
		rs.close(logger)
		return nil, err
	}
	rs.collector, err = collector.New(rs.loaded, rs.decoders, logger)
	if err != nil {
		rs.close(logger)
		return nil, err
	}
	return rs, nil
}

func (rs *runningSet) close(logger *slog.Logger) {
	for _, l := range rs.loaded {
		if err := l.Close(); err != nil {
			logger.Error("closing config", "config", l.Config.Name, "err", err)
		}
	}
	rs.loaded = nil
	if rs.decoders != nil {
		_ = rs.decoders.Close()
	}
}

// report prints every problem for --config.check and returns the exit code.
func (rs *runningSet) report(w *os.File) int {
	for _, l := range rs.loaded {
		for _, p := range l.Programs {
			state := "attached"
			if p.Err != nil {
				state = "FAILED: " + p.Err.Error()
			}
			fmt.Fprintf(w, "%s/%s (%s): %s\n", l.Config.Name, p.Name, p.Section, state)
		}
	}
	if len(rs.problems) == 0 {
		fmt.Fprintln(w, "all configs loaded and attached")
		return 0
	}
	fmt.Fprintf(w, "%d problem(s):\n", len(rs.problems))
	for _, err := range rs.problems {
		fmt.Fprintf(w, "- %v\n", err)
	}
	return 1
}

// statusHTML is the landing page table of configs and programs.
func (rs *runningSet) statusHTML() string {
	var b strings.Builder
	b.WriteString("<h2>Configs</h2><table><tr><th>config</th><th>program</th><th>section</th><th>state</th></tr>")
	for _, l := range rs.loaded {
		for _, p := range l.Programs {
			state := "attached"
			if p.Err != nil {
				state = "not attached: " + p.Err.Error()
			}
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				html.EscapeString(l.Config.Name), html.EscapeString(p.Name), html.EscapeString(p.Section), html.EscapeString(state))
		}
	}
	b.WriteString("</table>")
	for _, err := range rs.problems {
		fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(err.Error()))
	}
	return b.String()
}
