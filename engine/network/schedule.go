package network

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// segment is a piece of constant rate of a Poisson input: steps
// [start, stop) at rateHz.
type segment struct {
	start, stop uint64
	rateHz      float64
}

// segments resolves a Poisson input active over steps [start, stop) into
// pieces of constant rate. Without a schedule it is one piece at rate_hz.
// A schedule drops pieces of rate 0 and merges neighbours of equal rate;
// a piecewise entry runs from its time until the next one (the last until
// stop), and a sinusoid is cut every spec.SinusoidStepSteps steps from
// start, each piece at the sinusoid's exact mean over its time span.
func (n *Network) segments(p *myelinpb.PoissonInput, start, stop uint64) ([]segment, error) {
	sc := p.GetSchedule()
	if sc == nil {
		return []segment{{start, stop, p.GetRateHz()}}, nil
	}
	var out []segment
	add := func(a, b uint64, r float64) {
		a, b = max(a, start), min(b, stop)
		if a >= b || r == 0 {
			return
		}
		if last := len(out) - 1; last >= 0 && out[last].stop == a && out[last].rateHz == r {
			out[last].stop = b
			return
		}
		out = append(out, segment{a, b, r})
	}
	switch k := sc.GetKind().(type) {
	case *myelinpb.RateSchedule_Piecewise:
		t, r := k.Piecewise.GetTimeMs(), k.Piecewise.GetRateHz()
		if len(t) != len(r) || len(t) > spec.MaxScheduleSegments {
			return nil, fmt.Errorf("poisson.schedule.piecewise: %d times and %d rates: need as many of each, at most %d", len(t), len(r), spec.MaxScheduleSegments)
		}
		for j := range t {
			b := stop
			if j+1 < len(t) {
				b = n.toStep(t[j+1])
			}
			add(n.toStep(t[j]), b, r[j])
		}
	case *myelinpb.RateSchedule_Sinusoidal:
		s := k.Sinusoidal
		if !(s.GetFrequencyHz() > 0) || !(s.GetDepth() >= 0 && s.GetDepth() <= 1) || !(s.GetMeanHz() >= 0) {
			return nil, fmt.Errorf("poisson.schedule.sinusoidal: needs frequency_hz > 0, depth in [0, 1] and mean_hz >= 0")
		}
		l := spec.SinusoidStepSteps(s.GetStepMs(), n.Dt)
		if stop > start && (stop-start-1)/l+1 > spec.MaxScheduleSegments {
			return nil, fmt.Errorf("poisson.schedule.sinusoidal.step_ms = %g: gives %d segments: at most %d", s.GetStepMs(), (stop-start-1)/l+1, spec.MaxScheduleSegments)
		}
		for a := start; a < stop; a += l {
			b := min(a+l, stop)
			r := spec.SinusoidMean(s, float64(a)*n.Dt, float64(b)*n.Dt)
			add(a, b, math.Max(r, 0))
		}
	default:
		return nil, fmt.Errorf("poisson.schedule: no kind (piecewise or sinusoidal)")
	}
	return out, nil
}
