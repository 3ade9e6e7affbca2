package spec

import "testing"

// TestUnifySpacing: the second space that some protobuf builds put after a
// field name's colon is removed, in text and JSON, and nothing else: not
// in string values, not after a colon that does not follow the line's
// leading name.
func TestUnifySpacing(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"name:  \"a:  b\"\nsize:  3\npopulations:  {\n  iaf_psc_exp:  {\n    c_m:  200\n  }\n}\n",
			"name: \"a:  b\"\nsize: 3\npopulations: {\n  iaf_psc_exp: {\n    c_m: 200\n  }\n}\n"},
		{"[myelin.ext]:  1\n", "[myelin.ext]: 1\n"},
		{"{\n  \"name\":  \"x:  y\",\n  \"dtMs\":  0.1,\n  \"pops\":  [\n    {\n      \"size\":  3\n    }\n  ]\n}",
			"{\n  \"name\": \"x:  y\",\n  \"dtMs\": 0.1,\n  \"pops\": [\n    {\n      \"size\": 3\n    }\n  ]\n}"},
		{"name: \"already one\"\n", "name: \"already one\"\n"},
		{"  \"not a name:  \"\n", "  \"not a name:  \"\n"},
		{"x:\n", "x:\n"},
		{"", ""},
	} {
		if got := string(UnifySpacing([]byte(tc.in))); got != tc.want {
			t.Errorf("UnifySpacing(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
