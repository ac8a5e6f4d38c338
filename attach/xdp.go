package attach

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attachXDP attaches "xdp/IFNAME" (or "xdp/IF1,IF2", as the reference
// exporter's examples write it) to each interface: in driver mode when the
// driver supports it, else in generic (skb) mode. Options.XDPFlags forces
// one mode.
func attachXDP(prog *ebpf.Program, _ *ebpf.ProgramSpec, target string, opts Options) (*Attachment, error) {
	if target == "devmap" || target == "cpumap" {
		return nil, fmt.Errorf("xdp/%s programs run from a %s map, not an interface: %w", target, target, ErrUnsupportedSection)
	}
	a := &Attachment{Kind: "xdp"}
	var targets []string
	for _, name := range strings.Split(target, ",") {
		iface, err := net.InterfaceByName(name)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("xdp interface %q: %w", name, err)
		}
		l, mode, err := attachXDPInterface(prog, iface.Index, opts.XDPFlags)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("xdp on %s: %w", name, err)
		}
		a.Links = append(a.Links, l)
		targets = append(targets, name+" ("+mode+")")
	}
	a.Target = strings.Join(targets, ", ")
	return a, nil
}

func attachXDPInterface(prog *ebpf.Program, ifindex int, flags link.XDPAttachFlags) (link.Link, string, error) {
	if flags != 0 {
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: flags})
		return l, xdpMode(flags), err
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: link.XDPDriverMode})
	if err == nil {
		return l, "driver", nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EINVAL) {
		return nil, "", fmt.Errorf("driver mode: %w", err)
	}
	l, gerr := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: link.XDPGenericMode})
	if gerr != nil {
		return nil, "", fmt.Errorf("driver mode: %w; generic mode: %w", err, gerr)
	}
	return l, "generic", nil
}

func xdpMode(flags link.XDPAttachFlags) string {
	switch flags {
	case link.XDPGenericMode:
		return "generic"
	case link.XDPDriverMode:
		return "driver"
	case link.XDPOffloadMode:
		return "offload"
	}
	return fmt.Sprintf("flags %#x", uint32(flags))
}
