package models_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/models"

	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// stpWMCounts returns spikes per neuron of every population in [from, to) ms.
func stpWMCounts(net *network.Network, r *stream.Result, from, to float64) map[string]float64 {
	out := map[string]float64{}
	for i, st := range r.Steps {
		t := float64(st) * net.Dt
		if t < from || t >= to {
			continue
		}
		id := r.IDs[i]
		for _, p := range net.Pops {
			if id >= p.First && id < p.First+p.Size {
				out[p.Name] += 1 / float64(p.Size)
			}
		}
	}
	return out
}

// stpWMResult is what one stp_wm trial measures.
type stpWMResult struct {
	resp      []float64 // spikes per neuron of S1, S2, … in the readout window
	cue       int       // the cued cluster (1-based)
	delayE    float64   // mean rate of all E during the delay (Hz)
	delayCued float64   // rate of the cued cluster during the delay (Hz)
	elapsed   time.Duration
}

// selectivity returns the response of cluster k (1-based) and the largest
// and mean response of the other clusters.
func (r stpWMResult) selectivity(k int) (own, otherMax, otherMean float64) {
	for i, x := range r.resp {
		if i == k-1 {
			own = x
			continue
		}
		otherMax = max(otherMax, x)
		otherMean += x / float64(len(r.resp)-1)
	}
	return own, otherMax, otherMean
}

// selective reports whether cluster k responds to the readout with at least
// one spike per neuron and at least 3× any other cluster.
func (r stpWMResult) selective(k int) bool {
	own, om, _ := r.selectivity(k)
	return own >= 1 && own >= 3*om
}

func (r stpWMResult) String() string {
	own, om, mean := r.selectivity(r.cue)
	return fmt.Sprintf("readout: S%d %.2f spikes/neuron, the others at most %.3f, mean %.3f (%.1f× the most, %.1f× the mean); delay: E %.2f Hz, S%d %.2f Hz",
		r.cue, own, om, mean, own/max(om, 1e-9), own/max(mean, 1e-9), r.delayE, r.cue, r.delayCued)
}

// Timing of the stp_wm trials (ms): cue during [300, 650), delay until
// 1650, readout during [1650, 1700); the response is counted in
// [1650, 1750).
const (
	stpwmCueStart, stpwmCueMs, stpwmDelayMs, stpwmReadMs = 300.0, 350.0, 1000.0, 50.0
	stpwmRespMs                                          = 100.0
)

// stpWMTrial runs stp_wm with set (timing fixed as above, the cue on
// cluster cue unless set has cue_ms 0) and measures the readout response
// of the clusters and the delay rates.
func stpWMTrial(t *testing.T, cue int, set map[string]string) stpWMResult {
	t.Helper()
	full := map[string]string{"cue_start_ms": formatF(stpwmCueStart), "cue_ms": formatF(stpwmCueMs),
		"delay_ms": formatF(stpwmDelayMs), "readout_ms": formatF(stpwmReadMs), "cue_cluster": strconv.Itoa(cue)}
	for k, v := range set {
		full[k] = v
	}
	start := time.Now()
	net, _, r := run(t, "stp_wm", full)
	cueEnd := stpwmCueStart + stpwmCueMs
	if full["cue_ms"] == "0" {
		cueEnd = stpwmCueStart
	}
	readStart := cueEnd + stpwmDelayMs
	resp := stpWMCounts(net, r, readStart, readStart+stpwmRespMs)
	delay := stpWMCounts(net, r, cueEnd, readStart)
	res := stpWMResult{cue: cue, elapsed: time.Since(start)}
	var nE, spE float64
	for _, p := range net.Pops {
		if p.Name == "I" {
			continue
		}
		nE += float64(p.Size)
		spE += delay[p.Name] * float64(p.Size)
		if p.Name == models.StpWMCluster(cue) {
			res.delayCued = delay[p.Name] * 1000 / (readStart - cueEnd)
		}
	}
	for k := 1; k <= len(net.Pops); k++ {
		for _, p := range net.Pops {
			if p.Name == models.StpWMCluster(k) {
				res.resp = append(res.resp, resp[p.Name])
			}
		}
	}
	if len(res.resp) < 2 || cue > len(res.resp) {
		t.Fatalf("stp_wm %v: %d clusters, cue on %d", set, len(res.resp), cue)
	}
	res.delayE = spE / nE * 1000 / (readStart - cueEnd)
	return res
}

// stpWMSmall is the reduced network of the default test: 5,000 neurons
// with c = 0.4, so that the in-degrees, and with them the weights, are the
// paper's (10,000 neurons with c = 0.2).
var stpWMSmall = map[string]string{"n": "5000", "c": "0.4"}

func withSet(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// stpWMSeeds returns the seeds of the selectivity test: 2, or
// MYELIN_STPWM_SEEDS of them for a longer check.
func stpWMSeeds(t *testing.T) []string {
	n := 2
	if v := os.Getenv("MYELIN_STPWM_SEEDS"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > 1000 {
			t.Fatalf("MYELIN_STPWM_SEEDS = %q: want a count in [1, 1000]", v)
		}
		n = k
	}
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// stpWMSize returns the network size of the test: stpWMSmall, or
// MYELIN_STPWM_N neurons with the paper's in-degrees (c = 2000/n).
func stpWMSize(t *testing.T) map[string]string {
	v := os.Getenv("MYELIN_STPWM_N")
	if v == "" {
		return stpWMSmall
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2000 || n > 100000 {
		t.Fatalf("MYELIN_STPWM_N = %q: want a size in [2000, 100000]", v)
	}
	return map[string]string{"n": v, "c": formatF(2000 / float64(n))}
}

// An item loaded into facilitating synapses survives a silent delay: after
// a 350 ms cue to one cluster and a 1 s delay in which E fires below 2 Hz
// (and the cued cluster below 5 Hz: no persistent activity), a
// non-specific 50 ms readout makes the cued cluster fire at least one spike
// per neuron and at least 3× as many as any uncued cluster in the 100 ms
// from the readout's start. Controls: without a cue, and with the cue but
// without facilitation (tau_f = 0), no cluster responds so selectively.
// MYELIN_STPWM_SEEDS and MYELIN_STPWM_N make a longer check (more seeds,
// each with its own control; another size).
func TestStpWMReadoutReactivatesCuedCluster(t *testing.T) {
	size := stpWMSize(t)
	seeds := stpWMSeeds(t)
	for i, seed := range seeds {
		cue := 1 + (2*i)%5 // clusters 1, 3, 5, 2, 4, …
		res := stpWMTrial(t, cue, withSet(size, "seed", seed))
		t.Logf("seed %s, cue on S%d: %v (%.2f s)", seed, cue, res, res.elapsed.Seconds())
		if own, om, _ := res.selectivity(cue); !res.selective(cue) {
			t.Errorf("seed %s, cue on S%d: the cued cluster fires %.2f spikes per neuron in the readout window, the most of the others %.3f: want >= 1 and >= 3× the others", seed, cue, own, om)
		}
		if !(res.delayE < 2) || !(res.delayCued < 5) {
			t.Errorf("seed %s, cue on S%d: E at %.2f Hz and the cued cluster at %.2f Hz during the delay: want a silent delay (E < 2 Hz, the cued cluster < 5 Hz)", seed, cue, res.delayE, res.delayCued)
		}
	}
	type control struct {
		what string
		set  map[string]string
	}
	controls := []control{
		{"no cue", withSet(size, "cue_ms", "0", "seed", "1")},
		{"no facilitation", withSet(size, "tau_f", "0", "seed", "1")},
	}
	if len(seeds) > 2 {
		controls = nil
		for _, seed := range seeds {
			controls = append(controls, control{"no cue", withSet(size, "cue_ms", "0", "seed", seed)},
				control{"no facilitation", withSet(size, "tau_f", "0", "seed", seed)})
		}
	}
	for _, c := range controls {
		res := stpWMTrial(t, 1, c.set)
		t.Logf("control, %s (seed %s): %v (%.2f s)", c.what, c.set["seed"], res, res.elapsed.Seconds())
		for k := 1; k <= len(res.resp); k++ {
			if res.selective(k) {
				t.Errorf("control, %s (seed %s): S%d responds selectively to the readout (spikes per neuron by cluster: %.3f)", c.what, c.set["seed"], k, res.resp)
			}
		}
		if res.resp[0] >= 1 {
			t.Errorf("control, %s (seed %s): S1 fires %.2f spikes per neuron in the readout window: want < 1, no reactivation", c.what, c.set["seed"], res.resp[0])
		}
	}
}

func TestStpWMParameters(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"clusters": "10"}, "parameter clusters = 10: must be in [1, 9]"},
		{map[string]string{"clusters": "0"}, "parameter clusters = 0"},
		{map[string]string{"cue_cluster": "6"}, "parameter cue_cluster = 6: must be in [1, clusters = 5]"},
		{map[string]string{"cue_cluster": "0"}, "parameter cue_cluster = 0"},
		{map[string]string{"c": "0"}, "parameter c = 0: must be in (0, 1]"},
		{map[string]string{"c": "1.5"}, "parameter c = 1.5"},
		{map[string]string{"u": "0"}, "parameter u = 0: must be in (0, 1]"},
		{map[string]string{"tau_d": "0"}, "parameter tau_d = 0: must be > 0"},
		{map[string]string{"tau_f": "-1"}, "parameter tau_f = -1: must be >= 0"},
		{map[string]string{"cue_ms": "-1"}, "parameter cue_ms = -1"},
		{map[string]string{"delay_ms": "NaN"}, "parameter delay_ms"},
		{map[string]string{"readout_gain": "0.5"}, "parameter readout_gain = 0.5: must be >= 1"},
		{map[string]string{"j_p": "-0.1"}, "parameter j_p = -0.1"},
		{map[string]string{"n": "49"}, "parameter n = 49: must be >= 50"},
		{map[string]string{"n": "57", "clusters": "9"}, "too small for 9 clusters"},
		{map[string]string{"duration_ms": "-1"}, "duration"},
	} {
		if _, err := models.Spec("stp_wm", tc.set); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.set, err, tc.want)
		}
	}
	// The default duration ends 300 ms after the readout starts; the
	// populations are the clusters, the non-selective rest and I, with
	// every E→E projection short-term plastic and no other.
	s, err := models.Spec("stp_wm", map[string]string{"n": "1000", "clusters": "3", "cue_start_ms": "100", "cue_ms": "200", "delay_ms": "700"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.GetDurationMs(); got != 100+200+700+300 {
		t.Errorf("duration %g ms, want 1300 (readout at 1000 ms, + 300)", got)
	}
	var names []string
	sizes := map[string]uint32{}
	for _, p := range s.Populations {
		names = append(names, p.Name)
		sizes[p.Name] = p.Size
	}
	if strings.Join(names, " ") != "S1 S2 S3 Ens I" || sizes["S1"] != 80 || sizes["Ens"] != 560 || sizes["I"] != 200 {
		t.Errorf("populations %v (sizes %v), want S1 S2 S3 Ens I with 80, 80, 80, 560, 200", names, sizes)
	}
	plastic := 0
	for _, p := range s.Projections {
		ee := p.Pre != "I" && p.Post != "I"
		if (p.Stp != nil) != ee {
			t.Errorf("projection %s->%s: stp %v, want it on E→E only", p.Pre, p.Post, p.Stp)
		}
		if ee {
			plastic++
		}
	}
	if plastic != 16 {
		t.Errorf("%d plastic projections, want 16 (4 E populations squared)", plastic)
	}
	for _, set := range []map[string]string{{"n": "50"}, {"clusters": "9", "n": "1000"}, {"cue_ms": "0", "readout_ms": "0", "tau_f": "0"}} {
		if _, err := models.Spec("stp_wm", set); err != nil {
			t.Errorf("%v: %v", set, err)
		}
	}
}

// StpWMOf reads the trial back from the spec, and refuses edited ones.
func TestStpWMOf(t *testing.T) {
	s, err := models.Spec("stp_wm", map[string]string{"n": "500", "clusters": "4", "cue_cluster": "3", "cue_start_ms": "120", "cue_ms": "200", "delay_ms": "500", "readout_ms": "40"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := models.StpWMOf(s)
	if err != nil || w == nil {
		t.Fatalf("StpWMOf = %v, %v", w, err)
	}
	from, to := w.ResponseWindow()
	if strings.Join(w.Clusters, " ") != "S1 S2 S3 S4" || w.Cued != 2 || w.CueStartMs != 120 || w.CueStopMs != 320 ||
		w.ReadoutStartMs != 820 || w.ReadoutStopMs != 860 || !w.HasReadout() || from != 820 || to != 860+models.StpWMResponseTailMs {
		t.Errorf("StpWMOf = %+v (response %g-%g ms), want clusters S1-S4, cue on S3 120-320 ms, readout 820-860 ms", w, from, to)
	}
	s, _ = models.Spec("stp_wm", map[string]string{"n": "500", "cue_ms": "0", "readout_ms": "0"})
	if w, err := models.StpWMOf(s); err != nil || w.Cued != -1 || w.HasReadout() {
		t.Errorf("no cue, no readout: StpWMOf = %+v, %v", w, err)
	}
	if w, err := models.StpWMOf(&myelinpb.Network{Name: "brunel (ai)"}); w != nil || err != nil {
		t.Errorf("another model: StpWMOf = %+v, %v; want nil, nil", w, err)
	}
	for _, tc := range []struct {
		edit func(*myelinpb.Network)
		want string
	}{
		{func(n *myelinpb.Network) { n.Populations = n.Populations[5:] }, `no cluster population "S1"`},
		{func(n *myelinpb.Network) { n.Inputs[7].Target = "I" }, `want one cue, on a cluster (target "I")`},
		{func(n *myelinpb.Network) { n.Inputs[8].GetPoisson().StopMs = nil }, `input 8 ("readout_S1"): want a Poisson input with a window`},
		{func(n *myelinpb.Network) { *n.Inputs[9].GetPoisson().StartMs = 1 }, `readout window 1-1700 ms, the first one's 1650-1700 ms`},
	} {
		s, _ := models.Spec("stp_wm", map[string]string{"n": "500"})
		if s.Inputs[7].Name != "cue" || s.Inputs[8].Name != "readout_S1" {
			t.Fatalf("inputs 7 and 8 are %q and %q, want the cue and the first readout", s.Inputs[7].Name, s.Inputs[8].Name)
		}
		tc.edit(s)
		if _, err := models.StpWMOf(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to mention %q", err, tc.want)
		}
	}
}
