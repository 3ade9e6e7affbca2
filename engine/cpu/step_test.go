package cpu

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/rng"
)

// The bucket index must return exactly what a plain scan of the table does,
// for every table shape the builder makes.
func TestPoissonIndexMatchesScan(t *testing.T) {
	tables := [][]uint32{{^uint32(0)}, {1 << 31, ^uint32(0)}, {0, 0, 5, 1 << 24, 1<<24 + 1, 3 << 30, ^uint32(0)}}
	q := rng.NewStream(1, 0).Seq(0)
	for _, thr := range tables {
		ix := newPoissonIndex(7, thr)
		for i := 0; i < 200000; i++ {
			u := q.Uint32()
			if i < 256 {
				u = uint32(i) << 24
			}
			want := uint32(len(thr) - 1)
			for k, v := range thr {
				if u < v {
					want = uint32(k)
					break
				}
			}
			if got := ix.count(u); got != 7+want {
				t.Fatalf("table %v, u = %#x: count %d, scan gives %d", thr, u, got, 7+want)
			}
		}
	}
}

// The interleaved pair gives exactly rng.Philox4x32 of both counters.
func TestPhiloxPairMatchesRng(t *testing.T) {
	q := rng.NewStream(3, 0).Seq(0)
	for i := 0; i < 10000; i++ {
		g, c1, c2, c3 := q.Uint32(), q.Uint32(), q.Uint32(), q.Uint32()
		key := [2]uint32{q.Uint32(), q.Uint32()}
		if i == 0 {
			g = ^uint32(0) // g+1 wraps to 0
		}
		a, b := philoxPair(g, c1, c2, c3, key)
		if wa, wb := rng.Philox4x32([4]uint32{g, c1, c2, c3}, key), rng.Philox4x32([4]uint32{g + 1, c1, c2, c3}, key); a != wa || b != wb {
			t.Fatalf("counter %#x %#x %#x %#x key %#x: pair %x %x, want %x %x", g, c1, c2, c3, key, a, b, wa, wb)
		}
	}
}

// No thread leaves the barrier before every thread has reached it, also
// when some threads sleep (a late thread makes the others sleep).
func TestBarrierHoldsEveryRound(t *testing.T) {
	const threads, rounds = 3, 3000
	b := newBarrier(threads)
	var arrived atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan string, threads)
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 1; r <= rounds; r++ {
				if r%500 == w { // late: the others spin out and sleep
					time.Sleep(spinFor + 100*time.Microsecond)
				}
				arrived.Add(1)
				b.wait()
				if got := arrived.Load(); got < int64(r*threads) {
					errs <- fmt.Sprintf("thread %d left round %d with %d arrivals, want >= %d", w, r, got, r*threads)
					return
				}
				b.wait() // keep rounds apart: nobody arrives for r+1 before all checked r
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
