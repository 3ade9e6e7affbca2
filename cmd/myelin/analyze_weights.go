package main

import (
	"fmt"
	"io"
	"math"

	"github.com/myelin-sim/myelin/engine/stream"
)

// printWeights summarises the final weights of an STDP run (the stream's
// weights records), one line per pair of populations: the synapses, the
// mean, spread and range of the weights, and the share at 0 and at w_max
// (w_max read from the header's spec; within one fixed-point unit).
func printWeights(w io.Writer, res *stream.Result) {
	sets := res.WeightSets()
	if len(sets) == 0 {
		return
	}
	wmax := map[[2]string]float64{}
	for _, pr := range res.Header.GetSpec().GetProjections() {
		if st := pr.GetStdp(); st != nil {
			wmax[[2]string{pr.GetPre(), pr.GetPost()}] = math.Abs(st.GetWMax())
		}
	}
	fmt.Fprintln(w, "final weights (STDP)")
	fmt.Fprintln(w, "pre -> post     synapses        mean         std         min         max  at 0  at w_max")
	for _, s := range sets {
		n := len(s.Fixed)
		if n == 0 {
			fmt.Fprintf(w, "%-12s %11d\n", s.Pre+" -> "+s.Post, 0)
			continue
		}
		var sum, sq float64
		lo, hi := math.Inf(1), math.Inf(-1)
		atZero, atMax := 0, 0
		top := wmax[[2]string{s.Pre, s.Post}]
		unit := math.Ldexp(1, -int(s.Shift))
		for k := range s.Fixed {
			x := s.Weight(k)
			sum += x
			sq += x * x
			lo, hi = min(lo, x), max(hi, x)
			if s.Fixed[k] == 0 {
				atZero++
			}
			if top > 0 && math.Abs(math.Abs(x)-top) <= unit {
				atMax++
			}
		}
		mean := sum / float64(n)
		std := math.Sqrt(max(0, sq/float64(n)-mean*mean))
		fmt.Fprintf(w, "%-12s %11d %11.5g %11.5g %11.5g %11.5g %4.1f%% %7.1f%%\n", s.Pre+" -> "+s.Post, n, mean, std, lo, hi,
			100*float64(atZero)/float64(n), 100*float64(atMax)/float64(n))
	}
}
