//go:build cuda

package cuda

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/cuda/driver"
)

// atomicsN is the number of atomic adds per launch in BenchmarkAtomics:
// about what brunel at 1,000,000 neurons delivers per step.
const atomicsN = 4_600_000

// BenchmarkAtomics times the raw 4-byte atomic adds (REDs: the result is
// unused) that delivery is made of, without the rest of the kernel
// (kernels/microbench.cu). Each sub-benchmark runs atomicsN adds per
// launch, grid-stride on 8 blocks of 256 threads per SM:
//
//	random/4MB      indices uniform in [0, 2^20): an L2-resident 4 MB array,
//	                as brunel 1 M's delivery (~22e9 adds/s on an H100)
//	random/64MB     uniform in [0, 2^24): a 64 MB array, past the L2
//	sorted/4MB      the random/4MB indices sorted: neighbouring lanes hit
//	                the same or neighbouring lines
//	sequential/4MB  i mod 2^20: fully coalesced, the upper bound
//	read/4MB        the random/4MB indices loaded, no atomic: the cost of
//	                the index stream alone (Gatomic/s is then indices/s)
//
// Each iteration is 20 launches back to back after 2 of warm-up; it
// reports µs per launch and 10⁹ adds per second. Before the timing, one
// launch of random/4MB is checked against a host histogram, and one of
// the read kernel must leave the array untouched. If random/4MB reaches
// well over 22e9/s, brunel 1 M's delivery is below the hardware's limit.
// Run it on a GPU machine: bin/cuda.test -test.run '^$' -test.bench
// Atomics -test.benchtime 1x.
func BenchmarkAtomics(b *testing.B) {
	d := openDevice(b)
	m, err := d.LoadEmbedded("microbench")
	if err != nil {
		b.Fatal(err)
	}
	red, err := m.Function("myelin_bench_red")
	if err != nil {
		b.Fatal(err)
	}
	read, err := m.Function("myelin_bench_read")
	if err != nil {
		b.Fatal(err)
	}
	grid, block := driver.Dim3{X: 8 * max(1, d.Info().SMs)}, driver.Dim3{X: 256}
	b.Logf("%s: %d SMs, grid %d × %d threads, %d adds per launch", d.Info().Name, d.Info().SMs, grid.X, block.X, atomicsN)

	rng := rand.New(rand.NewPCG(1, 2))
	random4 := make([]uint32, atomicsN)
	random64 := make([]uint32, atomicsN)
	sequential := make([]uint32, atomicsN)
	for i := range random4 {
		random4[i] = rng.Uint32N(1 << 20)
		random64[i] = rng.Uint32N(1 << 24)
		sequential[i] = uint32(i) % (1 << 20)
	}
	sorted := slices.Clone(random4)
	slices.Sort(sorted)

	idx, err := d.Alloc("bench idx", 4*atomicsN)
	if err != nil {
		b.Fatal(err)
	}
	acc, err := d.Alloc("bench acc", 4<<24)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := idx.Free(); err != nil {
			b.Error(err)
		}
		if err := acc.Free(); err != nil {
			b.Error(err)
		}
	})
	if err := checkAtomics(d, red, read, idx, acc, random4, grid, block); err != nil {
		b.Fatal(err)
	}

	for _, c := range []struct {
		name string
		f    *driver.Function
		idx  []uint32
	}{
		{"random/4MB", red, random4},
		{"random/64MB", red, random64},
		{"sorted/4MB", red, sorted},
		{"sequential/4MB", red, sequential},
		{"read/4MB", read, random4},
	} {
		b.Run(c.name, func(b *testing.B) {
			if err := driver.Upload(idx, c.idx); err != nil {
				b.Fatal(err)
			}
			if err := acc.Zero(nil); err != nil {
				b.Fatal(err)
			}
			launch := func() {
				if err := c.f.Launch(grid, block, 0, nil, idx, acc, uint64(atomicsN)); err != nil {
					b.Fatal(err)
				}
			}
			for range 2 {
				launch()
			}
			if err := d.Synchronize(); err != nil {
				b.Fatal(err)
			}
			const launches = 20
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				for range launches {
					launch()
				}
			}
			if err := d.Synchronize(); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start).Seconds()
			b.StopTimer()
			total := float64(launches * b.N)
			b.ReportMetric(el*1e6/total, "µs/launch")
			b.ReportMetric(atomicsN*total/el/1e9, "Gatomic/s")
		})
	}
}

// checkAtomics launches red once over indices (in [0, 2^20)) into a zeroed
// acc and compares the first 2^20 counters with a host histogram and their
// sum with the number of indices; then launches read over the same indices
// into a zeroed acc, which must stay zero.
func checkAtomics(d *driver.Device, red, read *driver.Function, idx, acc *driver.Buffer, indices []uint32, grid, block driver.Dim3) error {
	const span = 1 << 20
	n := uint64(len(indices))
	if err := driver.Upload(idx, indices); err != nil {
		return err
	}
	want := make([]int32, span)
	for _, j := range indices {
		want[j]++
	}
	got := make([]int32, span)
	for _, k := range []struct {
		f    *driver.Function
		want []int32
	}{{red, want}, {read, make([]int32, span)}} {
		if err := acc.Zero(nil); err != nil {
			return err
		}
		if err := k.f.Launch(grid, block, 0, nil, idx, acc, n); err != nil {
			return err
		}
		if err := d.Synchronize(); err != nil {
			return fmt.Errorf("%s: %w", k.f.Name(), err)
		}
		if err := driver.Download(got, acc); err != nil {
			return err
		}
		var sum, wantSum int64
		for j := range got {
			sum += int64(got[j])
			wantSum += int64(k.want[j])
		}
		if sum != wantSum {
			return fmt.Errorf("%s over %d indices: counters sum to %d, want %d", k.f.Name(), n, sum, wantSum)
		}
		for j := range got {
			if got[j] != k.want[j] {
				return fmt.Errorf("%s over %d indices: acc[%d] = %d, want %d", k.f.Name(), n, j, got[j], k.want[j])
			}
		}
	}
	return nil
}
