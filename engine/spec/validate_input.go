package spec

import (
	"fmt"
	"math"
	"strconv"

	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Checks of inputs (Poisson, DC, spike arrays) and of the recording; rate
// schedules are checked in schedule.go.

// listErrs reports at most maxListErrors problems of one list and then a
// count of the rest.
type listErrs struct {
	v          *validator
	obj, field string
	n          int
}

func (l *listErrs) add(field, value, msg string) {
	l.n++
	if l.n <= maxListErrors {
		l.v.add(l.obj, field, value, msg)
	}
}

func (l *listErrs) flush() {
	if l.n > maxListErrors {
		l.v.add(l.obj, l.field, "", fmt.Sprintf("%d more problems like the above", l.n-maxListErrors))
	}
}

// window checks optional start/stop times.
func (v *validator) window(obj, prefix string, start, stop *float64) {
	for _, t := range []struct {
		name string
		x    *float64
	}{{"start_ms", start}, {"stop_ms", stop}} {
		if t.x != nil && (!finite(*t.x) || *t.x < 0) {
			v.add(obj, prefix+t.name, fnum(*t.x), "must be finite and >= 0")
		}
	}
	if start != nil && stop != nil && finite(*start) && finite(*stop) && *start >= *stop {
		v.add(obj, prefix+"start_ms", fnum(*start), "must be < stop_ms ("+fnum(*stop)+")")
	}
}

// neuronRange checks [first, first+count) within a population of size
// (count 0 meaning to the end when zeroMeansAll, an error otherwise).
func (v *validator) neuronRange(obj, prefix string, first, count uint32, target *myelinpb.Population, zeroMeansAll bool) {
	if count == 0 && !zeroMeansAll {
		v.add(obj, prefix+"count", "0", "must be >= 1")
		return
	}
	if target == nil || target.Size == 0 {
		return
	}
	if count == 0 {
		if first >= target.Size {
			v.add(obj, prefix+"first", strconv.FormatUint(uint64(first), 10), fmt.Sprintf("must be < %d (size of %q)", target.Size, target.Name))
		}
		return
	}
	// The field to blame: first where it is past the population already,
	// else count.
	switch {
	case first >= target.Size:
		v.add(obj, prefix+"first", strconv.FormatUint(uint64(first), 10), fmt.Sprintf("must be < %d (size of %q)", target.Size, target.Name))
	case uint64(first)+uint64(count) > uint64(target.Size):
		v.add(obj, prefix+"count", strconv.FormatUint(uint64(count), 10), fmt.Sprintf("first + count (%d) must be <= %d (size of %q): at most %d from first = %d", uint64(first)+uint64(count), target.Size, target.Name, target.Size-first, first))
	}
}

func (v *validator) input(i int, in *myelinpb.Input) {
	obj := fmt.Sprintf("input %q (inputs[%d])", in.Name, i)
	if in.Name == "" {
		v.unset(obj, "name")
	} else {
		v.name(obj, "name", in.Name, nil)
	}
	target := v.popRef(obj, "target", in.Target)
	needSpiking := func(kind string) {
		if target != nil && IsRate(target) {
			v.add(obj, "target", fmt.Sprintf("%q", in.Target), fmt.Sprintf("is a rate population: %s inputs need a spiking population (use dc for rate populations)", kind))
		}
	}
	switch k := in.Kind.(type) {
	case nil:
		v.add(obj, "kind", "", "not set: one of poisson, dc, spike_times is required")
	case *myelinpb.Input_Poisson:
		x := k.Poisson
		if x == nil {
			x = &myelinpb.PoissonInput{}
		}
		needSpiking("poisson")
		if x.Schedule != nil {
			v.schedule(obj, x)
		} else if !finite(x.RateHz) || x.RateHz < 0 {
			v.add(obj, "poisson.rate_hz", fnum(x.RateHz), "must be finite and >= 0")
		} else if mean := x.RateHz * v.dt / 1000; mean > MaxPoissonMean {
			v.add(obj, "poisson.rate_hz", fnum(x.RateHz), fmt.Sprintf("is %.4g spikes per neuron and step of dt_ms = %s: must be at most %s (rate_hz <= %s)", mean, fnum(v.dt), fnum(MaxPoissonMean), fnum(MaxPoissonMean*1000/v.dt)))
		}
		if !finite(x.Weight) {
			v.add(obj, "poisson.weight", fnum(x.Weight), "must be finite")
		}
		v.receptor(obj, "poisson.receptor", x.Receptor)
		v.slowPort(obj, "poisson.receptor", x.Receptor, target)
		v.window(obj, "poisson.", x.StartMs, x.StopMs)
		v.neuronRange(obj, "poisson.", x.First, x.Count, target, true)
	case *myelinpb.Input_Dc:
		x := k.Dc
		if x == nil {
			x = &myelinpb.DCInput{}
		}
		if !finite(x.Amplitude) {
			v.add(obj, "dc.amplitude", fnum(x.Amplitude), "must be finite")
		} else if math.Abs(x.Amplitude) > math.MaxFloat32 {
			v.add(obj, "dc.amplitude", fnum(x.Amplitude), msgFloat32)
		}
		v.window(obj, "dc.", x.StartMs, x.StopMs)
		v.neuronRange(obj, "dc.", x.First, x.Count, target, true)
	case *myelinpb.Input_SpikeTimes:
		x := k.SpikeTimes
		if x == nil {
			x = &myelinpb.SpikeSourceArray{}
		}
		needSpiking("spike_times")
		if len(x.Neuron) != len(x.TimeMs) {
			v.add(obj, "spike_times.time_ms", "", fmt.Sprintf("has %d entries: must have as many as neuron (%d)", len(x.TimeMs), len(x.Neuron)))
		}
		if !finite(x.Weight) {
			v.add(obj, "spike_times.weight", fnum(x.Weight), "must be finite")
		}
		v.receptor(obj, "spike_times.receptor", x.Receptor)
		if x.Receptor == myelinpb.Receptor_SLOW_EXCITATORY {
			v.add(obj, "spike_times.receptor", "SLOW_EXCITATORY", "spike-source arrays reach the fast channels only (RECEPTOR_AUTO, EXCITATORY, INHIBITORY)")
		}
		l := &listErrs{v: v, obj: obj, field: "spike_times"}
		if target != nil && target.Size > 0 {
			for j, nrn := range x.Neuron {
				if nrn >= target.Size {
					l.add(fmt.Sprintf("spike_times.neuron[%d]", j), strconv.FormatUint(uint64(nrn), 10), fmt.Sprintf("must be < %d (size of %q)", target.Size, target.Name))
				}
			}
		}
		for j, t := range x.TimeMs {
			if !finite(t) || t < 0 {
				l.add(fmt.Sprintf("spike_times.time_ms[%d]", j), fnum(t), "must be finite and >= 0")
			}
		}
		l.flush()
	}
}

func (v *validator) recording(r *myelinpb.Recording) {
	const obj = "recording"
	if r == nil {
		v.add(obj, "", "", "not set (ApplyDefaults sets it)")
		return
	}
	for i, name := range r.Spikes {
		f := fmt.Sprintf("spikes[%d]", i)
		p := v.lookup(name)
		switch {
		case p == nil:
			v.add(obj, f, fmt.Sprintf("%q", name), "no population has this name")
		case IsRate(p):
			v.add(obj, f, fmt.Sprintf("%q", name), "is a rate population, which has no spikes (use a state probe)")
		}
	}
	if r.BlockSteps == 0 {
		v.add(obj, "block_steps", "0", "must be >= 1")
	}
	for i, sp := range r.State {
		pobj := fmt.Sprintf("state probe (recording.state[%d])", i)
		if sp == nil {
			v.add(pobj, "", "", "is nil")
			continue
		}
		p := v.popRef(pobj, "population", sp.Population)
		v.neuronRange(pobj, "", sp.First, sp.Count, p, false)
		if sp.Every == 0 {
			v.add(pobj, "every", "0", "must be >= 1")
		}
	}
}
