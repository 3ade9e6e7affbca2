package models

import (
	"fmt"
	"math"

	"github.com/myelin-sim/myelin/engine/spec"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

func ping() *Model {
	return &Model{
		Name:  "ping",
		Short: "pyramidal–interneuron network gamma (Börgers & Kopell 2003; Brunel & Wang 2003): sparse E firing, a 30–80 Hz E–I rhythm, optionally nested in theta-modulated drive",
		Params: []Param{
			{"n", "1000", "number of neurons (80 % E, 20 % I)"},
			{"drive_hz", "1400", "rate of the Poisson drive of each E neuron (Hz; 100 pA per spike, so 1400 Hz is a mean 280 pA, 1.5× E's rheobase)"},
			{"theta_depth", "0", "theta modulation of the E drive, in [0, 1]: rate = drive_hz·(1 + depth·sin(2π theta_hz t)); 0 for constant drive"},
			{"theta_hz", "8", "frequency of the theta modulation (Hz)"},
			{"tau_gaba", "8", "decay time of the inhibitory synaptic current (ms); it sets the gamma period"},
			{"duration_ms", "3000", "biological time to simulate (ms)"},
			seedParam,
		},
		build: buildPing,
	}
}

// Weights of ping at n = 1000 (800 E, 200 I, in-degrees 80 from E and 40
// from I), in pA; other sizes keep each neuron's mean input by scaling the
// weights by these in-degrees over the actual ones.
const (
	pingRefKE, pingRefKI = 80, 40
	pingWEE, pingWEI     = 5, 150
	pingWIE, pingWII     = -16, -10
	pingWDrive           = 100 // per drive spike onto E
	pingBgIHz, pingWBgI  = 2000, 50
)

// Pyramidal–interneuron network gamma (PING) after Börgers & Kopell (2003),
// Neural Comput. 15:509, in the sparsely firing integrate-and-fire form of
// Brunel & Wang (2003), J. Neurophysiol. 90:415: n·4/5 E and n/5 I
// iaf_psc_exp neurons (E: τ_m 20 ms, I: τ_m 10 ms; NEST's other defaults),
// fixed in-degree p = 0.1 from E and 0.2 from I, 1 ms delays, AMPA-like
// excitation (2 ms) and GABA_A-like inhibition (tau_gaba). The Poisson drive
// makes E fire irregularly (about 8 Hz, CV ISI about 0.7 at the defaults);
// I gets a background of 200 pA, about half its rheobase, so it fires when
// a group of E cells fires together; its inhibition silences E until it
// wears off, and the next E group starts the next cycle. The population
// rhythm (about 39 Hz at the defaults; faster with more drive or a shorter
// tau_gaba) is much faster than any E cell fires, as in Brunel & Wang. With
// theta_depth > 0 the E drive follows a theta sinusoid (quantised every
// 5 ms, coarser for runs over 50 s), so that gamma waxes and wanes with the
// theta phase: theta–gamma phase–amplitude coupling.
func buildPing(v Values) (*myelinpb.Network, error) {
	r := reader{v: v}
	n := r.count("n", 10, 0)
	drive := r.float("drive_hz", 0)
	depth, thetaHz := r.float("theta_depth", 0), r.float("theta_hz", 0)
	tauGaba := r.float("tau_gaba", 0)
	r.atLeast("drive_hz", drive, 0, "a rate")
	if !(depth >= 0 && depth <= 1) {
		r.fail(fmt.Errorf("parameter theta_depth = %g: must be in [0, 1]", depth))
	}
	if !(thetaHz > 0 && thetaHz <= 100) {
		r.fail(fmt.Errorf("parameter theta_hz = %g: must be in (0, 100]", thetaHz))
	}
	if !(tauGaba > 0 && tauGaba <= 100) {
		r.fail(fmt.Errorf("parameter tau_gaba = %g: must be in (0, 100] ms", tauGaba))
	}
	dur, seed := r.common()
	if r.err != nil {
		return nil, r.err
	}
	nE, nI := splitEI(n)
	kE := max(1, uint32(math.Round(0.1*float64(nE))))
	kI := max(1, uint32(math.Round(0.2*float64(nI))))
	sE, sI := float64(pingRefKE)/float64(kE), float64(pingRefKI)/float64(kI)
	cell := func(tauM, tRef float64) spec.Model {
		return spec.IafPscExp(&myelinpb.IafPscExp{CM: f64(250), TauM: f64(tauM), TRef: f64(tRef), EL: f64(-70), VReset: f64(-70), VTh: f64(-55),
			TauSynEx: f64(2), TauSynIn: f64(tauGaba)})
	}
	name := fmt.Sprintf("ping (N=%d, drive %g Hz", n, drive)
	if depth > 0 {
		name += fmt.Sprintf(", theta %g Hz depth %g", thetaHz, depth)
	}
	delay := spec.Delay(spec.Const(1))
	b := spec.New(name+")").Dt(0.1).Duration(dur).Seed(seed).BlockSteps(100).
		Population("E", nE, cell(20, 2), spec.Initial(spec.UniformDist(-70, -55))).
		Population("I", nI, cell(10, 1), spec.Initial(spec.UniformDist(-70, -55))).
		Project("E", "E", spec.FixedIn(kE), spec.Weight(spec.Const(pingWEE*sE)), delay).
		Project("E", "I", spec.FixedIn(kE), spec.Weight(spec.Const(pingWEI*sE)), delay).
		Project("I", "E", spec.FixedIn(kI), spec.Weight(spec.Const(pingWIE*sI)), delay).
		Project("I", "I", spec.FixedIn(kI), spec.Weight(spec.Const(pingWII*sI)), delay).
		Poisson("I", pingBgIHz, pingWBgI, spec.Name("bg_I"))
	if depth > 0 {
		// Quantisation steps of at least 5 ms, few enough for the schedule
		// limit however long the run.
		step := max(5, math.Ceil(dur/spec.MaxScheduleSegments))
		b.Poisson("E", 0, pingWDrive, spec.Name("drive_E"), spec.Sinusoidal(drive, depth, thetaHz, 0, step))
	} else {
		b.Poisson("E", drive, pingWDrive, spec.Name("drive_E"))
	}
	return b.Build()
}
