package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/ebpf-exporter/ebpf_exporter/builtin"

	"github.com/ebpf-exporter/ebpf_exporter/config"
	"github.com/ebpf-exporter/ebpf_exporter/declarative"
)

// configSource is a parsed config and where its object comes from.
type configSource struct {
	config     *config.Config
	objectPath string
	object     io.ReaderAt
	// spec, when set, is the collection generated from a declarative
	// config (no object file): load it with loader.LoadSpec.
	spec *ebpf.CollectionSpec
	// hash identifies the config's content: a reload keeps a config whose
	// YAML and object did not change.
	hash [32]byte
}

func contentHash(parts ...[]byte) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// resolveConfigs finds the configs to run. Names are looked up in dir first,
// then among the built-ins. With no names, the default built-ins run, plus
// every config in dir.
func resolveConfigs(dir string, names []string) ([]configSource, error) {
	if len(names) == 0 {
		for _, e := range builtin.Catalogue() {
			if e.Default {
				names = append(names, e.Name)
			}
		}
		if dir != "" {
			found, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil {
				return nil, err
			}
			sort.Strings(found)
			for _, f := range found {
				names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
			}
		}
	}
	var out []configSource
	var errs []error
	seen := map[string]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		src, err := resolveConfig(dir, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, src)
	}
	return out, errors.Join(errs...)
}

func resolveConfig(dir, name string) (configSource, error) {
	if dir != "" {
		path := filepath.Join(dir, name+".yaml")
		if y, err := os.ReadFile(path); err == nil {
			cfg, err := config.Parse(name, path, y)
			if err != nil {
				return configSource{}, err
			}
			objPath := filepath.Join(dir, name+".bpf.o")
			obj, err := os.ReadFile(objPath)
			if errors.Is(err, os.ErrNotExist) && declarative.IsDeclarative(cfg) {
				spec, err := declarative.Compile(cfg, declarative.Options{})
				if err != nil {
					return configSource{}, fmt.Errorf("config %s: %w", name, err)
				}
				return configSource{config: cfg, objectPath: "generated from " + path, spec: spec, hash: contentHash(y)}, nil
			}
			if err != nil {
				return configSource{}, fmt.Errorf("config %s: reading object: %w", name, err)
			}
			return configSource{config: cfg, objectPath: objPath, object: bytes.NewReader(obj), hash: contentHash(y, obj)}, nil
		}
	}
	y, obj, err := builtin.Files(name)
	if err != nil {
		where := "among the built-ins"
		if dir != "" {
			where = fmt.Sprintf("in %s nor among the built-ins", dir)
		}
		return configSource{}, fmt.Errorf("config %s: not found %s (list them with --config.list)", name, where)
	}
	cfg, err := config.Parse(name, "builtin:"+name+".yaml", y)
	if err != nil {
		return configSource{}, err
	}
	return configSource{config: cfg, objectPath: "builtin:" + name + ".bpf.o", object: bytes.NewReader(obj), hash: contentHash(y, obj)}, nil
}

func printCatalogue(w io.Writer) {
	fmt.Fprintf(w, "%-16s %-8s %-40s %s\n", "NAME", "DEFAULT", "NEEDS", "MEASURES")
	for _, e := range builtin.Catalogue() {
		def := "no"
		if e.Default {
			def = "yes"
		}
		fmt.Fprintf(w, "%-16s %-8s %-40s %s\n", e.Name, def, e.Needs, e.Summary)
	}
}
