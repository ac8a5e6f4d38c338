// Package bpfstats turns on the kernel's BPF run-time statistics
// (run_time_ns, run_cnt per program), always or for a sampling window, since
// they cost about 100 ns per program run while on.
package bpfstats

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Modes of --ebpf.stats.
const (
	Off     = "off"
	On      = "on"
	Sampled = "sampled"
)

// Run enables statistics as mode says until ctx is done. In Sampled mode
// they are on for window out of every interval.
func Run(ctx context.Context, mode string, window, interval time.Duration, logger *slog.Logger) error {
	switch mode {
	case Off:
		return nil
	case On:
		c, err := enable()
		if err != nil {
			return err
		}
		go func() { <-ctx.Done(); c.Close() }()
		return nil
	case Sampled:
		if window <= 0 || interval < window {
			return fmt.Errorf("--ebpf.stats=sampled needs 0 < window (%v) <= interval (%v)", window, interval)
		}
		c, err := enable()
		if err != nil {
			return err
		}
		go sample(ctx, c, window, interval, logger)
		return nil
	}
	return fmt.Errorf("unknown --ebpf.stats mode %q (off, on or sampled)", mode)
}

func enable() (io.Closer, error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enabling BPF run-time stats: %w", err)
	}
	return c, nil
}

func sample(ctx context.Context, c io.Closer, window, interval time.Duration, logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			c.Close()
			return
		case <-time.After(window):
		}
		c.Close()
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval - window):
		}
		var err error
		if c, err = enable(); err != nil {
			logger.Error("re-enabling BPF stats", "err", err)
			return
		}
	}
}
