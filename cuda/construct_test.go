//go:build cuda

package cuda

// On-device construction on the real device (kernels/construct.cu through
// NewConstructor): the arrays of every parity.ConstructCases network equal
// Build's byte for byte, and a benchmark times the construction of the
// full-scale microcircuit and of brunel at 1,000,000 neurons.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/backend/parity"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
)

// TestConstructOnGPU builds every parity.ConstructCases network on the
// device in three geometries (the third asks for blocks of 1,024 threads)
// and compares it with Build (parity.CompareBuilt, input bounds
// included); with -test.short (as the one-shot's compute-sanitizer runs
// it) in the first two only, and all but the 4.3 M-synapse "parts"
// network.
func TestConstructOnGPU(t *testing.T) {
	d := openDevice(t)
	cases, err := parity.ConstructCases()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		cases = slices.DeleteFunc(cases, func(c parity.Built) bool { return c.Name == "parts" })
	}
	cfgs := []*launch.ConstructConfig{nil, {Block: 64, Threads: 1000, SortBlock: 96}}
	if !testing.Short() {
		// Blocks of 1,024 threads, which NewConstructor clamps to what
		// the construct kernel with the most registers takes.
		cfgs = append(cfgs, &launch.ConstructConfig{Block: 1024, SortBlock: 1024})
	}
	for _, cfg := range cfgs {
		c, release, err := NewConstructor(d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, bc := range cases {
			var wantBounds, gotBounds []float64
			want, err := network.Build(bc.Spec, network.Options{InputBounds: func(b []float64) { wantBounds = b }})
			if err != nil {
				t.Fatal(err)
			}
			got, err := network.BuildOn(context.Background(), bc.Spec, network.Options{InputBounds: func(b []float64) { gotBounds = b }}, c)
			if err != nil {
				t.Fatalf("%s: %v", bc.Name, err)
			}
			if err := parity.CompareBuilt(want, got, wantBounds, gotBounds); err != nil {
				t.Errorf("%s (config %+v): %v", bc.Name, cfg, err)
			}
		}
		if err := release(); err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkConstruct times network.BuildOn on the device for the
// full-scale microcircuit and brunel at 1,000,000 neurons, in-degree
// 1,000, and reports the seconds: load_s to load the construct module
// (the driver's JIT of its PTX), device_s for a build whose arrays are
// copied back, kept_s for one that keeps them on the device (what
// --device-build does), and, once, host_s for the host's Build on all
// cores, with which the copied-back arrays are compared.
func BenchmarkConstruct(b *testing.B) {
	d := openDevice(b)
	for _, m := range []struct {
		name string
		set  map[string]string
	}{
		{"microcircuit", map[string]string{"duration_ms": "100"}},
		{"brunel", map[string]string{"n": "1000000", "indegree": "1000", "duration_ms": "100"}},
	} {
		b.Run(m.name, func(b *testing.B) {
			s, err := models.Spec(m.name, m.set)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			c, release, err := NewConstructor(d, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer release()
			b.ReportMetric(time.Since(start).Seconds(), "load_s")
			var net *network.Network
			for i := 0; i < b.N; i++ {
				start := time.Now()
				kept, err := network.BuildOn(context.Background(), s, network.Options{KeepOnDevice: true}, c)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "kept_s")
				if r := kept.Syn.Resident; r != nil {
					r.Arrays.Release()
				}
				start = time.Now()
				if net, err = network.BuildOn(context.Background(), s, network.Options{}, c); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "device_s")
			}
			start = time.Now()
			host, err := network.Build(s, network.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(start).Seconds(), "host_s")
			if err := parity.CompareBuilt(host, net, nil, nil); err != nil {
				b.Errorf("device build differs from Build: %v", err)
			}
		})
	}
}
