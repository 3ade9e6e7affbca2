package bench

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// BenchmarkRandomAdd measures this machine's limit for what synaptic
// delivery does: add an int32 into a word chosen at random in an array
// (the ring buffers), the indices read in sequence from another (the
// rows). The array sizes span the caches: 64 KiB (L1/L2), 1 MiB (L2),
// 8 MiB and 32 MiB (L3), 256 MiB (memory); on one thread and on two, each
// thread with its own array as delivery's threads own their targets.
// ns/add is wall time per addition of one thread; Madd/s is the machine's
// rate with all threads.
func BenchmarkRandomAdd(b *testing.B) {
	const adds = 1 << 22
	for _, size := range []int{64 << 10, 1 << 20, 8 << 20, 32 << 20, 256 << 20} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dKiB/threads=%d", size>>10, threads), func(b *testing.B) {
				words := size / 4 / threads
				rings := make([][]int32, threads)
				idx := make([][]uint32, threads)
				for w := range rings {
					rings[w] = make([]int32, words)
					r := rand.New(rand.NewPCG(uint64(w), 7))
					idx[w] = make([]uint32, adds)
					for k := range idx[w] {
						idx[w][k] = uint32(r.IntN(words))
					}
				}
				b.ResetTimer()
				for range b.N {
					var wg sync.WaitGroup
					for w := range threads {
						wg.Add(1)
						go func() {
							defer wg.Done()
							ring := rings[w]
							for _, i := range idx[w] {
								ring[i] += 3
							}
						}()
					}
					wg.Wait()
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(sec*1e9/adds, "ns/add")
				b.ReportMetric(float64(adds*threads)/sec/1e6, "Madd/s")
			})
		}
	}
}
