package models_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/myelin-sim/myelin/engine/models"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// specNoPanic is models.Spec with a panic turned into a test failure.
func specNoPanic(t *testing.T, model string, set map[string]string) (net *myelinpb.Network, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s %v: panic: %v", model, set, p)
		}
	}()
	return models.Spec(model, set)
}

// TestEveryParameterHostile sets every parameter of every built-in model,
// one at a time (and, for the variants that read more parameters, on top
// of the variant's switch), to an empty value and to extreme ones: the
// model gives an error or a spec that passed run validation, never a
// panic. An empty value is an error naming the parameter. Before, ring_rate
// with n = "" divided by zero (count gave its default 0 for an empty value
// without the lower bound), and brunel with n = "" said "parameter
// indegree = 1: must be in [1, 0]".
func TestEveryParameterHostile(t *testing.T) {
	variants := map[string][]map[string]string{
		"hopfield": {{"learning": "stdp", "patterns": "3", "n": "200", "duration_ms": "2000"}},
		"ping":     {{"theta_depth": "0.5"}},
	}
	values := []string{"", "0", "-1", "1e300", "-1e300", "NaN", "Inf", "2147483648", "2147483647", "4294967296", "4294967295", "1e-300", " ", "x"}
	for _, m := range models.All() {
		bases := append([]map[string]string{{}}, variants[m.Name]...)
		for _, base := range bases {
			for _, p := range m.Params {
				for _, v := range values {
					set := map[string]string{}
					for k, bv := range base {
						set[k] = bv
					}
					set[p.Name] = v
					_, err := specNoPanic(t, m.Name, set)
					if v == "" && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("parameter %s = \"\"", p.Name))) {
						t.Errorf("%s %v: error %v, want one naming parameter %s and its empty value", m.Name, set, err, p.Name)
					}
				}
			}
		}
	}
}

// TestEISplitNear2To31: the models that split n into 80 % E and 20 % I
// do it in 64-bit arithmetic. Before, 4·n overflowed 32 bits from
// n = 2^30: brunel n = 1073741830 gave E 4 and I 1073741826, n =
// 1500000000 gave E 341006540, and n = 1073741824 (E = 0) failed with
// "parameter indegree = 1: must be in [1, 0]".
func TestEISplitNear2To31(t *testing.T) {
	extra := map[string]map[string]string{
		"brunel": {"indegree": "1"},
	}
	for _, model := range []string{"brunel", "cuba", "coba", "ping", "stp_wm"} {
		for _, n := range []uint64{1 << 30, 1073741830, 1500000000, 1<<31 - 1} {
			set := map[string]string{"n": fmt.Sprint(n)}
			for k, v := range extra[model] {
				set[k] = v
			}
			net, err := build(t, model, set)
			if err != nil {
				t.Errorf("%s %v: %v", model, set, err)
				continue
			}
			var e, i uint64
			for _, p := range net.GetPopulations() {
				if p.GetName() == "I" {
					i += uint64(p.GetSize())
				} else {
					e += uint64(p.GetSize())
				}
			}
			if want := n * 4 / 5; e != want || e+i != n {
				t.Errorf("%s n = %d: E %d, I %d; want E %d, I %d", model, n, e, i, want, n-want)
			}
			// Below 2^31 neurons the spec also passes run validation.
			if _, err := specNoPanic(t, model, set); err != nil && !strings.Contains(err.Error(), "2^") {
				t.Errorf("%s %v: %v", model, set, err)
			}
		}
	}
}
