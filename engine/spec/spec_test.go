package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

func TestParseErrorPosition(t *testing.T) {
	tests := []struct {
		name string
		enc  Encoding
		in   string
		want string
	}{
		{"unknown field", Textproto, "name: \"x\"\npopulations {\n    foo: 1\n}\n", `3:5: unknown field "foo"`},
		{"unknown top-level field", Textproto, "dt_ms: 0.1\nbogus: 3\n", `2:1: unknown field "bogus"`},
		{"bad value", Textproto, "dt_ms: \"abc\"\n", "1:8: "},
		{"syntax", Textproto, "populations {\n  name: \"E\"\n", "3:1: syntax error: "},
		{"json unknown field", JSON, "{\n  \"name\": \"x\",\n  \"foo\": 1\n}", `3:3: unknown field "foo"`},
		{"json bad value", JSON, `{"dtMs": "abc"}`, "1:10: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseNamed("spec.textproto", []byte(tc.in), tc.enc)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "spec.textproto:" + tc.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want prefix %q", err, want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line == 0 || pe.Col == 0 {
				t.Errorf("error %#v: want a *ParseError with a position", err)
			}
			// Without a name the position comes first.
			_, err = Parse([]byte(tc.in), tc.enc)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Parse error %q, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestTextprotoAndJSONAgree(t *testing.T) {
	a, err := ParseFile(filepath.Join("testdata", "brunel.textproto"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseFile(filepath.Join("testdata", "brunel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(a, b) {
		t.Errorf("textproto and JSON differ:\n%v\n%v", a, b)
	}
}

func TestParseFileExtension(t *testing.T) {
	dir := t.TempDir()
	body := []byte("populations { name: \"E\" size: 1 iaf_psc_delta {} }\n")
	for _, ext := range []string{".textproto", ".txtpb", ".pbtxt", ".TEXTPROTO"} {
		p := filepath.Join(dir, "net"+ext)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseFile(p); err != nil {
			t.Errorf("%s: %v", ext, err)
		}
	}
	p := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("unknown extension: error %v should name %s", err, p)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: error %v should name the file", err)
	}
}

func TestLoad(t *testing.T) {
	n, err := Load(filepath.Join("testdata", "brunel.textproto"))
	if err != nil {
		t.Fatal(err)
	}
	if got := n.GetProjections()[2].GetName(); got != "I->E" {
		t.Errorf("projection name %q, want I->E (defaulted)", got)
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "bad.textproto")
	bad := "dt_ms: -1\npopulations { name: \"E\" size: 0 iaf_psc_delta {} }\n"
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Load(bad): %v, want *ValidationError", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 problems, got %q", err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, p+": ") {
			t.Errorf("line %q does not start with the file name", l)
		}
	}

	p = filepath.Join(dir, "syntax.textproto")
	if err := os.WriteFile(p, []byte("dt_ms: 0.1\nfoo: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.HasPrefix(err.Error(), p+":2:1: ") {
		t.Errorf("Load(syntax): %v, want prefix %s:2:1:", err, p)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, f := range []string{"brunel.textproto", "brunel.json"} {
		n, err := Load(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		text, err := Format(n)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(text, Textproto)
		if err != nil {
			t.Fatalf("%s: parsing Format output: %v\n%s", f, err, text)
		}
		if !proto.Equal(n, back) {
			t.Errorf("%s: text round trip changed the network:\n%s", f, text)
		}
		js, err := FormatJSON(n)
		if err != nil {
			t.Fatal(err)
		}
		back, err = Parse(js, JSON)
		if err != nil {
			t.Fatalf("%s: parsing FormatJSON output: %v\n%s", f, err, js)
		}
		if !proto.Equal(n, back) {
			t.Errorf("%s: JSON round trip changed the network:\n%s", f, js)
		}
	}
}

func TestFormatInvalidUTF8(t *testing.T) {
	if _, err := Format(&myelinpb.Network{Name: "\xff"}); err == nil {
		t.Error("Format accepted invalid UTF-8")
	}
}

func TestEncodingString(t *testing.T) {
	if Textproto.String() != "textproto" || JSON.String() != "json" || Encoding(7).String() != "Encoding(7)" {
		t.Error("Encoding.String")
	}
	if _, err := Parse(nil, Encoding(7)); err == nil {
		t.Error("Parse accepted an unknown encoding")
	}
}
