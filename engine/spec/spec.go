// Package spec reads, defaults and validates Myelin network specifications
// (*myelinpb.Network) and offers a small fluent builder for writing them in Go.
//
// The usual path is Load (ParseFile, then ApplyDefaults, then Validate). A
// network that passes Validate has every optional field set to a concrete
// value, so later stages (connectivity build, backends) never need to know
// the defaults themselves.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
)

// Encoding is the syntax of a serialized network specification.
type Encoding int

const (
	// Textproto is the protobuf text format (.textproto, .txtpb, .pbtxt).
	Textproto Encoding = iota
	// JSON is the protobuf JSON mapping (.json); both lowerCamelCase and
	// original snake_case field names are accepted.
	JSON
)

// String returns "textproto" or "json".
func (e Encoding) String() string {
	switch e {
	case Textproto:
		return "textproto"
	case JSON:
		return "json"
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// EncodingForPath chooses the encoding of a spec file from its extension:
// .textproto, .txtpb and .pbtxt are Textproto, .json is JSON. Any other
// extension is an error that names the file.
func EncodingForPath(path string) (Encoding, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".textproto", ".txtpb", ".pbtxt":
		return Textproto, nil
	case ".json":
		return JSON, nil
	}
	return 0, fmt.Errorf("%s: unknown spec file extension %q (want .textproto, .txtpb, .pbtxt or .json)", path, filepath.Ext(path))
}

// ParseError is a syntax or schema error found while decoding a spec. Line
// and Col are 1-based and zero when the decoder gave no position.
type ParseError struct {
	File string // file name, empty when parsing bytes without a name
	Line int
	Col  int
	Msg  string // the decoder's message without its "proto:" prefix
	Err  error  // the underlying protobuf error
}

// Error formats the error as "file:line:col: msg", leaving out the parts
// that are unknown.
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Col)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying protobuf error.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes a network from data in the given encoding. Unknown fields are
// errors. Decoding errors are *ParseError values carrying line and column.
// Parse neither applies defaults nor validates.
func Parse(data []byte, enc Encoding) (*myelinpb.Network, error) {
	return ParseNamed("", data, enc)
}

// ParseNamed is Parse with a file name (or other source label, such as
// "<stdin>") to put in front of error positions.
func ParseNamed(name string, data []byte, enc Encoding) (*myelinpb.Network, error) {
	n := &myelinpb.Network{}
	var err error
	switch enc {
	case Textproto:
		err = prototext.UnmarshalOptions{DiscardUnknown: false}.Unmarshal(data, n)
	case JSON:
		err = protojson.UnmarshalOptions{DiscardUnknown: false}.Unmarshal(data, n)
	default:
		label := name
		if label == "" {
			label = "spec"
		}
		return nil, fmt.Errorf("%s: unknown encoding %v", label, enc)
	}
	if err != nil {
		return nil, newParseError(name, data, err)
	}
	return n, nil
}

// MaxFileBytes is the most a spec file may hold: 1 GiB. The largest specs
// in practice are explicit synapse lists, about 45 bytes a synapse as
// protobuf text (pre_index and post_index lines) and 160 with weights for
// two ports, so 1 GiB holds 6 to 24 million synapses; the ring_spiking
// model at its largest n is about 0.8 GB. Reading and decoding a spec of
// 1 GiB takes about 20 s and 2.5 GB.
const MaxFileBytes = 1 << 30

// ParseFile reads and decodes the spec file at path, choosing the encoding
// by extension (see EncodingForPath). Errors name the file. A file larger
// than MaxFileBytes is refused: a regular file before it is read, anything
// else (a pipe, a device) once that much has been read from it.
func ParseFile(path string) (*myelinpb.Network, error) {
	return parseFileLimit(path, MaxFileBytes)
}

// parseFileLimit is ParseFile with a cap of limit bytes.
func parseFileLimit(path string, limit int64) (*myelinpb.Network, error) {
	enc, err := EncodingForPath(path)
	if err != nil {
		return nil, err
	}
	data, err := readFile(path, limit)
	if err != nil {
		return nil, fmt.Errorf("reading spec: %w", err)
	}
	return ParseNamed(path, data, enc)
}

// readFile reads the file at path through a reader limited to limit+1
// bytes, and refuses it when it holds more than limit. A regular file is
// read into a buffer of its size; anything else (a pipe, a device) in
// chunks, joined once it has ended within the limit, so that an endless
// one costs at most limit bytes.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooBig := fmt.Sprintf("more than the %s (%d bytes) a spec file may hold", byteSize(limit), limit)
	r := io.LimitReader(f, limit+1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > limit {
			return nil, fmt.Errorf("%s is %d bytes, %s", path, st.Size(), tooBig)
		}
		var buf bytes.Buffer
		buf.Grow(int(st.Size()) + bytes.MinRead)
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, err
		}
		if int64(buf.Len()) > limit {
			return nil, fmt.Errorf("%s grew past %d bytes while being read, %s", path, limit, tooBig)
		}
		return buf.Bytes(), nil
	}
	const chunk = 4 << 20
	var chunks [][]byte
	var total int64
	for {
		c := make([]byte, chunk)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += int64(n)
		}
		if total > limit {
			return nil, fmt.Errorf("%s gave %s", path, tooBig)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return bytes.Join(chunks, nil), nil
}

// byteSize writes a power-of-two size the short way ("1 GiB"), or in bytes.
func byteSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Load reads the spec file at path, applies defaults and validates it for a
// run (ValidateRun). Every error names the file; validation errors are a
// *ValidationError whose File is path.
func Load(path string) (*myelinpb.Network, error) {
	n, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	ApplyDefaults(n)
	if err := ValidateRun(n); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = path
			return nil, ve
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// Format renders n as multi-line protobuf text with two-space indentation
// and one space after each field name's colon (UnifySpacing), suitable for
// writing a .textproto file. The output parses back (Parse with Textproto)
// to a message equal to n. The only possible error is a string field
// holding invalid UTF-8.
func Format(n *myelinpb.Network) ([]byte, error) {
	b, err := prototext.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("formatting spec: %w", err)
	}
	return UnifySpacing(b), nil
}

// FormatJSON renders n as indented protobuf JSON (lowerCamelCase names),
// with one space after each name's colon (UnifySpacing). The output parses
// back (Parse with JSON) to a message equal to n.
func FormatJSON(n *myelinpb.Network) ([]byte, error) {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("formatting spec as JSON: %w", err)
	}
	return UnifySpacing(b), nil
}

// UnifySpacing makes the separator after the field name that starts each
// line of multi-line protobuf text or JSON (prototext, protojson) one
// space, in place, and returns b shortened. Those encoders add a second
// space in some builds, on purpose, so that nobody relies on their exact
// output; a spec that users edit, diff and script should not change with
// the binary that wrote it. Only the first separator of a line, right
// after its leading name, is touched, never a string value.
func UnifySpacing(b []byte) []byte {
	out := b[:0]
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		b = b[len(line):]
		if k := nameEnd(line); k > 0 && k+2 < len(line) && line[k] == ':' && line[k+1] == ' ' && line[k+2] == ' ' {
			out = append(out, line[:k+2]...)
			out = append(out, line[k+3:]...)
			continue
		}
		out = append(out, line...)
	}
	return out
}

// nameEnd returns where the name that starts line (after its indentation)
// ends: a field name, a quoted JSON name or a bracketed extension name; 0
// when the line does not start with one.
func nameEnd(line []byte) int {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	word := func(j int) int {
		for j < len(line) && (line[j] == '_' || line[j] == '.' || '0' <= line[j] && line[j] <= '9' ||
			'a' <= line[j]|0x20 && line[j]|0x20 <= 'z') {
			j++
		}
		return j
	}
	switch {
	case i == len(line):
		return 0
	case line[i] == '"':
		j := word(i + 1)
		if j > i+1 && j < len(line) && line[j] == '"' {
			return j + 1
		}
	case line[i] == '[':
		j := word(i + 1)
		if j > i+1 && j < len(line) && line[j] == ']' {
			return j + 1
		}
	default:
		if j := word(i); j > i {
			return j
		}
	}
	return 0
}

// linePos finds "(line L:C)" in a protobuf decoding error, optionally
// preceded by "syntax error ".
var linePos = regexp.MustCompile(`(syntax error )?\(line (\d+):(\d+)\):?\s*`)

// newParseError turns a prototext/protojson error into a *ParseError with
// the position moved to the front.
func newParseError(name string, data []byte, err error) *ParseError {
	msg := stripProtoPrefix(err.Error())
	pe := &ParseError{File: name, Msg: msg, Err: err}
	if m := linePos.FindStringSubmatchIndex(msg); m != nil {
		pe.Line, _ = strconv.Atoi(msg[m[4]:m[5]])
		pe.Col, _ = strconv.Atoi(msg[m[6]:m[7]])
		rest := msg[:m[0]] + msg[m[1]:]
		if m[2] >= 0 {
			rest = "syntax error: " + rest
		}
		pe.Msg = normalizeUnknownField(strings.TrimSpace(rest))
	} else if strings.Contains(msg, "unexpected EOF") {
		// The decoders give no position for a truncated input: point at
		// its end.
		pe.Line, pe.Col = endPosition(data)
		pe.Msg = "syntax error: unexpected end of input"
	}
	return pe
}

// endPosition returns the 1-based line and column just past the end of data.
func endPosition(data []byte) (line, col int) {
	i := bytes.LastIndexByte(data, '\n')
	return bytes.Count(data, []byte{'\n'}) + 1, utf8.RuneCount(data[i+1:]) + 1
}

// stripProtoPrefix removes every "proto: " prefix (the protobuf library
// randomly uses a regular or a non-breaking space in it).
func stripProtoPrefix(s string) string {
	for _, p := range []string{"proto: ", "proto:\u00a0"} {
		s = strings.ReplaceAll(s, p, "")
	}
	return strings.TrimSpace(s)
}

// normalizeUnknownField rewrites the text decoder's `unknown field: foo` as
// `unknown field "foo"`, the form the JSON decoder already uses.
func normalizeUnknownField(s string) string {
	const p = "unknown field: "
	if strings.HasPrefix(s, p) {
		return `unknown field "` + strings.TrimPrefix(s, p) + `"`
	}
	return s
}
