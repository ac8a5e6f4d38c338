package test

import (
	"net"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

func TestXDPCountsAndDetaches(t *testing.T) {
	e := startExporter(t, "--config.dir=testdata", "--config.names=xdp")
	requireAttached(t, e.scrape(), "xdp")
	// A listener, so that no ICMP port unreachable fails the next write.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 47991})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	conn, err := net.DialUDP("udp4", nil, sink.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 300
	for i := 0; i < n; i++ {
		if _, err := conn.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	sport := strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port)
	if got := value(t, e.scrape(), "ebpf_exporter_test_xdp_udp_packets_total", map[string]string{"source_port": sport}); got != n {
		t.Errorf("UDP packets seen by XDP: got %v, want %d", got, n)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if xdpProgramOn(t, lo.Index) == 0 {
		t.Fatal("no XDP link on lo while the exporter runs")
	}
	if code := e.stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if id := xdpProgramOn(t, lo.Index); id != 0 {
		t.Errorf("an XDP program (id %d) is still attached to lo after shutdown", id)
	}
}

// xdpProgramOn returns the program id of an XDP bpf_link on ifindex, or 0.
func xdpProgramOn(t *testing.T, ifindex int) ebpf.ProgramID {
	t.Helper()
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil {
			continue
		}
		if x := info.XDP(); x != nil && int(x.Ifindex) == ifindex {
			return info.Program
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return 0
}
