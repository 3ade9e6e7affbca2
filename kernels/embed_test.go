package kernels

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEverySourceHasCommittedPTX needs no nvcc: it checks that every
// kernels/*.cu has a committed ptx/<name>.ptx, that no PTX lacks a source,
// and that the embed lists exactly those modules. Whether the PTX is up to
// date with its source is "make kernels-check" (which needs nvcc).
func TestEverySourceHasCommittedPTX(t *testing.T) {
	srcs, err := filepath.Glob("*.cu")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range srcs {
		name := strings.TrimSuffix(s, ".cu")
		want = append(want, name)
		if _, err := os.Stat(filepath.Join("ptx", name+".ptx")); err != nil {
			t.Errorf("kernels/%s has no committed kernels/ptx/%s.ptx: run 'make kernels' and commit it", s, name)
		}
	}
	slices.Sort(want)

	ptxs, err := filepath.Glob(filepath.Join("ptx", "*.ptx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ptxs {
		name := strings.TrimSuffix(filepath.Base(p), ".ptx")
		if !slices.Contains(want, name) {
			t.Errorf("kernels/%s has no source kernels/%s.cu: remove it or restore the source", filepath.ToSlash(p), name)
		}
	}

	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q (one per kernels/*.cu)", got, want)
	}
}

// TestPTX checks that every embedded module is PTX for compute_70, as
// mk/cuda.mk builds it, and equals the file on disk.
func TestPTX(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("no embedded PTX modules")
	}
	for _, name := range names {
		b, err := PTX(name)
		if err != nil {
			t.Fatalf("PTX(%q): %v", name, err)
		}
		disk, err := os.ReadFile(filepath.Join("ptx", name+".ptx"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, disk) {
			t.Errorf("PTX(%q) differs from ptx/%s.ptx", name, name)
		}
		for _, want := range []string{"\n.version ", "\n.target sm_70\n", "\n.address_size 64\n", ".entry "} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("ptx/%s.ptx lacks %q: not built by 'make kernels' (nvcc -ptx -arch=compute_70)?", name, strings.TrimSpace(want))
			}
		}
	}
	if !slices.Contains(names, "sanity") {
		t.Errorf("Names() = %q lacks the sanity module", names)
	} else if b, _ := PTX("sanity"); !bytes.Contains(b, []byte(".entry myelin_sanity(")) {
		t.Error("ptx/sanity.ptx lacks the entry myelin_sanity")
	}
}

func TestPTXUnknown(t *testing.T) {
	for _, name := range []string{"", "no-such-module", "sanity.ptx", "ptx/sanity", "../kernels/sanity"} {
		if _, err := PTX(name); err == nil {
			t.Errorf("PTX(%q): no error", name)
		}
	}
}
