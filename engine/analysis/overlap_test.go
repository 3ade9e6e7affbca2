package analysis

import (
	"math"
	"strings"
	"testing"
)

func idRange(lo, hi int) []uint32 {
	var out []uint32
	for i := lo; i < hi; i++ {
		out = append(out, uint32(i))
	}
	return out
}

// The overlap against closed forms: the pattern itself gives 1; a fraction
// f of it gives sqrt(f(1-a)/(1-f·a)); disjoint activity of the same size
// gives -a/(1-a); nothing active gives 0; the complement gives -1.
func TestPatternOverlapClosedForms(t *testing.T) {
	const n = 1000
	pat := idRange(100, 200) // a = 0.1
	a := 0.1
	for _, c := range []struct {
		name   string
		active []uint32
		want   float64
	}{
		{"the pattern", pat, 1},
		{"30 % of it", idRange(100, 130), math.Sqrt(0.3 * (1 - a) / (1 - 0.3*a))},
		{"disjoint, same size", idRange(500, 600), -a / (1 - a)},
		{"nothing", nil, 0},
		{"everything", idRange(0, n), 0},
		{"the complement", append(idRange(0, 100), idRange(200, n)...), -1},
	} {
		got, err := PatternOverlap(n, c.active, pat)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: overlap %.15g, want %.15g", c.name, got, c.want)
		}
	}
	if got, _ := PatternOverlap(n, idRange(100, 130), pat); got > 0.6 {
		t.Errorf("a 30 %% cue alone has overlap %.3f: it would pass for recall", got)
	}
}

func TestPatternOverlapErrors(t *testing.T) {
	for _, c := range []struct {
		n            int
		act, pattern []uint32
		want         string
	}{
		{0, nil, nil, "0 neurons"},
		{10, []uint32{3, 10}, nil, "active neurons: id 10 at position 1: must be < 10"},
		{10, nil, []uint32{4, 4}, "pattern: id 4 at position 1: ids must ascend"},
		{10, []uint32{5, 2}, nil, "ids must ascend"},
	} {
		_, err := PatternOverlap(c.n, c.act, c.pattern)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PatternOverlap(%d, %v, %v): error %v, want %q", c.n, c.act, c.pattern, err, c.want)
		}
	}
}

// ActiveNeurons counts spikes in the window only and applies the rate
// threshold as a count: 10 Hz over 500 ms is 5 spikes.
func TestActiveNeurons(t *testing.T) {
	p := Population{Name: "E", Size: 10}
	add := func(id uint32, times ...float64) {
		for _, tm := range times {
			p.TimesMs, p.IDs = append(p.TimesMs, tm), append(p.IDs, id)
		}
	}
	add(7, 500, 600, 700, 800, 999)       // 5 in the window: active
	add(2, 100, 200, 300, 400, 499, 600)  // 1 in the window
	add(4, 510, 520, 530, 540)            // 4: below 10 Hz
	add(3, 520, 530, 540, 550, 560, 1000) // 5 in the window; 1000 is outside
	add(12, 600, 601, 602, 603, 604)      // id past Size: ignored
	got, err := ActiveNeurons(p, 500, 1000, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 3 || got[1] != 7 {
		t.Errorf("active = %v, want [3 7]", got)
	}
	if got, _ := ActiveNeurons(p, 500, 1000, 0); len(got) != 4 {
		t.Errorf("threshold 0 Hz: active = %v, want every neuron with a spike in the window (2, 3, 4, 7)", got)
	}
	for _, c := range []struct{ from, to, hz float64 }{{5, 5, 1}, {0, math.Inf(1), 1}, {0, 1, -1}, {0, 1, math.NaN()}} {
		if _, err := ActiveNeurons(p, c.from, c.to, c.hz); err == nil {
			t.Errorf("ActiveNeurons(%g, %g, %g Hz): no error", c.from, c.to, c.hz)
		}
	}
}

// PatternOverlaps follows activity from one pattern to another over time.
func TestPatternOverlaps(t *testing.T) {
	const n = 200
	pats := [][]uint32{idRange(0, 20), idRange(100, 120)}
	p := Population{Name: "E", Size: n}
	for tm := 0.0; tm < 300; tm += 10 { // pattern 0 at 100 Hz for 300 ms,
		for _, id := range pats[0] {
			p.TimesMs, p.IDs = append(p.TimesMs, tm), append(p.IDs, id)
		}
	}
	for tm := 300.0; tm < 500; tm += 10 { // then pattern 1
		for _, id := range pats[1] {
			p.TimesMs, p.IDs = append(p.TimesMs, tm), append(p.IDs, id)
		}
	}
	s, err := PatternOverlaps(p, 550, pats, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.M) != 5 || s.StartMs[4] != 400 {
		t.Fatalf("%d windows (last at %g ms), want 5 (the partial one dropped)", len(s.M), s.StartMs[len(s.StartMs)-1])
	}
	for w, want := range []int{0, 0, 0, 1, 1} {
		if s.M[w][want] != 1 || s.M[w][1-want] > 0 || s.Active[w] != 20 {
			t.Errorf("window %d: overlaps %v with %d active, want pattern %d at 1", w, s.M[w], s.Active[w], want)
		}
	}
	if _, err := PatternOverlaps(p, 550, [][]uint32{{300}}, 100, 10); err == nil || !strings.Contains(err.Error(), "pattern 0") {
		t.Errorf("a pattern id past the population: error %v", err)
	}
	if _, err := PatternOverlaps(p, 1e300, pats, 1e-9, 10); err == nil {
		t.Errorf("a window count past MaxBins: no error")
	}
	if _, err := PatternOverlaps(p, 550, pats, 0, 10); err == nil {
		t.Errorf("a zero window: no error")
	}
}
