//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStalePartials: of the files beside --out that look like its
// temporary files, only those no live command holds are stale; other
// names, other outputs' files and this command's own are not.
func TestStalePartials(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "x.myelin")
	touch := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := touch("x.myelin.0123abcd.partial")
	for _, name := range []string{
		"x.myelin.0123ABCD.partial", // not as createPartial names them
		"x.myelin.0123abc.partial",
		"x.myelin.0123abcd.partial~",
		"x.myelinA.0123abcd.partial",
		"y.myelin.0123abcd.partial",
	} {
		touch(name)
	}
	if err := os.Mkdir(filepath.Join(dir, "x.myelin.00000000.partial"), 0o755); err != nil {
		t.Fatal(err)
	}
	held, err := createPartial(dest) // a live command's
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	own, err := createPartial(dest)
	if err != nil {
		t.Fatal(err)
	}
	own.Close() // unlocked, but this command's own
	if got := stalePartials(dest, own.Name()); !slices.Equal(got, []string{stale}) {
		t.Errorf("stalePartials = %q, want only %q", got, stale)
	}
	// Once the live command ends (its file closed, as when it is killed),
	// its file is stale too.
	held.Close()
	got := stalePartials(dest, own.Name())
	slices.Sort(got)
	want := []string{stale, held.Name()}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after the holder closed: stalePartials = %q, want %q", got, want)
	}
}

// TestRunNotesStalePartials: a run whose --out has a temporary file that a
// killed run left beside it says so, names it, and leaves it in place.
func TestRunNotesStalePartials(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "b.myelin")
	stale := filepath.Join(dir, "b.myelin.deadbeef.partial")
	if err := os.WriteFile(stale, []byte("what a killed run wrote"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(context.Background(), "run", "brunel", "--set", "n=200", "--duration", "5", "--backend", "cpu", "-q", "-o", out)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "note: "+stale+": left by an earlier command on "+out+" that did not finish") {
		t.Errorf("stderr does not name the stale file:\n%s", errOut)
	}
	if b, err := os.ReadFile(stale); err != nil || string(b) != "what a killed run wrote" {
		t.Errorf("the stale file was changed or removed: %q, %v", b, err)
	}
	// A second run finds it again, and no file of the first run.
	_, _, errOut = cli(context.Background(), "run", "brunel", "--set", "n=200", "--duration", "5", "--backend", "cpu", "-q", "-o", out)
	if strings.Count(errOut, ".partial") != 1 {
		t.Errorf("second run: want one stale file named, got:\n%s", errOut)
	}
	if got := partials(t, dir); len(got) != 1 {
		t.Errorf("partial files left: %q, want only the stale one", got)
	}
}
