// Package test holds the end-to-end tests of the exporter binary against real
// kernel programs. Its BPF test objects are rebuilt with go generate.
package test

//go:generate ./testdata/generate.sh
