package spec

import (
	"fmt"
	"math"
	"sort"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Checks of spike-timing-dependent plasticity and of phases.

// stdp checks a projection's STDP parameters, that both ends spike, and
// that its initial weights lie between 0 and w_max.
func (v *validator) stdp(obj string, pr *myelinpb.Projection, pre, post *myelinpb.Population) {
	st := pr.Stdp
	v.positive(obj, "stdp.tau_plus_ms", st.TauPlusMs)
	v.positive(obj, "stdp.tau_minus_ms", st.TauMinusMs)
	v.nonNegative(obj, "stdp.lambda", st.Lambda)
	v.nonNegative(obj, "stdp.alpha", st.Alpha)
	for _, m := range []struct {
		field string
		x     *float64
	}{{"stdp.mu_plus", st.MuPlus}, {"stdp.mu_minus", st.MuMinus}} {
		switch {
		case m.x == nil:
			v.unset(obj, m.field)
		case *m.x != 0 && *m.x != 1:
			v.add(obj, m.field, fnum(*m.x), "must be 0 (additive) or 1 (multiplicative)")
		}
	}
	wmax := math.NaN()
	switch w := st.WMax; {
	case w == nil:
		v.unset(obj, "stdp.w_max")
	case !finite(*w) || *w == 0:
		v.add(obj, "stdp.w_max", fnum(*w), "must be finite and non-zero")
	case math.Abs(*w) > math.MaxFloat32:
		v.add(obj, "stdp.w_max", fnum(*w), msgFloat32)
	default:
		wmax = *w
	}
	if pre != nil && !IsSpiking(pre) {
		v.add(obj, "stdp", "", fmt.Sprintf("pre %q is a rate population: STDP needs spikes", pr.Pre))
	}
	if post != nil && !IsSpiking(post) {
		v.add(obj, "stdp", "", fmt.Sprintf("post %q is a rate population: STDP needs spikes", pr.Post))
	}
	if math.IsNaN(wmax) {
		return
	}
	lo, hi := 0.0, wmax
	if wmax < 0 {
		lo, hi = wmax, 0
	}
	in := func(x float64) bool { return x >= lo && x <= hi }
	rng := fmt.Sprintf("must lie in [%s, %s] (between 0 and stdp.w_max)", fnum(lo), fnum(hi))
	if x := pr.GetExplicit(); x != nil && len(x.WeightValues) > 0 {
		l := &listErrs{v: v, obj: obj, field: "explicit"}
		for k, w := range x.WeightValues {
			if finite(w) && !in(w) {
				l.add(fmt.Sprintf("explicit.weight_values[%d]", k), fnum(w), rng)
			}
		}
		l.flush()
		return
	}
	switch k := pr.GetWeight().GetKind().(type) {
	case *myelinpb.Distribution_Constant:
		if finite(k.Constant) && !in(k.Constant) {
			v.add(obj, "weight.constant", fnum(k.Constant), rng)
		}
	case *myelinpb.Distribution_Uniform:
		if !in(k.Uniform.GetLow()) || !in(k.Uniform.GetHigh()) {
			v.add(obj, "weight.uniform", fmt.Sprintf("[%s, %s]", fnum(k.Uniform.GetLow()), fnum(k.Uniform.GetHigh())), rng)
		}
	case *myelinpb.Distribution_Normal:
		x := k.Normal
		if x.Min == nil || x.Max == nil || !in(*x.Min) || !in(*x.Max) {
			v.add(obj, "weight.normal", "", "min and max must be set and "+rng[len("must "):])
		}
	case *myelinpb.Distribution_Lognormal:
		v.add(obj, "weight.lognormal", "", "has no upper bound: an STDP projection's weights must lie between 0 and stdp.w_max (use normal with min and max, or uniform)")
	}
}

// phases checks the run's phases: names, windows within the run, learning
// rates, and no overlap.
func (v *validator) phases() {
	type win struct {
		a, b float64
		i    int
	}
	var wins []win
	names := map[string]int{}
	dur := v.n.GetDurationMs()
	for i, ph := range v.n.Phases {
		obj := fmt.Sprintf("phases[%d]", i)
		if ph == nil {
			v.add(obj, "", "", "is nil")
			continue
		}
		obj = fmt.Sprintf("phase %q (phases[%d])", ph.Name, i)
		if ph.Name == "" {
			v.add(obj, "name", "", "must not be empty")
		} else if msg := nameProblem(ph.Name, phaseSeparators); msg != "" {
			v.add(obj, "name", fmt.Sprintf("%q", ph.Name), msg)
		} else if j, dup := names[ph.Name]; dup {
			v.add(obj, "name", fmt.Sprintf("%q", ph.Name), fmt.Sprintf("is also the name of phases[%d]", j))
		} else {
			names[ph.Name] = i
		}
		ok := true
		if !finite(ph.StartMs) || ph.StartMs < 0 {
			v.add(obj, "start_ms", fnum(ph.StartMs), "must be finite and >= 0")
			ok = false
		}
		switch {
		case !finite(ph.StopMs):
			v.add(obj, "stop_ms", fnum(ph.StopMs), "must be finite")
			ok = false
		case ok && ph.StopMs <= ph.StartMs:
			v.add(obj, "stop_ms", fnum(ph.StopMs), fmt.Sprintf("must be > start_ms (%s)", fnum(ph.StartMs)))
			ok = false
		case ph.StopMs > dur:
			v.add(obj, "stop_ms", fnum(ph.StopMs), fmt.Sprintf("must be <= duration_ms (%s)", fnum(dur)))
			ok = false
		}
		v.nonNegative(obj, "learning_rate", ph.LearningRate)
		if r := ph.LearningRate; r != nil && finite(*r) && *r > math.MaxFloat32 {
			v.add(obj, "learning_rate", fnum(*r), msgFloat32)
		}
		if ok {
			wins = append(wins, win{ph.StartMs, ph.StopMs, i})
		}
	}
	sort.Slice(wins, func(x, y int) bool { return wins[x].a < wins[y].a })
	for k := 1; k < len(wins); k++ {
		if wins[k].a < wins[k-1].b {
			ph := v.n.Phases[wins[k].i]
			v.add(fmt.Sprintf("phase %q (phases[%d])", ph.Name, wins[k].i), "start_ms", fnum(ph.StartMs),
				fmt.Sprintf("overlaps phase %q (phases[%d]), which ends at %s ms", v.n.Phases[wins[k-1].i].Name, wins[k-1].i, fnum(wins[k-1].b)))
		}
	}
}
