package neuron

import (
	"math"
	"testing"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// poissonTestCount inverts a small CDF table as the CPU backend does: 2 +
// the first k with u < thr[k].
func poissonTestCount(u uint32, thr []uint32) uint32 {
	for k, x := range thr {
		if u < x {
			return 2 + uint32(k)
		}
	}
	return 2 + uint32(len(thr)-1)
}

// The AVX2 kernel of iaf_psc_exp gives exactly the bits of
// IafPscExp.Step, and the same spikes, on states drawn to cross every
// branch: refractory and free neurons, potentials at, above and below
// threshold, large and tiny currents, ring words of both signs, NaN and
// infinities.
func TestPscExpVectorMatchesStep(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	m := NewIafPscExp(&myelinpb.IafPscExp{
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
		for k := range exR {
			if exR[k] != 0 || inR[k] != 0 {
				t.Fatalf("ring words of neuron %d not cleared: %d %d", k, exR[k], inR[k])
			}
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

// The AVX2 kernel of iaf_psc_exp with a Poisson input gives exactly the
// bits of IafPscExp.Step on RingInput.Two's inputs (the count × weight
// joining the channel of the weight's sign), for weights of both signs and
// 0, ring words at the int32 limits, large counts and special states; a
// count too large for exact sums leaves the range to the Go loop.
func TestPscExpPoissonVectorMatchesStep(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	m := NewIafPscExp(&myelinpb.IafPscExp{
		CM: proto.Float64(250), TauM: proto.Float64(10), EL: proto.Float64(-65), VTh: proto.Float64(-50), VReset: proto.Float64(-65),
		TRef: proto.Float64(2), TauSynEx: proto.Float64(0.5), TauSynIn: proto.Float64(0.5), IE: proto.Float64(1),
	}, 0.1)
	q := rng.NewStream(11, 0).Seq(0)
	thr := []uint32{1 << 28, 1 << 30, 3 << 30, ^uint32(0)}
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 1e-40, m.VTh}
	weights := []int64{0, 87 << 10, -(350 << 12), 1<<31 - 1, -(1 << 31)}
	for i := 0; i < 20; i++ {
		weights = append(weights, int64(int32(q.Uint32())))
	}
	for _, w := range weights {
		const n = 4000
		v, ie, ii := make([]float32, n), make([]float32, n), make([]float32, n)
		ref, exR, inR, cnt := make([]int32, n), make([]int32, n), make([]int32, n), make([]uint32, n)
		for k := range v {
			v[k] = float32(q.Float64()*25 - 10)
			ie[k] = float32(q.Float64() * 800)
			ii[k] = -float32(q.Float64() * 800)
			ref[k] = int32(q.Intn(4)) - 1
			if q.Intn(3) > 0 {
				ref[k] = 0
			}
			exR[k] = int32(q.Uint32() >> (1 + q.Intn(24)))
			inR[k] = -int32(q.Uint32() >> (1 + q.Intn(24)))
			cnt[k] = poissonTestCount(q.Uint32(), thr)
			if q.Intn(50) == 0 {
				cnt[k] = maxVectorCount - 1
			}
			if q.Intn(10) == 0 {
				v[k] = special[q.Intn(uint32(len(special)))]
			}
		}
		exR[0], inR[0], exR[1], inR[1] = math.MaxInt32, math.MaxInt32, math.MinInt32, math.MinInt32
		const si = 1.0 / (1 << 20)
		r := &RingInput{Ex: exR, In: inR, Counts: cnt, PoissonW: w, Scale: si}
		wv, wie, wii, wref := append([]float32(nil), v...), append([]float32(nil), ie...), append([]float32(nil), ii...), append([]int32(nil), ref...)
		var want []uint32
		for k := range wv {
			ex, in := r.Two(k)
			var f bool
			wv[k], wie[k], wii[k], wref[k], f = m.Step(wv[k], wie[k], wii[k], wref[k], ex, in, 0)
			if f {
				want = append(want, uint32(k))
			}
		}
		got, done := pscExpPoissonVector(&m, 0, v, ie, ii, ref, exR, inR, si, cnt, w, make([]uint8, n/8), nil)
		if done != n {
			t.Fatalf("w = %d: kernel did %d neurons", w, done)
		}
		for k := range exR {
			if exR[k] != 0 || inR[k] != 0 {
				t.Fatalf("ring words of neuron %d not cleared: %d %d", k, exR[k], inR[k])
			}
		}
		for k := range v {
			same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) }
			if !same(v[k], wv[k]) || !same(ie[k], wie[k]) || !same(ii[k], wii[k]) || ref[k] != wref[k] {
				t.Fatalf("w = %d, neuron %d: kernel (%v %v %v %d), Step (%v %v %v %d)", w, k, v[k], ie[k], ii[k], ref[k], wv[k], wie[k], wii[k], wref[k])
			}
		}
		if len(got) != len(want) || len(want) < 50 {
			t.Fatalf("w = %d: %d spikes, Step gives %d (want at least 50)", w, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("w = %d: spike %d is neuron %d, Step gives %d", w, i, got[i], want[i])
			}
		}
	}
	// A count at maxVectorCount: the kernel declines the range.
	cnt := make([]uint32, 8)
	cnt[3] = maxVectorCount
	z := make([]float32, 8)
	if _, done := pscExpPoissonVector(&m, 0, z, make([]float32, 8), make([]float32, 8), make([]int32, 8), make([]int32, 8), make([]int32, 8), 1, cnt, 1, make([]uint8, 1), nil); done != 0 {
		t.Errorf("count %d: the kernel did %d neurons, want none", maxVectorCount, done)
	}
}

// The AVX2 kernel of iaf_psc_delta gives exactly the bits of
// IafPscDelta.Step, with and without a Poisson input of either sign,
// ring words near the int32 limits and large counts.
func TestPscDeltaVectorMatchesStep(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	m := NewIafPscDelta(&myelinpb.IafPscDelta{
		CM: proto.Float64(1), TauM: proto.Float64(20), TRef: proto.Float64(2), EL: proto.Float64(0), VReset: proto.Float64(10), VTh: proto.Float64(20), IE: proto.Float64(0.5),
	}, 0.1)
	q := rng.NewStream(10, 0).Seq(0)
	thr := []uint32{1 << 28, 1 << 30, 3 << 30, ^uint32(0)}
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 1e-40, m.VTh}
	weights := []int64{0, 3 << 20, -(5 << 22), 1<<31 - 1}
	for i := 0; i < 20; i++ {
		weights = append(weights, int64(int32(q.Uint32())))
	}
	for _, w := range weights {
		const n = 4000
		v, ref, exR, inR, u := make([]float32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]uint32, n)
		for k := range v {
			v[k] = float32(q.Float64()*25 - 2)
			ref[k] = int32(q.Intn(4)) - 1
			if q.Intn(3) > 0 {
				ref[k] = 0
			}
			exR[k] = int32(q.Uint32() >> (1 + q.Intn(24)))
			inR[k] = -int32(q.Uint32() >> (1 + q.Intn(24)))
			u[k] = q.Uint32()
			if q.Intn(10) == 0 {
				v[k] = special[q.Intn(uint32(len(special)))]
			}
		}
		exR[0], inR[0], exR[1], inR[1] = math.MaxInt32, math.MaxInt32, math.MinInt32, math.MinInt32
		const si = 1.0 / (1 << 20)
		var cnt []uint32
		if w != 0 {
			cnt = make([]uint32, n)
			for k := range cnt {
				cnt[k] = poissonTestCount(u[k], thr)
			}
		}
		wv, wref := append([]float32(nil), v...), append([]int32(nil), ref...)
		var want []uint32
		for k := range wv {
			q := int64(exR[k]) + int64(inR[k])
			if cnt != nil {
				q += int64(cnt[k]) * w
			}
			var f bool
			wv[k], wref[k], f = m.Step(wv[k], wref[k], float32(q)*si, 0)
			if f {
				want = append(want, uint32(k))
			}
		}
		got, done := pscDeltaVector(&m, 0, v, ref, exR, inR, si, cnt, w, make([]int32, n), make([]uint8, n/8), nil)
		if done != n {
			t.Fatalf("w = %d: kernel did %d neurons", w, done)
		}
		for k := range exR {
			if exR[k] != 0 || inR[k] != 0 {
				t.Fatalf("ring words of neuron %d not cleared: %d %d", k, exR[k], inR[k])
			}
		}
		for k := range v {
			if (math.Float32bits(v[k]) != math.Float32bits(wv[k]) && !(v[k] != v[k] && wv[k] != wv[k])) || ref[k] != wref[k] {
				t.Fatalf("w = %d, neuron %d: kernel (%v %d), Step (%v %d)", w, k, v[k], ref[k], wv[k], wref[k])
			}
		}
		if len(got) != len(want) || (w == 0 && len(want) < 100) {
			t.Fatalf("w = %d: %d spikes, Step gives %d (want at least 100)", w, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("w = %d: spike %d is neuron %d, Step gives %d", w, i, got[i], want[i])
			}
		}
	}
}

// appendMask lists the set bits in order, in whole words and in the tail.
func TestAppendMask(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 17, 64} {
		mask := make([]uint8, n)
		var want []uint32
		q := rng.NewStream(11, uint32(n)).Seq(0)
		for i := range mask {
			if q.Intn(3) == 0 {
				continue
			}
			mask[i] = uint8(q.Uint32())
			for j := 0; j < 8; j++ {
				if mask[i]>>j&1 != 0 {
					want = append(want, 5+uint32(8*i+j))
				}
			}
		}
		got := appendMask(nil, 5, mask)
		if len(got) != len(want) {
			t.Fatalf("%d bytes: %d ids, want %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%d bytes: id %d is %d, want %d", n, i, got[i], want[i])
			}
		}
	}
}

// The kernels read their coefficients at fixed byte offsets.
func TestVectorCoefficientLayout(t *testing.T) {
	var p pscExpCoef
	var d pscDeltaCoef
	var pp pscExpPoissonCoef
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"pscExpCoef.refStep", unsafe.Offsetof(p.refStep), 36},
		{"pscDeltaCoef.refStep", unsafe.Offsetof(d.refStep), 16},
		{"pscDeltaCoef.w", unsafe.Offsetof(d.w), 24},
		{"pscExpPoissonCoef.wEx", unsafe.Offsetof(pp.wEx), 40},
		{"pscExpPoissonCoef.wIn", unsafe.Offsetof(pp.wIn), 48},
	} {
		if tc.got != tc.want {
			t.Errorf("%s at byte %d, the kernel reads byte %d", tc.name, tc.got, tc.want)
		}
	}
}
