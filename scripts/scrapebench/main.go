// Command scrapebench measures whole scrapes of the running exporter with a
// real HTTP client, beside the bare batch read of the same map, and the
// exporter's start-up time and memory. Its output is the table in
// BENCHMARKS.md. Run as root from the repository root:
//
//	CGO_ENABLED=0 go build -o ebpf_exporter ./cmd/ebpf_exporter
//	go run ./scripts/scrapebench -exporter ./ebpf_exporter
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
)

func main() {
	exporter := flag.String("exporter", "./ebpf_exporter", "exporter binary")
	scrapes := flag.Int("scrapes", 30, "timed scrapes per size")
	sizes := flag.String("sizes", "1000,10000,100000,1000000", "series counts")
	flag.Parse()

	fmt.Println("| series | scrape median | scrape p99 | bare batch read median | ratio | bytes | exporter RSS (VmHWM) |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			log.Fatal(err)
		}
		measureSize(*exporter, n, *scrapes)
	}
	fmt.Println()
	measureDefault(*exporter)
}

type proc struct {
	cmd  *exec.Cmd
	addr string
}

func start(bin string, args ...string) (*proc, time.Duration) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"--web.listen-address=" + addr, "--ebpf.stats=off", "--log.level=warn"}, args...)...)
	cmd.Stderr = os.Stderr
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	for {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &proc{cmd: cmd, addr: addr}, time.Since(begin)
			}
		}
		if time.Since(begin) > 60*time.Second {
			log.Fatal("exporter did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
}

func (p *proc) status(field string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

var client = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}

func scrape(addr string) (time.Duration, int) {
	begin := time.Now()
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		log.Fatalf("scrape status %d", resp.StatusCode)
	}
	return time.Since(begin), int(n)
}

func findMap(name string) *ebpf.Map {
	var id ebpf.MapID
	for {
		next, err := ebpf.MapGetNextID(id)
		if err != nil {
			log.Fatalf("map %s not found", name)
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		info, err := m.Info()
		if err == nil && strings.HasPrefix(name, info.Name) && info.Name != "" {
			return m
		}
		m.Close()
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

func measureSize(bin string, n, scrapes int) {
	p, _ := start(bin, "--config.dir=test/testdata", "--config.names=bench")
	defer p.stop()
	m := findMap("bench_series_total")
	defer m.Close()
	keys := make([]uint64, n)
	values := make([]uint64, n)
	for i := range keys {
		keys[i] = uint64(i) * 7919
		values[i] = uint64(i) + 1
	}
	if _, err := m.BatchUpdate(keys, values, nil); err != nil {
		log.Fatal(err)
	}
	scrape(p.addr) // decode every key once
	var times, floors []time.Duration
	var size int
	kbuf := make([]uint64, 4096)
	vbuf := make([]uint64, 4096)
	for range scrapes {
		d, b := scrape(p.addr)
		times = append(times, d)
		size = b
		begin := time.Now()
		var cursor ebpf.MapBatchCursor
		for {
			if _, err := m.BatchLookup(&cursor, kbuf, vbuf, nil); err != nil {
				break
			}
		}
		floors = append(floors, time.Since(begin))
	}
	med, p99, floor := percentile(times, 0.5), percentile(times, 0.99), percentile(floors, 0.5)
	fmt.Printf("| %d | %.1f ms | %.1f ms | %.1f ms | %.2fx | %.1f MB | %s (%s) |\n", n,
		ms(med), ms(p99), ms(floor), float64(med)/float64(floor), float64(size)/1e6, p.status("VmRSS"), p.status("VmHWM"))
}

func measureDefault(bin string) {
	var starts []time.Duration
	var rss, hwm string
	for range 5 {
		p, d := start(bin)
		starts = append(starts, d)
		for range 5 {
			scrape(p.addr)
		}
		rss, hwm = p.status("VmRSS"), p.status("VmHWM")
		p.stop()
	}
	fmt.Printf("Default run (built-in catalogue, no flags): start to first successful scrape median %.0f ms (min %.0f ms) over 5 starts; RSS after 5 scrapes %s (VmHWM %s).\n",
		ms(percentile(starts, 0.5)), ms(percentile(starts, 0)), rss, hwm)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
