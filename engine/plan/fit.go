package plan

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// AvailableMemory returns the memory that the system can give a new
// allocation without swapping (MemAvailable in /proc/meminfo), and whether
// it is known (Linux only).
func AvailableMemory() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// CheckFits returns an error, with the plan's figures, when the CPU side of
// the plan (the host's copy of the network that every backend builds, and
// the CPU backend's buffers) needs more than avail bytes, so that a caller
// can refuse a network before allocating anything. The error names the
// synapses, the largest part when it is another, and the thread count
// when the parts that grow with it are the cause.
func (p *Plan) CheckFits(avail uint64) error {
	total := p.CPU()
	if total <= avail {
		return nil
	}
	msg := fmt.Sprintf("the network needs %s on the CPU (%d synapses × %d B = %s", Bytes(total), p.Synapses, BytesPerSynapse, Bytes(p.Synapses*BytesPerSynapse))
	if name, size := p.largestCPU(); name != "synapses" {
		msg += fmt.Sprintf("; the largest part: %s, %s", name, Bytes(size))
	}
	msg += fmt.Sprintf(") but only %s of memory is available", Bytes(avail))
	if threads, split, staging := p.threadShare(); threads > 1 {
		switch {
		case threads > p.Neurons:
			msg += fmt.Sprintf(": --threads %d is more than the network's %d neurons, more threads than a build or a CPU run uses, and the parts kept per thread (row splits, delivery buckets, construction staging) take up to %s of it; give at most %d",
				threads, p.Neurons, Bytes(split+staging), p.Neurons)
		case split >= total/2:
			msg += fmt.Sprintf(": %s of it is row splits and delivery buckets, kept per thread for %d threads; fewer threads (--threads) need less",
				Bytes(split), threads)
		}
	}
	return fmt.Errorf("%s; 'myelin plan' shows the parts", msg)
}

// largestCPU returns the name and CPU size of the plan's largest part,
// construction (BuildPeak) included.
func (p *Plan) largestCPU() (string, uint64) {
	name, size := "construction (transient)", p.BuildPeak
	for _, x := range p.Parts {
		if x.CPU > size {
			name, size = x.Name, x.CPU
		}
	}
	return name, size
}

// threadShare returns the thread count the plan was estimated for (from
// its row splits, N·(threads+1)·4 B: see Estimate), the bytes of the parts
// that grow in proportion to it (the row splits beyond one thread's, the
// delivery buckets), and the most that construction adds per thread
// (BuildPeak beyond its 8 B per neuron: each thread's staging and
// pass-one counts, and the counts per projection). It returns zeros for a
// plan without neurons or row splits.
func (p *Plan) threadShare() (threads, split, staging uint64) {
	if p.Neurons == 0 {
		return 0, 0, 0
	}
	for _, x := range p.Parts {
		switch x.Name {
		case "row splits":
			if x.CPU >= 8*p.Neurons {
				threads = x.CPU/(4*p.Neurons) - 1
				split += x.CPU - 8*p.Neurons
			}
		case "delivery buckets":
			split += x.CPU
		}
	}
	if p.BuildPeak > 8*p.Neurons {
		staging = p.BuildPeak - 8*p.Neurons
	}
	return threads, split, staging
}
