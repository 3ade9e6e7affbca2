package xmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Exp and Log agree with package math (within 2 ulps: the amd64 assembly
// of math.Exp is off by 2 at times) over their ranges, and keep its
// special cases.
func TestAgainstMath(t *testing.T) {
	ulps := func(a, b float64) uint64 {
		x, y := math.Float64bits(a), math.Float64bits(b)
		if x > y {
			return x - y
		}
		return y - x
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		x := r.Float64()*(709+745) - 745                                   // (math.Exp's amd64 assembly overflows above 709.4)
		if d := ulps(Exp(x), math.Exp(x)); d > 2 && math.Exp(x) > 1e-300 { // (the assembly is off by 2 ulps at times)
			t.Fatalf("Exp(%v) = %v, math.Exp %v: %d ulps", x, Exp(x), math.Exp(x), d)
		}
		y := math.Float64frombits(r.Uint64() &^ (1 << 63)) // any positive float64
		if math.IsNaN(y) || math.IsInf(y, 0) || y < 0x1p-1022 {
			continue // (math.Log's amd64 assembly is wrong for subnormals)
		}
		if d := ulps(Log(y), math.Log(y)); d > 1 {
			t.Fatalf("Log(%v) = %v, math.Log %v: %d ulps", y, Log(y), math.Log(y), d)
		}
	}
	for _, c := range []struct{ got, want float64 }{
		{Exp(0), 1}, {Exp(math.Inf(1)), math.Inf(1)}, {Exp(math.Inf(-1)), 0}, {Exp(710), math.Inf(1)}, {Exp(-746), 0},
		{Log(1), 0}, {Log(0), math.Inf(-1)}, {Log(math.Inf(1)), math.Inf(1)},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
	if d := ulps(Log(0x1p-1074), -1074*math.Ln2); d > 1 {
		t.Errorf("Log(2^-1074) = %v, want %v", Log(0x1p-1074), -1074*math.Ln2)
	}
	if got := Exp(709.5); math.IsInf(got, 0) || got < 1.35e308 || got > 1.36e308 {
		t.Errorf("Exp(709.5) = %v, want about 1.35e308", got)
	}
	if !math.IsNaN(Exp(math.NaN())) || !math.IsNaN(Log(-1)) || !math.IsNaN(Log(math.NaN())) {
		t.Error("NaN cases")
	}
}
