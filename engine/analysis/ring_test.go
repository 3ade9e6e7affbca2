package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

var centers = []float64{0, 0.3, 45, 123.4, 180, 271.7, 359.2, 359.9}

func TestDecodeBump(t *testing.T) {
	const n = 128
	var rows [][]float64
	for _, c := range centers {
		rows = append(rows, vonMises(n, c, 4, 30))
	}
	rows = append(rows, make([]float64, n)) // silent bin
	got, err := DecodeBump(rows)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range centers {
		if got[i] < 0 || got[i] >= 360 || angleDiff(got[i], c) > 0.5 {
			t.Errorf("bump at %g°: decoded %g°", c, got[i])
		}
	}
	if !math.IsNaN(got[len(centers)]) {
		t.Errorf("silent bin decoded to %g, want NaN", got[len(centers)])
	}
	if _, err := DecodeBump([][]float64{make([]float64, 3), make([]float64, 4)}); err == nil {
		t.Error("ragged input: no error")
	}
}

func TestBumpPosition(t *testing.T) {
	const n = 100
	for _, c := range centers {
		r := make([]float32, n)
		for i, v := range vonMises(n, c, 3, 20) {
			r[i] = float32(v)
		}
		deg, amp := BumpPosition(r)
		if angleDiff(deg, c) > 0.5 || deg < 0 || deg >= 360 || !(amp > 0) {
			t.Errorf("bump at %g°: %g°, amplitude %g", c, deg, amp)
		}
	}
	// A cosine profile a + b cos(θ - θ0) has amplitude b.
	r := make([]float32, 64)
	for i := range r {
		r[i] = float32(5 + 2*math.Cos(2*math.Pi*float64(i)/64-1))
	}
	deg, amp := BumpPosition(r)
	if math.Abs(amp-2) > 1e-5 || angleDiff(deg, 180/math.Pi) > 1e-4 {
		t.Errorf("cosine profile: %g°, amplitude %g; want %g°, 2", deg, amp, 180/math.Pi)
	}
	if deg, amp := BumpPosition(make([]float32, 10)); !math.IsNaN(deg) || amp != 0 {
		t.Errorf("flat profile: %g°, amplitude %g; want NaN, 0", deg, amp)
	}
}

func TestDecodeRingSpikes(t *testing.T) {
	// A bump that jumps between positions every 200 ms, spikes drawn as
	// Poisson counts per 1 ms from von Mises rates (peak 50 Hz).
	rng := rand.New(rand.NewPCG(21, 22))
	const n, binMs = 200, 200.0
	pos := []float64{10, 350, 90, 200, 0.5}
	p := Population{Name: "ring", Size: n}
	for b, c := range pos {
		rates := vonMises(n, c, 5, 50)
		for i, r := range rates {
			for ms := 0.0; ms < binMs; ms++ {
				if rng.Float64() < r*1e-3 {
					p.TimesMs = append(p.TimesMs, float64(b)*binMs+ms)
					p.IDs = append(p.IDs, uint32(i))
				}
			}
		}
	}
	ts, deg, err := DecodeRingSpikes(p, float64(len(pos))*binMs, binMs)
	if err != nil {
		t.Fatal(err)
	}
	for b, c := range pos {
		if ts[b] != (float64(b)+0.5)*binMs || angleDiff(deg[b], c) > 3 {
			t.Errorf("bin %d at %g ms: decoded %g°, want %g° ± 3", b, ts[b], deg[b], c)
		}
	}
}
