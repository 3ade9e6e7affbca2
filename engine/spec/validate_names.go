package spec

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Checks of the names a spec's author chooses: of the network, its
// populations, projections, inputs and phases. They are printed (run
// summaries, errors, stream headers) and populations are chosen by name on
// the command line, so a name must be valid UTF-8, printable (no control,
// format or other non-graphic character: no newline, no ANSI escape, no
// bidirectional override) and not only white space; a population name must
// also be free of the separators of the command line's population lists,
// and a phase name of the one of --phase's.

// A separator is a character that some kind of name must not hold, with
// the reason.
type separator struct {
	r   rune
	why string
}

var (
	// populationSeparators are the characters a population name must not
	// hold.
	populationSeparators = []separator{
		{',', "--record, --population and --listen-filter take comma-separated population names"},
		{'@', "--sample and --listen-filter read POP@FIRST:COUNT"},
	}
	// phaseSeparators are the characters a phase name must not hold.
	phaseSeparators = []separator{
		{',', "--phase takes comma-separated phases"},
	}
)

// nameProblem returns what is wrong with name, a non-empty name, or "".
func nameProblem(name string, seps []separator) string {
	if !utf8.ValidString(name) {
		return "must be valid UTF-8"
	}
	if strings.TrimSpace(name) == "" {
		return "must not be only white space"
	}
	if msg := printableProblem(name); msg != "" {
		return msg
	}
	for _, s := range seps {
		if strings.ContainsRune(name, s.r) {
			return fmt.Sprintf("must not contain %q (%s)", s.r, s.why)
		}
	}
	return ""
}

// printableProblem returns what is wrong with s, valid UTF-8, if it holds
// a character that is not graphic (a control, format, private-use or
// unassigned code point), or "".
func printableProblem(s string) string {
	for i, r := range s {
		if !unicode.IsGraphic(r) {
			return fmt.Sprintf("must hold printable characters only: %U at byte %d is a control or non-printable character", r, i)
		}
	}
	return ""
}

// name checks field of obj, a non-empty name, against seps and reports a
// problem with the name quoted.
func (v *validator) name(obj, field, name string, seps []separator) {
	if msg := nameProblem(name, seps); msg != "" {
		v.add(obj, field, fmt.Sprintf("%q", name), msg)
	}
}
