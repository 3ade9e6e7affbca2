package spec

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
)

// FuzzParseValidate feeds arbitrary text to the parsers; whatever parses
// must survive ApplyDefaults, Validate and a Format round trip.
func FuzzParseValidate(f *testing.F) {
	for _, name := range []string{"brunel.textproto", "brunel.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, filepath.Ext(name) == ".json")
	}
	f.Add([]byte(pops+`projections { pre: "R" post: "R" ring { sigma_deg: 1 } }`), false)
	f.Add([]byte(pops+`projections { pre: "E" post: "E" explicit { pre_index: [1, 1] post_index: [1, 1] } allow_multapses: false allow_autapses: false }`), false)
	f.Add([]byte(pops+`projections { pre: "I" post: "I" fixed_out_degree { outdegree: 30 } weight { normal { std: 0 min: 1 max: 0 } } allow_multapses: false }`), false)
	f.Add([]byte(pops+`inputs { target: "E" spike_times { neuron: [1, 99] time_ms: [nan] } } recording { state { population: "E" first: 4294967295 count: 4294967295 } }`), false)
	f.Add([]byte(`dt_ms: inf duration_ms: nan populations { size: 4294967295 } populations { size: 4294967295 }`), false)
	f.Add([]byte(`{"populations": [{"name": "E", "size": 3, "rate": {"transfer": "TANH"}}], "projections": [{"pre": "E", "post": "E", "ring": {"sigmaDeg": 10}, "delay": {"lognormal": {"mu": 1}}}], "inputs": [{"target": "E", "dc": {"amplitude": "Infinity"}}]}`), true)
	f.Add([]byte(`{"dtMs": "NaN", "populations": [{"iafCondExp": {"gL": -1}}, null]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		enc := Textproto
		if isJSON {
			enc = JSON
		}
		n, err := Parse(data, enc)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		ApplyDefaults(n)
		_ = Validate(n)
		text, err := Format(n)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		back, err := Parse(text, Textproto)
		if err != nil {
			t.Fatalf("Format output does not parse: %v\n%s", err, text)
		}
		if !proto.Equal(n, back) {
			t.Fatalf("Format round trip differs:\n%s", text)
		}
	})
}
