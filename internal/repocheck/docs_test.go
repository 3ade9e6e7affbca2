package repocheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportedNamesHaveDocComments checks every tracked Go file outside
// package main, tests and generated code for exported functions, methods
// (of exported types), types, constants and variables without a doc
// comment, the project's rule. A name in a documented group (a const
// block with a comment) counts as documented, as go doc shows it.
func TestExportedNamesHaveDocComments(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "*.go").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	files := 0
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".pb.go") {
			continue
		}
		fs := token.NewFileSet()
		file, err := parser.ParseFile(fs, filepath.Join(root, f), nil, parser.ParseComments)
		if err != nil {
			continue // deleted in the work tree, or not Go for this build
		}
		if file.Name.Name == "main" {
			continue
		}
		files++
		for _, miss := range undocumented(file) {
			t.Errorf("%s:%d: exported %s has no doc comment", f, fs.Position(miss.pos).Line, miss.what)
		}
	}
	if files < 50 {
		t.Errorf("checked %d Go files, expected the whole tree", files)
	}
}

type missing struct {
	pos  token.Pos
	what string
}

// undocumented lists the exported declarations of file without a doc
// comment.
func undocumented(file *ast.File) []missing {
	var out []missing
	for _, d := range file.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil || !exportedRecv(d) {
				continue
			}
			out = append(out, missing{d.Pos(), "func " + d.Name.Name})
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						out = append(out, missing{s.Pos(), "type " + s.Name.Name})
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
							out = append(out, missing{n.Pos(), n.Name})
						}
					}
				}
			}
		}
	}
	return out
}

// exportedRecv reports whether d is a function, or a method of an exported
// type (methods of unexported types are not in the package's API).
func exportedRecv(d *ast.FuncDecl) bool {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return true
	}
	t := d.Recv.List[0].Type
	if st, ok := t.(*ast.StarExpr); ok {
		t = st.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, ok := t.(*ast.Ident)
	return !ok || id.IsExported()
}

// TestUndocumentedFindsMissing: the check above finds an exported function,
// method, type and constant without comments, and passes their documented
// and unexported twins.
func TestUndocumentedFindsMissing(t *testing.T) {
	src := `package p
func A() {}
// B is documented.
func B() {}
func c() {}
type T struct{}
func (T) M() {}
type u struct{}
func (u) M() {}
const K = 1
// Documented group.
const (
	L = 2
)
`
	file, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range undocumented(file) {
		got = append(got, m.what)
	}
	if want := "func A, type T, func M, K"; strings.Join(got, ", ") != want {
		t.Errorf("undocumented = %q, want %q", strings.Join(got, ", "), want)
	}
}
