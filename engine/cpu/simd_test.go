package cpu

import (
	"math"
	"testing"

	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// The AVX2 kernel of iaf_psc_exp gives exactly the bits of
// neuron.IafPscExp.Step, and the same spikes, on states drawn to cross every
// branch: refractory and free neurons, potentials at, above and below
// threshold, large and tiny currents, ring words of both signs, NaN and
// infinities.
func TestPscExpVectorMatchesStep(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	m := neuron.NewIafPscExp(&myelinpb.IafPscExp{
		CM: proto.Float64(200), TauM: proto.Float64(20), EL: proto.Float64(-49), VTh: proto.Float64(-50), VReset: proto.Float64(-60),
		TRef: proto.Float64(5), TauSynEx: proto.Float64(5), TauSynIn: proto.Float64(10), IE: proto.Float64(3),
	}, 0.1)
	q := rng.NewStream(7, 0).Seq(0)
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e-40, m.VTh, math.Nextafter32(m.VTh, -1)}
	for _, n := range []int{8, 64, 4000} {
		v, ie, ii := make([]float32, n), make([]float32, n), make([]float32, n)
		ref, exR, inR := make([]int32, n), make([]int32, n), make([]int32, n)
		for k := range v {
			v[k] = float32(q.Float64()*30 - 20)
			ie[k] = float32(q.Float64()*400 - 100)
			ii[k] = -float32(q.Float64() * 300)
			ref[k] = int32(q.Intn(4)) - 1 // -1 .. 2
			if q.Intn(3) == 0 {
				ref[k] = 0
			}
			exR[k] = int32(q.Uint32())
			inR[k] = -int32(q.Uint32() >> 1)
			if q.Intn(2) == 0 {
				exR[k] >>= 16
				inR[k] >>= 16
			}
			if q.Intn(10) == 0 {
				v[k] = special[q.Intn(uint32(len(special)))]
			}
			if q.Intn(20) == 0 {
				ie[k] = special[q.Intn(uint32(len(special)))]
			}
		}
		const si = 1.0 / 1024
		wv, wie, wii, wref := append([]float32(nil), v...), append([]float32(nil), ie...), append([]float32(nil), ii...), append([]int32(nil), ref...)
		var want []uint32
		for k := range wv {
			var f bool
			wv[k], wie[k], wii[k], wref[k], f = m.Step(wv[k], wie[k], wii[k], wref[k], float32(exR[k])*si, float32(inR[k])*si, 0)
			if f {
				want = append(want, 100+uint32(k))
			}
		}
		got, done := pscExpVector(&m, 100, v, ie, ii, ref, exR, inR, si, make([]uint8, n/8), nil)
		if done != n {
			t.Fatalf("n = %d: kernel did %d neurons", n, done)
		}
		for k := range v {
			if math.Float32bits(v[k]) != math.Float32bits(wv[k]) || math.Float32bits(ie[k]) != math.Float32bits(wie[k]) ||
				math.Float32bits(ii[k]) != math.Float32bits(wii[k]) || ref[k] != wref[k] {
				if !(v[k] != v[k] && wv[k] != wv[k]) { // NaN payloads may differ
					t.Fatalf("n = %d, neuron %d: kernel (%v %v %v %d), Step (%v %v %v %d)", n, k, v[k], ie[k], ii[k], ref[k], wv[k], wie[k], wii[k], wref[k])
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("n = %d: %d spikes, Step gives %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("n = %d: spike %d is neuron %d, Step gives %d", n, i, got[i], want[i])
			}
		}
		if n == 4000 && len(want) < 100 {
			t.Fatalf("only %d spikes: the threshold branch is barely exercised", len(want))
		}
	}
}
