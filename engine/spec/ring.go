package spec

import "math"

// RingArc returns the neuron ranges {first, count} of a ring of n neurons
// (neuron i at 360·i/n degrees) whose angle is within halfDeg of
// centerDeg, in ascending order: one range, or two where the arc wraps past
// 0°; all of the ring when halfDeg >= 180, none when halfDeg < 0 or an
// argument is not finite. Use it to place a Poisson or DC input (a cue) at
// a position on a ring with the Neurons option.
func RingArc(n uint32, centerDeg, halfDeg float64) [][2]uint32 {
	if n == 0 || !finite(centerDeg) || !finite(halfDeg) || halfDeg < 0 {
		return nil
	}
	if halfDeg >= 180 {
		return [][2]uint32{{0, n}}
	}
	c := math.Mod(centerDeg, 360)
	if c < 0 {
		c += 360
	}
	per := float64(n) / 360 // neurons per degree
	lo := int64(math.Ceil((c - halfDeg) * per))
	hi := int64(math.Floor((c + halfDeg) * per))
	cnt := hi - lo + 1
	if cnt <= 0 {
		return nil
	}
	if cnt >= int64(n) {
		return [][2]uint32{{0, n}}
	}
	first := (lo%int64(n) + int64(n)) % int64(n)
	if first+cnt <= int64(n) {
		return [][2]uint32{{uint32(first), uint32(cnt)}}
	}
	wrap := first + cnt - int64(n)
	return [][2]uint32{{0, uint32(wrap)}, {uint32(first), uint32(int64(n) - first)}}
}
