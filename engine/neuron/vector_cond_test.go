package neuron

import (
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/rng"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// condCase is one parameter set of the iaf_cond_exp kernel tests.
type condCase struct {
	name      string
	p         *myelinpb.IafCondExp
	dt        float64
	minSpikes int // of 4,000 neurons in TestCondExpVectorMatchesStep
}

// condCases covers one substep (NEST's defaults), two (synapses as fast as
// the step), ten (a 1 ms step), a current I_e and a V_reset above V_th
// (refractory lanes must not fire) and a V_th of 50 mV, where stiff
// substeps towards E_ex = 0 leave V = V_inf + (V - V_inf) Expf(…) near 0
// instead of firing, so that every bit of Expf shows in V.
func condCases() []condCase {
	def := func() *myelinpb.IafCondExp { return IafCondExpModel.Defaults().(*myelinpb.IafCondExp) }
	fast := def()
	fast.TauSynEx, fast.TauSynIn = proto.Float64(0.1), proto.Float64(0.5)
	ie := def()
	ie.IE, ie.CM, ie.GL = proto.Float64(376), proto.Float64(200), proto.Float64(10)
	odd := def()
	odd.VReset, odd.VTh, odd.EL = proto.Float64(-50), proto.Float64(-52), proto.Float64(-65)
	high := def()
	high.VTh = proto.Float64(50)
	return []condCase{
		{"defaults", def(), 0.1, 50},
		{"fast synapses", fast, 0.1, 50},
		{"dt 1 ms", def(), 1, 50},
		{"I_e 376 pA", ie, 0.1, 50},
		{"V_reset above V_th", odd, 0.1, 50},
		{"V_th 50 mV", high, 0.1, 0},
	}
}

// condState draws n neurons' state and one step's ring words: potentials
// around threshold, conductances from small to stiff (up to 10^7 nS, where
// Expf's argument passes both its limits), negative conductances, refractory
// and free neurons (negative counts too) and, with specials, NaN, infinities,
// signed zeros and subnormals.
func condState(q *rng.Seq, m *IafCondExp, n int, specials bool) (s *State, exR, inR []int32) {
	s = &State{V: make([]float32, n), A: make([]float32, n), B: make([]float32, n), Ref: make([]int32, n)}
	exR, inR = make([]int32, n), make([]int32, n)
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e-40, m.VTh, math.Nextafter32(m.VTh, -1)}
	for k := range n {
		s.V[k] = float32(q.Float64()*35 - 80)
		s.A[k] = float32(q.Float64() * 40)
		s.B[k] = float32(q.Float64() * 80)
		switch q.Intn(10) {
		case 0: // stiff
			s.A[k] = float32(q.Float64() * 2e4)
			s.B[k] = float32(q.Float64() * 2e4)
		case 1: // far past stiff, of either sign
			s.A[k] = float32((q.Float64()*2 - 1) * 1e6)
			s.B[k] = float32((q.Float64()*2 - 1) * 1e6)
		case 2:
			s.A[k] = -s.A[k]
		case 3: // g0 stiff, the substep's mean total conductance far below 0
			big, d := float32(1e5+q.Float64()*1e7), float32(6000+q.Float64()*2e4)
			s.A[k], s.B[k] = big, d-big
			if q.Intn(2) == 0 {
				s.A[k], s.B[k] = s.B[k], s.A[k]
			}
		case 4: // stiff, V_inf near E_ex = 0: V is (V - V_inf) Expf(…), every bit of Expf counts
			s.A[k], s.B[k] = float32(5e3+q.Float64()*2e5), 0
		}
		s.Ref[k] = int32(q.Intn(5)) - 1 // -1 .. 3
		if q.Intn(2) == 0 {
			s.Ref[k] = 0
		}
		exR[k] = int32(q.Uint32() >> (1 + q.Intn(31)))
		inR[k] = -int32(q.Uint32() >> (1 + q.Intn(31)))
		if specials {
			if q.Intn(10) == 0 {
				s.V[k] = special[q.Intn(uint32(len(special)))]
			}
			if q.Intn(20) == 0 {
				s.A[k] = special[q.Intn(uint32(len(special)))]
			}
			if q.Intn(20) == 0 {
				s.B[k] = special[q.Intn(uint32(len(special)))]
			}
		}
	}
	if n >= 2 {
		exR[0], inR[0], exR[1], inR[1] = math.MaxInt32, math.MinInt32, math.MinInt32, math.MaxInt32
	}
	return s, exR, inR
}

// condCoverage counts, over the free neurons of s, the branches of Step's
// first substep: stiff substeps, Expf arguments above 88.72 and below
// -87.33.
func condCoverage(m *IafCondExp, s *State) (stiff, hi, lo int) {
	for k := range s.V {
		if s.Ref[k] > 0 {
			continue
		}
		g0 := m.GL + s.A[k] + s.B[k]
		if float32(g0*m.NegHSC) >= -IafCondStiff {
			continue
		}
		stiff++
		x := float32(m.NegHSC * (m.GL + float32(m.AEx*s.A[k]) + float32(m.AIn*s.B[k])))
		switch {
		case x > 88.72:
			hi++
		case x < -87.33:
			lo++
		}
	}
	return stiff, hi, lo
}

// sameBits reports whether a and b are the same float32, any NaN matching
// any NaN (the kernel's NaN payloads may differ from Step's).
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// cloneState copies s.
func cloneState(s *State) *State {
	return &State{V: append([]float32(nil), s.V...), A: append([]float32(nil), s.A...), B: append([]float32(nil), s.B...), Ref: append([]int32(nil), s.Ref...)}
}

// The AVX2 kernel of iaf_cond_exp gives exactly the bits of
// IafCondExp.Step, and the same spikes, on states drawn to cross every
// branch: refractory and free neurons, potentials at, above and below
// threshold, stiff substeps with Expf inside and past both its limits,
// ring words at the int32 limits, with and without NaN and infinities;
// and it clears the ring words it reads.
func TestCondExpVectorMatchesStep(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	for ci, tc := range condCases() {
		m := NewIafCondExp(tc.p, tc.dt)
		for _, specials := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, specials %v", tc.name, specials), func(t *testing.T) {
				q := rng.NewStream(20, uint32(ci)).Seq(0)
				const n = 4000
				s, exR, inR := condState(q, &m, n, specials)
				stiff, hi, lo := condCoverage(&m, s)
				if stiff < n/10 || hi == 0 || lo == 0 {
					t.Fatalf("branches barely exercised: %d stiff substeps, %d Expf arguments above its range, %d below", stiff, hi, lo)
				}
				const si = 1.0 / (1 << 20)
				w := cloneState(s)
				var want []uint32
				for k := range w.V {
					var f bool
					w.V[k], w.A[k], w.B[k], w.Ref[k], f = m.Step(w.V[k], w.A[k], w.B[k], w.Ref[k], float32(exR[k])*si, float32(inR[k])*si, 0)
					if f {
						want = append(want, 100+uint32(k))
					}
				}
				got, done := condExpVector(&m, 100, s.V, s.A, s.B, s.Ref, exR, inR, si, make([]uint8, n/8), nil)
				if done != n {
					t.Fatalf("kernel did %d neurons of %d", done, n)
				}
				for k := range exR {
					if exR[k] != 0 || inR[k] != 0 {
						t.Fatalf("ring words of neuron %d not cleared: %d %d", k, exR[k], inR[k])
					}
				}
				nan := 0
				for k := range s.V {
					if !sameBits(s.V[k], w.V[k]) || !sameBits(s.A[k], w.A[k]) || !sameBits(s.B[k], w.B[k]) || s.Ref[k] != w.Ref[k] {
						t.Fatalf("neuron %d: kernel (%v %v %v %d), Step (%v %v %v %d)", k, s.V[k], s.A[k], s.B[k], s.Ref[k], w.V[k], w.A[k], w.B[k], w.Ref[k])
					}
					if w.V[k] != w.V[k] {
						nan++
					}
				}
				if !specials && nan > n/100 {
					// (A few come from conductances of 10^7 nS of both signs.)
					t.Fatalf("%d NaN potentials without NaN inputs: the comparison is not bit for bit", nan)
				}
				if len(got) != len(want) || len(want) < tc.minSpikes {
					t.Fatalf("%d spikes, Step gives %d (want at least %d)", len(got), len(want), tc.minSpikes)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("spike %d is neuron %d, Step gives %d", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// UpdateRing with the kernel gives the same states and spikes as without it
// over many steps, on lengths that are not multiples of eight (the tail
// runs Step) and on ranges that do not start at 0.
func TestCondExpUpdateRingVector(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	m := NewIafCondExp(IafCondExpModel.Defaults().(*myelinpb.IafCondExp), 0.1)
	for _, n := range []int{1, 7, 8, 13, 64, 1003} {
		q := rng.NewStream(21, uint32(n)).Seq(0)
		const lo = 3
		s, _, _ := condState(q, &m, n+lo, false)
		w := cloneState(s)
		spikes := 0
		for step := range 40 {
			_, exR, inR := condState(q, &m, n+lo, false)
			for k := range exR { // ordinary input: a few nS
				exR[k] >>= 12
				inR[k] >>= 12
			}
			wex, win := append([]int32(nil), exR...), append([]int32(nil), inR...)
			const si = 1.0 / (1 << 20)
			r := &RingInput{Ex: exR[lo:], In: inR[lo:], Scale: si, Vector: true, Mask: make([]uint8, n/8+1)}
			got := m.UpdateRing(s, lo, uint32(lo+n), r, nil)
			wr := &RingInput{Ex: wex[lo:], In: win[lo:], Scale: si}
			want := m.UpdateRing(w, lo, uint32(lo+n), wr, nil)
			for k := range s.V {
				if !sameBits(s.V[k], w.V[k]) || !sameBits(s.A[k], w.A[k]) || !sameBits(s.B[k], w.B[k]) || s.Ref[k] != w.Ref[k] {
					t.Fatalf("n = %d, step %d, neuron %d: kernel (%v %v %v %d), Step (%v %v %v %d)", n, step, k, s.V[k], s.A[k], s.B[k], s.Ref[k], w.V[k], w.A[k], w.B[k], w.Ref[k])
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("n = %d, step %d: spikes %v, Step gives %v", n, step, got, want)
			}
			spikes += len(want)
		}
		if n >= 64 && spikes < n/4 {
			t.Fatalf("n = %d: %d spikes in 40 steps, too few to exercise the threshold", n, spikes)
		}
	}
}

// The kernel reads condExpCoef at fixed byte offsets.
func TestCondExpCoefLayout(t *testing.T) {
	var c condExpCoef
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"pEx", unsafe.Offsetof(c.pEx), 0},
		{"il", unsafe.Offsetof(c.il), 288},
		{"vReset", unsafe.Offsetof(c.vReset), 544},
		{"refStep", unsafe.Offsetof(c.refStep), 576},
		{"scale", unsafe.Offsetof(c.scale), 608},
		{"inf", unsafe.Offsetof(c.inf), 800},
		{"poly", unsafe.Offsetof(c.poly), 832},
		{"bias", unsafe.Offsetof(c.bias), 1056},
		{"half", unsafe.Offsetof(c.half), 1088},
		{"nsub", unsafe.Offsetof(c.nsub), 1120},
	} {
		if tc.got != tc.want {
			t.Errorf("condExpCoef.%s at byte %d, the kernel reads byte %d", tc.name, tc.got, tc.want)
		}
	}
}
