// Package rng is Myelin's counter-based random number generator:
// Philox4x32-10 (Salmon et al. 2011, the Random123 generator) keyed by the
// network seed and addressed by (index, step, purpose). Every draw is a pure
// function of its address, so any thread count, backend or device produces
// the same numbers; kernels/philox.cuh is the CUDA twin of this file.
package rng

import "math/bits"

const (
	m0 = 0xD2511F53
	m1 = 0xCD9E8D57
	w0 = 0x9E3779B9
	w1 = 0xBB67AE85
)

// Philox4x32 returns the Philox4x32-10 block for counter c and key k.
func Philox4x32(c [4]uint32, k [2]uint32) [4]uint32 {
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	k0, k1 := k[0], k[1]
	// Ten rounds, unrolled by hand (Go does not unroll loops): about 15 %
	// faster, and the builders draw one block per four synapses.
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	k0, k1 = k0+w0, k1+w1
	c0, c1, c2, c3 = round(c0, c1, c2, c3, k0, k1)
	return [4]uint32{c0, c1, c2, c3}
}

// philox2 computes the blocks for counters a and b under key k with the
// rounds of the two interleaved: the two dependency chains overlap, so two
// blocks cost little more than one. It is the fallback of Philox8 without
// AVX2, so it stays a loop (unrolled it measured 8 % faster).
func philox2(a, b [4]uint32, k [2]uint32) ([4]uint32, [4]uint32) {
	a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
	b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
	k0, k1 := k[0], k[1]
	for r := 0; r < 10; r++ {
		if r > 0 {
			k0, k1 = k0+w0, k1+w1
		}
		a0, a1, a2, a3 = round(a0, a1, a2, a3, k0, k1)
		b0, b1, b2, b3 = round(b0, b1, b2, b3, k0, k1)
	}
	return [4]uint32{a0, a1, a2, a3}, [4]uint32{b0, b1, b2, b3}
}

// round is one Philox4x32 round with round key (k0, k1).
func round(c0, c1, c2, c3, k0, k1 uint32) (uint32, uint32, uint32, uint32) {
	p0 := uint64(m0) * uint64(c0)
	p1 := uint64(m1) * uint64(c2)
	return uint32(p1>>32) ^ c1 ^ k0, uint32(p1), uint32(p0>>32) ^ c3 ^ k1, uint32(p0)
}

// Purpose kinds name what a stream of draws is for; the purpose word of a
// counter is kind<<24 | object index.
const (
	KindInit     = 1 // initial values of a population
	KindConnect  = 2 // connectivity of a projection
	KindWeight   = 3 // weights of a projection
	KindDelay    = 4 // delays of a projection
	KindPoisson  = 5 // Poisson input trains
	KindAnalysis = 6 // sampling in analysis tools
)

// Purpose packs a kind and an object index (population, projection or input
// number, < 2^24) into the purpose word of a counter.
func Purpose(kind, index uint32) uint32 { return kind<<24 | index&0xFFFFFF }

// Stream is an addressable source of draws for one (seed, purpose): draw j of
// item i is word j%4 of block (i, j/4, purpose).
type Stream struct {
	key     [2]uint32
	purpose uint32
}

// NewStream returns the stream of draws for seed and purpose.
func NewStream(seed uint64, purpose uint32) Stream {
	return Stream{key: [2]uint32{uint32(seed), uint32(seed >> 32)}, purpose: purpose}
}

// Block returns the four words of block j of item i.
func (s Stream) Block(i uint32, j uint64) [4]uint32 {
	return Philox4x32([4]uint32{i, uint32(j), uint32(j >> 32), s.purpose}, s.key)
}

// Uint32 returns draw j of item i.
func (s Stream) Uint32(i uint32, j uint64) uint32 { return s.Block(i, j/4)[j%4] }

// Seq is a sequential reader of one item's draws, for the host-side builders.
// It computes blocks sixteen at a time (64 draws; with AVX2 on amd64 in two
// interleaved passes over eight) into buf, in draw order.
type Seq struct {
	s   Stream
	i   uint32
	j   uint64
	buf [64]uint32
}

// Seq returns a sequential reader of item i's draws, starting at draw 0.
func (s Stream) Seq(i uint32) *Seq { return &Seq{s: s, i: i} }

// Reset restarts the reader at draw 0 of item i.
func (q *Seq) Reset(i uint32) { q.i, q.j = i, 0 }

// Uint32 returns the next draw. It is small enough to inline; the block
// computation is not.
func (q *Seq) Uint32() uint32 {
	k := q.j & 63
	if k == 0 {
		q.refill()
	}
	q.j++
	return q.buf[k]
}

// refill computes the sixteen blocks of the next 64 draws. It stays out of
// line so that Uint32 inlines.
//
//go:noinline
func (q *Seq) refill() {
	q.s.words(&q.buf, q.i, q.j/4, 16)
}

// words writes nb (8 or 16) blocks of item i from block j on to dst in
// draw order.
func (s Stream) words(dst *[64]uint32, i uint32, j uint64, nb int) {
	if wordsAVX2(dst, s, i, j, nb) {
		return
	}
	for b0 := 0; b0 < nb; b0 += 8 {
		var c [32]uint32 // word w of block b at c[8w+b]
		for b := range 8 {
			jb := j + uint64(b0+b)
			c[b], c[8+b], c[16+b], c[24+b] = i, uint32(jb), uint32(jb>>32), s.purpose
		}
		philox8Go(&c, s.key)
		for b := range 8 {
			o := 4 * (b0 + b)
			dst[o], dst[o+1], dst[o+2], dst[o+3] = c[b], c[8+b], c[16+b], c[24+b]
		}
	}
}

// philox8Go computes the eight blocks whose counters are the columns of buf
// (word w of block b at buf[8w+b]) under key k, in place, two at a time.
func philox8Go(buf *[32]uint32, k [2]uint32) {
	for b := 0; b < 8; b += 2 {
		x, y := philox2([4]uint32{buf[b], buf[8+b], buf[16+b], buf[24+b]}, [4]uint32{buf[b+1], buf[9+b], buf[17+b], buf[25+b]}, k)
		buf[b], buf[8+b], buf[16+b], buf[24+b] = x[0], x[1], x[2], x[3]
		buf[b+1], buf[9+b], buf[17+b], buf[25+b] = y[0], y[1], y[2], y[3]
	}
}

// Float64 returns a uniform draw in (0, 1] from two words: (n + 0.5)/2^53
// for a 53-bit n, never 0. The largest n rounds up to exactly 1 (probability
// 2^-53), which the callers allow: a uniform weight may equal its upper
// bound, and log(1) = 0 is a valid gap or tail draw.
func (q *Seq) Float64() float64 {
	hi := uint64(q.Uint32()) >> 6 // 26 bits
	lo := uint64(q.Uint32()) >> 5 // 27 bits
	return (float64(hi<<27|lo) + 0.5) / (1 << 53)
}

// Intn returns a draw in [0, n) by multiply-shift (bias below n/2^32).
func (q *Seq) Intn(n uint32) uint32 {
	hi, _ := bits.Mul32(q.Uint32(), n)
	return hi
}
