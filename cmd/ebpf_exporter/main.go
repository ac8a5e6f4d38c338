// Command ebpf_exporter runs eBPF programs in the kernel and exports what
// they count as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/cilium/ebpf/rlimit"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ebpf-exporter/ebpf_exporter/internal/bpfstats"
	"github.com/ebpf-exporter/ebpf_exporter/internal/caps"
)

// options are the command-line flags.
type options struct {
	configDir       string
	configNames     string
	strict          bool
	check           bool
	list            bool
	btfPath         string
	debug           bool
	metricsPath     string
	enableLifecycle bool
	maxSeries       int
	native          bool
	capsKeep        string
	statsMode       string
	statsWindow     time.Duration
	statsInterval   time.Duration
	noLogTime       bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	app := kingpin.New("ebpf_exporter", "Runs eBPF programs in the kernel and exports their maps as Prometheus metrics.")
	var o options
	app.Flag("config.dir", "Directory with NAME.yaml and NAME.bpf.o configs.").StringVar(&o.configDir)
	app.Flag("config.names", "Comma-separated config names to load, from --config.dir or the built-ins; empty runs the default built-ins (and every config in --config.dir).").StringVar(&o.configNames)
	app.Flag("config.strict", "Exit when any program fails to load or attach.").BoolVar(&o.strict)
	app.Flag("config.check", "Load and attach the configs, report every problem, and exit (0 when all attached).").BoolVar(&o.check)
	app.Flag("config.list", "List the built-in configs with what they measure and need, and exit.").BoolVar(&o.list)
	app.Flag("btf.path", "Kernel BTF file for CO-RE on kernels without /sys/kernel/btf/vmlinux.").StringVar(&o.btfPath)
	app.Flag("debug", "Serve raw map contents at /maps.").BoolVar(&o.debug)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.metricsPath)
	app.Flag("web.enable-lifecycle", "Enable POST /-/reload to re-read the configs (SIGHUP always does).").BoolVar(&o.enableLifecycle)
	app.Flag("metrics.max-series", "Most series one metric exports; more are dropped and counted in ebpf_exporter_series_dropped_total (0: no limit).").Default("5000000").IntVar(&o.maxSeries)
	app.Flag("web.native-histograms", "Expose exp2 histograms as native histograms too, to scrapers that negotiate protobuf.").Default("true").BoolVar(&o.native)
	app.Flag("capabilities.keep", "Capabilities to keep once programs are attached: all, none, or a list like cap_syslog,cap_perfmon. Reloads need cap_bpf,cap_perfmon (and more for some programs).").Default("all").StringVar(&o.capsKeep)
	app.Flag("ebpf.stats", "Kernel BPF run-time stats behind ebpf_exporter_ebpf_program_run_*: off, on, or sampled (on for --ebpf.stats.window of every --ebpf.stats.interval); they cost about 100ns per program run while on.").Default(bpfstats.Sampled).EnumVar(&o.statsMode, bpfstats.Off, bpfstats.On, bpfstats.Sampled)
	app.Flag("ebpf.stats.window", "How long sampled stats stay on.").Default("5s").DurationVar(&o.statsWindow)
	app.Flag("ebpf.stats.interval", "How often sampled stats turn on.").Default("60s").DurationVar(&o.statsInterval)
	webFlags := kingpinflag.AddFlags(app, ":9435")
	logConfig := &promslog.Config{}
	flag.AddFlags(app, logConfig)
	app.Flag("log.no-timestamps", "Omit timestamps from log lines (the reference exporter's flag; systemd's journal adds its own).").BoolVar(&o.noLogTime)
	app.Version(version.Print("ebpf_exporter"))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger := promslog.New(logConfig)
	if o.noLogTime {
		logger = slog.New(noTimeHandler{logger.Handler()})
	}
	if referenceSocketActivation(webFlags) {
		logger.Info("--web.listen-address=fd://N: serving on the systemd socket activation listeners, as --web.systemd-socket")
	}

	if o.list {
		printCatalogue(os.Stdout)
		return 0
	}
	keep, err := caps.Parse(o.capsKeep)
	if err != nil {
		logger.Error("--capabilities.keep", "err", err)
		return 2
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		logger.Warn("removing memlock rlimit", "err", err)
	}

	ex, err := newExporter(o, logger)
	if err != nil {
		logger.Error("starting", "err", err)
		return 1
	}
	defer ex.close()
	if o.check {
		return ex.report(os.Stdout)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := bpfstats.Run(ctx, o.statsMode, o.statsWindow, o.statsInterval, logger); err != nil {
		logger.Warn("BPF run-time stats unavailable", "err", err)
	}
	if err := caps.Keep(keep); err != nil {
		logger.Error("dropping capabilities", "keep", o.capsKeep, "err", err)
		return 1
	}
	if keep != caps.All {
		logger.Info("dropped capabilities", "kept", keep.String())
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := ex.reload(); err != nil {
				logger.Error("reload failed; the previous configs keep running", "err", err)
			}
		}
	}()

	srv := &http.Server{Handler: ex.mux(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, webFlags, logger) }()
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serving", "err", err)
			return 1
		}
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}
	return 0
}

// loggerErr is the promhttp error logger.
func loggerErr(logger *slog.Logger) *slogLogger { return &slogLogger{logger} }

type slogLogger struct{ l *slog.Logger }

func (s *slogLogger) Println(v ...any) { s.l.Error(fmt.Sprint(v...)) }
