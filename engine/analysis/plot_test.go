package analysis

import (
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPNG decodes the PNG at path and checks its size and that it is not
// one flat colour.
func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %d×%d px, want %d×%d", path, b.Dx(), b.Dy(), w, h)
	}
	if colours(img) < 3 {
		t.Errorf("%s: %d colours, want a drawn figure", path, colours(img))
	}
}

// colours counts distinct colours (up to 100) of img.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 100; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

func testRun(seed uint64) Run {
	rng := rand.New(rand.NewPCG(seed, 1))
	return Run{DtMs: 0.1, DurationMs: 1000, Pops: []Population{
		poissonPop(rng, "E", 800, 8, 1000),
		modulatedPop(rng, 200, 20, 0.8, 10, 1000),
	}}
}

func TestRasterPNG(t *testing.T) {
	dir := t.TempDir()
	run := testRun(1)
	path := filepath.Join(dir, "raster.png")
	if err := Raster(run, path, PlotOptions{}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 1200, 750)
	small := filepath.Join(dir, "small.png")
	if err := Raster(run, small, PlotOptions{DPI: 100, MaxNeurons: 50, Title: "small"}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, small, 800, 500)
	if err := Raster(run, filepath.Join(dir, "no", "such", "dir.png"), PlotOptions{}); err == nil || !strings.Contains(err.Error(), "dir.png") {
		t.Errorf("unwritable path: error %v, want one naming the path", err)
	}
}

func TestRatesPNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rates.png")
	if err := Rates(testRun(2), path, 5); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 1200, 750)
	if err := Rates(testRun(2), path, 0); err == nil {
		t.Error("zero bin: no error")
	}
	svg := filepath.Join(dir, "rates.svg")
	if err := RatesWith(testRun(2), svg, 10, PlotOptions{WidthIn: 4, HeightIn: 3}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("svg: %v", err)
	}
}

func TestSelectNeurons(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	run := Run{DurationMs: 1000, Pops: []Population{
		poissonPop(rng, "big", 20000, 20, 1000), // ~400k spikes
		poissonPop(rng, "tiny", 3, 20, 1000),
	}}
	sel, shown, points := selectNeurons(run, 500, 200_000)
	if shown > 500 || shown < 2 {
		t.Errorf("%d neurons shown, want 2..500", shown)
	}
	if points > 200_000 {
		t.Errorf("%d points, want <= 200000", points)
	}
	n := 0
	for id := range uint32(3) {
		if sel[1].has(id) {
			n++
		}
	}
	if n < 1 || int64(n) != sel[1].a {
		t.Error("tiny population not shown")
	}
	// Tight point budget: fewer neurons.
	_, shown2, points2 := selectNeurons(run, 500, 1000)
	if points2 > 1000 || shown2 >= shown {
		t.Errorf("budget 1000 points: %d neurons, %d points", shown2, points2)
	}
	// The selection picks exactly a neurons, evenly spaced, whatever the size.
	for _, c := range []struct{ size, a int64 }{{10, 3}, {7, 7}, {1000, 17}, {5, 1}} {
		sp := spaced{size: c.size, a: c.a}
		var got []int64
		for id := range uint32(c.size) {
			if sp.has(id) {
				got = append(got, int64(id))
			}
		}
		if int64(len(got)) != c.a {
			t.Errorf("spaced %v picks %v, want %d neurons", c, got, c.a)
		}
		for j, id := range got {
			if want := int64(j) * c.size / c.a; id != want {
				t.Errorf("spaced %v: pick %d is %d, want %d", c, j, id, want)
			}
		}
	}
	t.Logf("500/200k: %d neurons, %d points; 500/1k: %d neurons, %d points", shown, points, shown2, points2)
}

// TestFiguresKeepTheTimeAxis: the figures of a run cut by After label time
// as the simulation did (from 1,000 ms here), not from the cut.
func TestFiguresKeepTheTimeAxis(t *testing.T) {
	run := Run{DtMs: 0.1, DurationMs: 1400, Pops: []Population{{Name: "ring", Size: 8}}}
	for k := range 1400 {
		run.Pops[0].TimesMs = append(run.Pops[0].TimesMs, float64(k)+0.5)
		run.Pops[0].IDs = append(run.Pops[0].IDs, uint32(k%8))
	}
	late := run.After(1000)
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		draw func(string) error
	}{
		{"raster", func(p string) error { return Raster(late, p, PlotOptions{}) }},
		{"rates", func(p string) error { return Rates(late, p, 50) }},
		{"bump", func(p string) error { return BumpPlot(late, p, 50) }},
	} {
		path := filepath.Join(dir, f.name+".svg")
		if err := f.draw(path); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Tick labels are text elements; 1200 lies inside [1000, 1400]
		// only, 400 inside [0, 400] only (no other axis reaches it).
		if svg := string(b); !strings.Contains(svg, ">1200</text>") || strings.Contains(svg, ">400</text>") {
			t.Errorf("%s: the time axis is not labelled from 1000 ms", f.name)
		}
		// Labels carry no needless zeros (the raster's neurons 0 to 7
		// were labelled 0.00, 2.50, ...).
		if svg := string(b); strings.Contains(svg, ".00</text>") || strings.Contains(svg, ".50</text>") {
			t.Errorf("%s: tick labels with trailing zeros", f.name)
		}
	}
}
