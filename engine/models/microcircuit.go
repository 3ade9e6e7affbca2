package models

import (
	"fmt"
	"math"
	"strings"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/proto"
)

// The cortical microcircuit of Potjans & Diesmann (2014), Cereb. Cortex
// 24:785, with the parameters of the reference NEST implementation
// (INM-6/microcircuit-PD14-model, network_params.py): 8 populations of
// iaf_psc_exp in layers 2/3, 4, 5 and 6 under 1 mm² of cortex, 77,169
// neurons and about 0.3 × 10⁹ synapses at full scale.
//
// Differences from the NEST model, each deliberate:
//   - NEST connects with fixed_total_number (pre and post drawn with
//     replacement, so in-degrees vary); here every target gets the same
//     in-degree, K_tot / N_post rounded, drawn with replacement (multapses
//     and autapses allowed). The mean in-degree and the total agree to
//     rounding; the in-degree spread is narrower.
//   - The Poisson background has no 1.5 ms delay (a stationary process:
//     only the first 1.5 ms differ).
//   - The thalamic population and the transient stimuli (off by default in
//     the reference) are not included.

// microPops are the population names, in the order of every table below
// (rows: target, columns: source).
var microPops = [8]string{"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}

// microN is the full-scale number of neurons per population.
var microN = [8]float64{20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948}

// microKExt is the number of external (background) inputs per neuron.
var microKExt = [8]float64{1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100}

// microConn holds the connection probabilities C[target][source].
var microConn = [8][8]float64{
	{0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0},
	{0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0},
	{0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0},
	{0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0},
	{0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0},
	{0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0},
	{0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
	{0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443},
}

// microV0 holds the "optimized" initial membrane potentials, mean and SD
// (mV), per population.
var microV0 = [8][2]float64{
	{-68.28, 5.36}, {-63.16, 4.57}, {-63.33, 4.74}, {-63.45, 4.94},
	{-63.11, 4.94}, {-61.66, 4.55}, {-66.72, 5.46}, {-61.43, 4.48},
}

// microRates are the full-scale mean rates (Hz) the reference uses to
// compensate the input lost by scaling the in-degrees (full_mean_rates).
var microRates = [8]float64{0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829}

// Neuron and synapse constants of the reference.
const (
	microCm      = 250.0 // pF
	microTauM    = 10.0  // ms
	microEL      = -65.0 // mV
	microVTh     = -50.0 // mV
	microVReset  = -65.0 // mV
	microTRef    = 2.0   // ms
	microTauSyn  = 0.5   // ms
	microPSP     = 0.15  // mV, mean excitatory PSP amplitude
	microG       = -4.0  // relative inhibitory strength
	microWRelStd = 0.1   // relative SD of the weights
	microDelayE  = 1.5   // ms, excitatory mean delay (SD half of it)
	microDelayI  = 0.75  // ms, inhibitory mean delay (SD half of it)
	microDelayLo = 0.05  // ms: delays below are redrawn (dt − dt/2)
	microBgRate  = 8.0   // Hz per external input
	microV0Mean  = -58.0 // mV, "original" initial potential
	microV0SD    = 10.0  // mV
	microDt      = 0.1   // ms
	microL4EL23E = 2.0   // factor on the L4E → L23E weight
)

// PSCPerPSP is the current amplitude (pA) of an exponential PSC that
// gives a PSP peak of 1 mV in an iaf_psc_exp neuron with membrane time
// constant tauM, synaptic time constant tauS (ms) and capacitance cm (pF):
// the reference's postsynaptic_potential_to_current.
func PSCPerPSP(tauM, tauS, cm float64) float64 {
	a := tauM * tauS / cm / (tauS - tauM)
	b := math.Pow(tauM/tauS, tauM/(tauS-tauM)) - math.Pow(tauM/tauS, tauS/(tauS-tauM))
	return 1 / (a * b)
}

// MicrocircuitPops are the population names of the microcircuit model.
func MicrocircuitPops() []string { return microPops[:] }

// MicrocircuitSynapses returns the full-scale total number of synapses of
// projection source → target (indices into MicrocircuitPops): the number
// of pair draws with replacement that connect a pair with probability
// C[target][source] (Potjans & Diesmann 2014, eq. 1).
func MicrocircuitSynapses(target, source int) float64 {
	c := microConn[target][source]
	if c == 0 {
		return 0
	}
	return math.Log1p(-c) / math.Log1p(-1/(microN[source]*microN[target]))
}

func microcircuit() *Model {
	return &Model{
		Name:  "microcircuit",
		Short: "Potjans & Diesmann (2014) cortical microcircuit: 8 iaf_psc_exp populations, 77,169 neurons, ~0.3e9 synapses at scale 1",
		Params: []Param{
			{"scale", "1", "fraction of the neurons of every population (N_scaling)"},
			{"k_scale", "1", "fraction of the in-degrees (K_scaling); weights grow by 1/sqrt(k_scale) and a DC keeps the mean input"},
			{"background", "poisson", "poisson | dc: 8 Hz Poisson trains per external input, or the DC of their mean"},
			{"v0", "optimized", "optimized | original: population-specific initial V, or N(-58, 10²) mV for all"},
			durationParam, seedParam,
		},
		build: buildMicrocircuit,
	}
}

func buildMicrocircuit(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	scale := r.float("scale", 1)
	kScale := r.float("k_scale", 1)
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	if !(scale > 0 && scale <= 1) {
		return nil, fmt.Errorf("parameter scale = %g: must be in (0, 1]", scale)
	}
	if !(kScale > 0 && kScale <= 1) {
		return nil, fmt.Errorf("parameter k_scale = %g: must be in (0, 1]", kScale)
	}
	bg := strings.ToLower(v["background"])
	if bg != "poisson" && bg != "dc" {
		return nil, fmt.Errorf("parameter background = %q: want poisson or dc", v["background"])
	}
	v0 := strings.ToLower(v["v0"])
	if v0 != "optimized" && v0 != "original" {
		return nil, fmt.Errorf("parameter v0 = %q: want optimized or original", v0)
	}

	pscPerPSP := PSCPerPSP(microTauM, microTauSyn, microCm)
	wE := microPSP * pscPerPSP // 87.81 pA
	sq := math.Sqrt(kScale)
	// Mean weight of source → target at full scale (pA).
	meanW := func(target, source int) float64 {
		w := wE
		if source%2 == 1 {
			w *= microG
		}
		if target == 0 && source == 2 {
			w *= microL4EL23E
		}
		return w
	}

	net := &myelinpb.Network{
		Name:       fmt.Sprintf("microcircuit (Potjans & Diesmann 2014: scale=%g, k_scale=%g, %s background)", scale, kScale, bg),
		DtMs:       f64(microDt),
		DurationMs: f64(dur),
		Seed:       seed,
		Recording:  &myelinpb.Recording{BlockSteps: 100},
	}
	sizes := [8]uint32{}
	for y, name := range microPops {
		n := math.Round(microN[y] * scale)
		if n < 1 {
			return nil, fmt.Errorf("parameter scale = %g: population %s would have no neurons (needs scale >= %.3g)", scale, name, 0.5/microN[y])
		}
		sizes[y] = uint32(n)
		// Background: the DC equivalent of the external input (dc mode)
		// plus, when the in-degrees are scaled, the mean recurrent (and, in
		// poisson mode, external) input that the 1/sqrt(k) weights remove.
		var dc, rec float64
		for x := range microPops {
			rec += meanW(y, x) * MicrocircuitSynapses(y, x) / microN[y] * microRates[x]
		}
		ext := wE * microKExt[y] * microBgRate
		if bg == "dc" {
			dc = 0.001 * microTauSyn * ext
		}
		if kScale != 1 {
			dc += 0.001 * microTauSyn * (1 - sq) * rec
			if bg == "poisson" {
				dc += 0.001 * microTauSyn * (1 - sq) * ext
			}
		}
		init := &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: microV0[y][0], Std: microV0[y][1]}}}
		if v0 == "original" {
			init = &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: &myelinpb.Normal{Mean: microV0Mean, Std: microV0SD}}}
		}
		net.Populations = append(net.Populations, &myelinpb.Population{
			Name: name, Size: sizes[y], Initial: init,
			Model: &myelinpb.Population_IafPscExp{IafPscExp: &myelinpb.IafPscExp{
				CM: f64(microCm), TauM: f64(microTauM), TRef: f64(microTRef), EL: f64(microEL),
				VReset: f64(microVReset), VTh: f64(microVTh), IE: f64(dc),
				TauSynEx: f64(microTauSyn), TauSynIn: f64(microTauSyn),
			}},
		})
		if bg == "poisson" {
			kExt := math.Round(microKExt[y] * kScale)
			net.Inputs = append(net.Inputs, &myelinpb.Input{
				Name: "bg_" + name, Target: name,
				Kind: &myelinpb.Input_Poisson{Poisson: &myelinpb.PoissonInput{RateHz: microBgRate * kExt, Weight: wE / sq}},
			})
		}
	}
	for y := range microPops {
		for x := range microPops {
			k := math.Round(MicrocircuitSynapses(y, x) * kScale / microN[y])
			if k < 1 {
				continue
			}
			w := meanW(y, x) / sq
			wd := &myelinpb.Normal{Mean: w, Std: microWRelStd * math.Abs(w)}
			d := &myelinpb.Normal{Mean: microDelayE, Std: microDelayE / 2, Min: f64(microDelayLo)}
			if x%2 == 0 {
				wd.Min = f64(0)
			} else {
				wd.Max = f64(0)
				d = &myelinpb.Normal{Mean: microDelayI, Std: microDelayI / 2, Min: f64(microDelayLo)}
			}
			net.Projections = append(net.Projections, &myelinpb.Projection{
				Name: microPops[x] + "->" + microPops[y], Pre: microPops[x], Post: microPops[y],
				Rule:           &myelinpb.Projection_FixedInDegree{FixedInDegree: &myelinpb.FixedInDegree{Indegree: uint32(k)}},
				Weight:         &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: wd}},
				Delay:          &myelinpb.Distribution{Kind: &myelinpb.Distribution_Normal{Normal: d}},
				AllowAutapses:  proto.Bool(true),
				AllowMultapses: proto.Bool(true),
			})
		}
	}
	return net, nil
}
