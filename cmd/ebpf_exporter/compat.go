package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// noTimeHandler drops the time of every record: slog's handlers then leave
// the timestamp out (--log.no-timestamps).
type noTimeHandler struct{ slog.Handler }

func (h noTimeHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{}
	return h.Handler.Handle(ctx, r)
}

func (h noTimeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return noTimeHandler{h.Handler.WithAttrs(attrs)}
}

func (h noTimeHandler) WithGroup(name string) slog.Handler {
	return noTimeHandler{h.Handler.WithGroup(name)}
}

// referenceSocketActivation turns the reference exporter's way of asking for
// systemd socket activation, --web.listen-address=fd://N, into the toolkit's
// --web.systemd-socket, so its unit files work unchanged. It reports whether
// it did.
func referenceSocketActivation(flags *web.FlagConfig) bool {
	addrs := *flags.WebListenAddresses
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "fd://") {
		return false
	}
	*flags.WebSystemdSocket = true
	return true
}
