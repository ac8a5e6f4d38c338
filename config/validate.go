package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecoderNames lists every decoder a label may use.
var DecoderNames = []string{
	"btf_enum", "cgroup", "dname", "errno", "hex", "ifname", "inet_ip", "kstack", "ksym",
	"majorminor", "pci_class", "pci_device", "pci_subclass", "pci_vendor", "regexp",
	"static_map", "string", "syscall", "uint",
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// locator finds the line of a field in the parsed YAML tree by its path.
type locator struct{ root *yaml.Node }

func newLocator(root *yaml.Node) locator { return locator{root: root} }

// line returns the line of the node at a path like "metrics.counters.0.name",
// or of its closest existing parent.
func (l locator) line(path string) int {
	n := l.root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	best := n.Line
	for _, part := range strings.Split(path, ".") {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					best = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if idx, err := strconv.Atoi(part); err == nil && idx < len(n.Content) {
				next = n.Content[idx]
				best = next.Line
			}
		}
		if next == nil {
			return best
		}
		n = next
	}
	return best
}

func (l locator) errorf(path, format string, args ...any) error {
	return &Error{Line: l.line(path), Field: path, Err: fmt.Errorf(format, args...)}
}

func (c *Config) validate(loc locator) error {
	if len(c.Metrics.Counters)+len(c.Metrics.Histograms) == 0 && c.Tracing.Kind == 0 {
		return loc.errorf("metrics", "config defines no counters and no histograms")
	}
	seen := map[string]string{}
	for i := range c.Metrics.Counters {
		m := &c.Metrics.Counters[i]
		path := fmt.Sprintf("metrics.counters.%d", i)
		if err := validateMetric(loc, path, m.Name, m.Help, m.Labels, seen, &m.Source); err != nil {
			return err
		}
		if err := validateSource(loc, path, &m.Source, false); err != nil {
			return err
		}
		if m.PerfEventArray && m.Declarative() {
			return loc.errorf(path+".perf_event_array", "perf_event_array counters cannot be declarative")
		}
		if m.FlushInterval < 0 {
			return loc.errorf(path+".flush_interval", "must not be negative")
		}
		for j, v := range m.Values {
			vpath := fmt.Sprintf("%s.values.%d", path, j)
			switch {
			case m.PerfEventArray || m.Declarative():
				return loc.errorf(vpath, "values are for counters read from a map: not with perf_event_array or a probe")
			case !metricNameRE.MatchString(v.Name):
				return loc.errorf(vpath+".name", "invalid metric name %q", v.Name)
			case v.Help == "":
				return loc.errorf(vpath+".help", "metric %q has no help text", v.Name)
			}
			if prev, ok := seen[v.Name]; ok {
				return loc.errorf(vpath+".name", "metric %q is already defined at %s", v.Name, prev)
			}
			seen[v.Name] = vpath
		}
	}
	for i := range c.Metrics.Histograms {
		m := &c.Metrics.Histograms[i]
		path := fmt.Sprintf("metrics.histograms.%d", i)
		if err := validateMetric(loc, path, m.Name, m.Help, m.Labels, seen, &m.Source); err != nil {
			return err
		}
		if err := validateSource(loc, path, &m.Source, true); err != nil {
			return err
		}
		if err := validateBuckets(loc, path, m); err != nil {
			return err
		}
	}
	inGroup := map[string]bool{}
	for i, group := range c.ProgramAlternatives {
		path := fmt.Sprintf("program_alternatives.%d", i)
		if len(group) < 2 {
			return loc.errorf(path, "a group of alternatives needs at least two programs")
		}
		for _, name := range group {
			if inGroup[name] {
				return loc.errorf(path, "program %q is in more than one group of alternatives", name)
			}
			inGroup[name] = true
		}
	}
	if c.CgroupIDMap != nil {
		if c.CgroupIDMap.Name == "" {
			return loc.errorf("cgroup_id_map.name", "missing map name")
		}
		switch c.CgroupIDMap.Type {
		case "", CgroupIDMapHash, CgroupIDMapCgrpStorage:
		default:
			return loc.errorf("cgroup_id_map.type", "unknown type %q (want %s or %s)", c.CgroupIDMap.Type, CgroupIDMapHash, CgroupIDMapCgrpStorage)
		}
		for j, re := range c.CgroupIDMap.Regexps {
			if _, err := regexp.Compile(re); err != nil {
				return loc.errorf(fmt.Sprintf("cgroup_id_map.regexps.%d", j), "invalid regexp: %v", err)
			}
		}
	}
	return nil
}

func validateMetric(loc locator, path, name, help string, labels []Label, seen map[string]string, src *Source) error {
	declarative := src.Declarative()
	if name == "" {
		return loc.errorf(path+".name", "missing metric name")
	}
	if !metricNameRE.MatchString(name) {
		return loc.errorf(path+".name", "invalid metric name %q", name)
	}
	if prev, ok := seen[name]; ok {
		return loc.errorf(path+".name", "metric %q is already defined at %s", name, prev)
	}
	seen[name] = path
	if help == "" {
		return loc.errorf(path+".help", "metric %q has no help text", name)
	}
	names := map[string]bool{}
	for j := range labels {
		l := &labels[j]
		lpath := fmt.Sprintf("%s.labels.%d", path, j)
		if !labelNameRE.MatchString(l.Name) {
			return loc.errorf(lpath+".name", "invalid label name %q", l.Name)
		}
		if names[l.Name] {
			return loc.errorf(lpath+".name", "duplicate label %q", l.Name)
		}
		names[l.Name] = true
		if declarative {
			// Sizes and the default decoder follow from the value's type.
			if strings.TrimSpace(l.Value) == "" {
				return loc.errorf(lpath+".value", "label %q of a declarative metric needs a value, like tgid or comm", l.Name)
			}
		} else if l.Value != "" {
			return loc.errorf(lpath+".value", "label %q: value is only for declarative metrics (with probe or start/end)", l.Name)
		}
		if declarative {
			// Decoders, when given, are checked below; size and decoders are optional.
		} else if l.Size == 0 {
			return loc.errorf(lpath+".size", "label %q needs a size in bytes", l.Name)
		}
		if len(l.Decoders) == 0 && !declarative {
			return loc.errorf(lpath+".decoders", "label %q has no decoders", l.Name)
		}
		for k := range l.Decoders {
			if err := validateDecoder(loc, fmt.Sprintf("%s.decoders.%d", lpath, k), &l.Decoders[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateDecoder(loc locator, path string, d *Decoder) error {
	i := sort.SearchStrings(DecoderNames, d.Name)
	if i == len(DecoderNames) || DecoderNames[i] != d.Name {
		return loc.errorf(path+".name", "unknown decoder %q (known: %s)", d.Name, strings.Join(DecoderNames, ", "))
	}
	if d.StaticMap != nil && d.Name != "static_map" {
		return loc.errorf(path+".static_map", "static_map is only for the static_map decoder, not %q", d.Name)
	}
	if d.Regexps != nil && d.Name != "regexp" {
		return loc.errorf(path+".regexps", "regexps is only for the regexp decoder, not %q", d.Name)
	}
	if d.Enum != "" && d.Name != "btf_enum" {
		return loc.errorf(path+".enum", "enum is only for the btf_enum decoder, not %q", d.Name)
	}
	switch d.Name {
	case "static_map":
		if len(d.StaticMap) == 0 {
			return loc.errorf(path+".static_map", "static_map decoder needs a non-empty static_map")
		}
	case "regexp":
		if len(d.Regexps) == 0 {
			return loc.errorf(path+".regexps", "regexp decoder needs regexps")
		}
		for j, re := range d.Regexps {
			if _, err := regexp.Compile(re); err != nil {
				return loc.errorf(fmt.Sprintf("%s.regexps.%d", path, j), "invalid regexp: %v", err)
			}
		}
	case "btf_enum":
		if d.Enum == "" {
			return loc.errorf(path+".enum", "btf_enum decoder needs enum: the kernel BTF enum type name")
		}
	}
	return nil
}

// DefaultMaxEntries bounds a declarative metric's map when max_entries is 0.
const DefaultMaxEntries = 10240

// validateSource checks the declarative fields of a metric: all empty for a
// classic metric; for a declarative one, either probe or start and end.
func validateSource(loc locator, path string, s *Source, histogram bool) error {
	if !s.Declarative() {
		for _, fv := range [][2]string{{"filter", s.Filter}, {"value", s.Value}} {
			if field, v := fv[0], fv[1]; v != "" {
				return loc.errorf(path+"."+field, "%s is only for declarative metrics: add a probe (or start and end)", field)
			}
		}
		if s.MaxEntries != 0 {
			return loc.errorf(path+".max_entries", "max_entries is only for declarative metrics: add a probe (or start and end)")
		}
		return nil
	}
	if s.MaxEntries < 0 {
		return loc.errorf(path+".max_entries", "must not be negative")
	}
	if s.Start != nil || s.End != nil {
		if s.Probe != "" {
			return loc.errorf(path+".probe", "a metric has either probe or start and end, not both")
		}
		if s.Start == nil {
			return loc.errorf(path+".end", "end needs a start")
		}
		if s.End == nil {
			return loc.errorf(path+".start", "start needs an end")
		}
		for _, side := range []string{"start", "end"} {
			e := s.Start
			if side == "end" {
				e = s.End
			}
			if strings.TrimSpace(e.Probe) == "" {
				return loc.errorf(path+"."+side+".probe", "%s needs a probe", side)
			}
			if strings.TrimSpace(e.Key) == "" {
				return loc.errorf(path+"."+side+".key", "%s needs a key matching end events to start events, like tid", side)
			}
		}
		return nil
	}
	if histogram && strings.TrimSpace(s.Value) == "" {
		return loc.errorf(path+".value", "a declarative histogram needs a value to observe, like a tracepoint field")
	}
	return nil
}

func validateBuckets(loc locator, path string, h *Histogram) error {
	if len(h.Labels) == 0 && !h.Declarative() {
		return loc.errorf(path+".labels", "histogram %q needs at least the bucket label (the last one)", h.Name)
	}
	if h.BucketMultiplier < 0 {
		return loc.errorf(path+".bucket_multiplier", "must not be negative")
	}
	if h.BucketMultiplier == 0 {
		h.BucketMultiplier = 1
	}
	switch h.BucketType {
	case BucketExp2, BucketExp2Zero, BucketLinear:
		if h.BucketMin < 0 {
			return loc.errorf(path+".bucket_min", "must not be negative")
		}
		if h.BucketMax < h.BucketMin {
			return loc.errorf(path+".bucket_max", "bucket_max %d is below bucket_min %d", h.BucketMax, h.BucketMin)
		}
		if h.BucketType != BucketLinear && h.BucketMax > 63 {
			return loc.errorf(path+".bucket_max", "exp2 bucket_max %d is above 63", h.BucketMax)
		}
		if h.BucketKeys != nil {
			return loc.errorf(path+".bucket_keys", "bucket_keys is only for bucket_type fixed")
		}
	case BucketFixed:
		if len(h.BucketKeys) == 0 {
			return loc.errorf(path+".bucket_keys", "fixed histogram %q needs bucket_keys", h.Name)
		}
		for j := 1; j < len(h.BucketKeys); j++ {
			if h.BucketKeys[j] <= h.BucketKeys[j-1] {
				return loc.errorf(fmt.Sprintf("%s.bucket_keys.%d", path, j), "bucket_keys must be strictly increasing")
			}
		}
	case "":
		return loc.errorf(path+".bucket_type", "histogram %q has no bucket_type (exp2, exp2zero, linear or fixed)", h.Name)
	default:
		return loc.errorf(path+".bucket_type", "unknown bucket_type %q (exp2, exp2zero, linear or fixed)", h.BucketType)
	}
	return nil
}

// KeySize is the byte size of a map key holding these labels: the sum of
// their sizes and paddings.
func KeySize(labels []Label) uint {
	var n uint
	for _, l := range labels {
		n += l.Size + l.Padding
	}
	return n
}

// ErrNotFound is returned when a named config has no file.
var ErrNotFound = errors.New("config not found")
