package spec

import (
	"fmt"
	"math"
	"strconv"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Rate schedules of Poisson inputs (PoissonInput.schedule).

const (
	// MaxScheduleSegments bounds the segments of constant rate one rate
	// schedule resolves to (piecewise entries, or sinusoid steps over the
	// input's window). Each segment becomes one Poisson input of the built
	// network, and a GPU thread visits every Poisson input each step.
	MaxScheduleSegments = 10000
	// DefaultSinusoidStepMs is the quantisation step of a sinusoidal rate
	// when step_ms is 0.
	DefaultSinusoidStepMs = 1.0
)

// SinusoidStepSteps is the quantisation step of a sinusoidal rate in
// steps of dt: step_ms (DefaultSinusoidStepMs when 0) rounded to whole
// steps, at least one.
func SinusoidStepSteps(stepMs, dt float64) uint64 {
	if stepMs == 0 {
		stepMs = DefaultSinusoidStepMs
	}
	s := math.Round(stepMs / dt)
	if !(s >= 1) {
		return 1
	}
	if s > MaxSteps {
		return MaxSteps
	}
	return uint64(s)
}

// SinusoidMean is the exact mean of mean·(1 + depth·sin(2π f t + φ)) over
// t in [a, b) ms (a < b), f in Hz and φ in degrees.
func SinusoidMean(s *myelinpb.SinusoidalRate, a, b float64) float64 {
	w := 2 * math.Pi * s.GetFrequencyHz() / 1000 // rad per ms
	phi := s.GetPhaseDeg() * math.Pi / 180
	avg := (math.Cos(w*a+phi) - math.Cos(w*b+phi)) / (w * (b - a))
	return s.GetMeanHz() * (1 + s.GetDepth()*avg)
}

// schedule checks the rate schedule of a Poisson input whose window is
// [start, stop) ms (nil: from 0, to the end).
func (v *validator) schedule(obj string, x *myelinpb.PoissonInput) {
	sc := x.Schedule
	const f = "poisson.schedule."
	if x.RateHz != 0 {
		v.add(obj, "poisson.rate_hz", fnum(x.RateHz), "must be 0 when poisson.schedule is set (the schedule gives the rate)")
	}
	maxRate := math.Inf(1)
	if v.dt > 0 {
		maxRate = MaxPoissonMean * 1000 / v.dt
	}
	rate := func(field string, r float64) {
		switch {
		case !finite(r) || r < 0:
			v.add(obj, field, fnum(r), "must be finite and >= 0")
		case r > maxRate:
			v.add(obj, field, fnum(r), fmt.Sprintf("must be at most %s Hz (%s spikes per neuron and step of dt_ms = %s)", fnum(maxRate), fnum(MaxPoissonMean), fnum(v.dt)))
		}
	}
	switch k := sc.Kind.(type) {
	case nil:
		v.add(obj, f+"kind", "", "not set: one of piecewise, sinusoidal is required")
	case *myelinpb.RateSchedule_Piecewise:
		p := k.Piecewise
		if p == nil {
			p = &myelinpb.PiecewiseRate{}
		}
		switch {
		case len(p.TimeMs) == 0:
			v.add(obj, f+"piecewise.time_ms", "", "is empty: at least one segment is required")
		case len(p.TimeMs) != len(p.RateHz):
			v.add(obj, f+"piecewise.rate_hz", "", fmt.Sprintf("has %d entries: must have as many as time_ms (%d)", len(p.RateHz), len(p.TimeMs)))
		case len(p.TimeMs) > MaxScheduleSegments:
			v.add(obj, f+"piecewise.time_ms", "", fmt.Sprintf("has %d segments: at most %d", len(p.TimeMs), MaxScheduleSegments))
		}
		l := &listErrs{v: v, obj: obj, field: f + "piecewise"}
		for j, t := range p.TimeMs {
			switch {
			case !finite(t) || t < 0:
				l.add(f+"piecewise.time_ms["+strconv.Itoa(j)+"]", fnum(t), "must be finite and >= 0")
			case j > 0 && !(t > p.TimeMs[j-1]):
				l.add(f+"piecewise.time_ms["+strconv.Itoa(j)+"]", fnum(t), "must be > time_ms["+strconv.Itoa(j-1)+"] ("+fnum(p.TimeMs[j-1])+")")
			}
		}
		l.flush()
		for j, r := range p.RateHz {
			if j == maxListErrors {
				break
			}
			rate(f+"piecewise.rate_hz["+strconv.Itoa(j)+"]", r)
		}
	case *myelinpb.RateSchedule_Sinusoidal:
		s := k.Sinusoidal
		if s == nil {
			s = &myelinpb.SinusoidalRate{}
		}
		rate(f+"sinusoidal.mean_hz", s.MeanHz)
		if !(s.Depth >= 0 && s.Depth <= 1) {
			v.add(obj, f+"sinusoidal.depth", fnum(s.Depth), "must be in [0, 1]")
		} else if finite(s.MeanHz) && s.MeanHz >= 0 && s.MeanHz*(1+s.Depth) > maxRate {
			v.add(obj, f+"sinusoidal.mean_hz", fnum(s.MeanHz), fmt.Sprintf("peak mean_hz·(1+depth) = %s must be at most %s Hz", fnum(s.MeanHz*(1+s.Depth)), fnum(maxRate)))
		}
		if !finite(s.FrequencyHz) || s.FrequencyHz <= 0 || s.FrequencyHz > 1e6 {
			v.add(obj, f+"sinusoidal.frequency_hz", fnum(s.FrequencyHz), "must be in (0, 1e6]")
		}
		if !finite(s.PhaseDeg) || math.Abs(s.PhaseDeg) > 1e6 {
			v.add(obj, f+"sinusoidal.phase_deg", fnum(s.PhaseDeg), "must be finite, |phase_deg| <= 1e6")
		}
		if !finite(s.StepMs) || s.StepMs < 0 {
			v.add(obj, f+"sinusoidal.step_ms", fnum(s.StepMs), "must be finite and >= 0 (0 = "+fnum(DefaultSinusoidStepMs)+" ms)")
			return
		}
		if v.dt <= 0 || v.n.DurationMs == nil || !finite(*v.n.DurationMs) {
			return
		}
		a, b := 0.0, *v.n.DurationMs
		if x.StartMs != nil && finite(*x.StartMs) {
			a = *x.StartMs
		}
		if x.StopMs != nil && finite(*x.StopMs) {
			b = math.Min(b, *x.StopMs)
		}
		if b > a {
			seg := float64(SinusoidStepSteps(s.StepMs, v.dt))
			if n := math.Ceil(math.Round((b-a)/v.dt) / seg); n > MaxScheduleSegments {
				v.add(obj, f+"sinusoidal.step_ms", fnum(s.StepMs), fmt.Sprintf("gives %.0f segments over [%s, %s) ms: at most %d (raise step_ms or shorten the window)", n, fnum(a), fnum(b), MaxScheduleSegments))
			}
		}
	}
}
