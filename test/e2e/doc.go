// Package e2e runs the exporter binary against real Prometheus servers: rate()
// of a fixed-rate workload, classic versus native histogram quantiles,
// several exporters behind one Prometheus, federation, the seed's PromQL
// expressions, and checks of the deploy/ files with promtool. Tests that
// need prometheus or promtool skip without them (fail under
// EBPF_EXPORTER_REQUIRE_PRIVILEGED=1).
package e2e
