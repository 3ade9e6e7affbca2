package repocheck

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pathRef matches a repository-relative path in text: a top-level folder of
// the repository followed by at least one more element.
var pathRef = regexp.MustCompile(`\b(?:cmd|engine|kernels|cuda|bench|proto|python|scripts|docs|internal|mk)/[A-Za-z0-9_./-]*[A-Za-z0-9_]`)

// TestReferencedPathsExist checks every tracked source, script and document
// for paths into the repository (kernels/update.cu, engine/neuron/...) and
// fails on each one that names nothing in the tree, so no comment points at
// a file the repository does not have.
func TestReferencedPathsExist(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	checked := 0
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !textFile(f) {
			continue
		}
		file, err := os.Open(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			for _, loc := range pathRef.FindAllStringIndex(text, -1) {
				ref := text[loc[0]:loc[1]]
				if loc[0] > 0 && (text[loc[0]-1] == '/' || text[loc[0]-1] == '.') {
					continue // relative to another folder (../kernels/x), not the root
				}
				if strings.ContainsAny(ref, "*<>{}") || strings.HasPrefix(ref, "proto/") && strings.Contains(ref, ".pb") {
					continue
				}
				ref = goIdentifierPackage(ref)
				checked++
				if _, err := os.Stat(filepath.Join(root, ref)); err != nil && !generated(ref) {
					t.Errorf("%s:%d: names %s, which the repository does not have", f, line, ref)
				}
			}
		}
		file.Close()
	}
	if checked < 50 {
		t.Errorf("only %d path references checked: the scan is broken", checked)
	}
}

// goIdentifierPackage turns a Go identifier written with its package path
// (engine/stream.Reader, engine/neuron.Model.Code) into the package folder.
func goIdentifierPackage(ref string) string {
	dir, last := filepath.Split(ref)
	if i := strings.IndexByte(last, '.'); i > 0 && i+1 < len(last) && last[i+1] >= 'A' && last[i+1] <= 'Z' {
		return dir + last[:i]
	}
	return ref
}

// generated reports whether ref names something that make or a documented
// command creates, or a placeholder.
func generated(ref string) bool {
	if strings.Contains(ref, "my_model") {
		return true // the placeholder of docs/adding-a-neuron-model.md
	}
	for _, p := range []string{"bin/", "out/", "kernels/hostemu/build", "bench/last-run.txt", "bench/gpu", "docs/brunel-rates.png"} {
		if strings.HasPrefix(ref, p) {
			return true
		}
	}
	return false
}

func textFile(f string) bool {
	switch filepath.Ext(f) {
	case ".go", ".cu", ".cuh", ".h", ".cc", ".sh", ".md", ".py", ".proto", ".mk":
		return !strings.HasSuffix(f, ".pb.go") && !strings.HasSuffix(f, "_pb2.py")
	}
	base := filepath.Base(f)
	return base == "Makefile" || base == "run"
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
