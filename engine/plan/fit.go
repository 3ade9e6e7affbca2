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
// can refuse a network before allocating anything.
func (p *Plan) CheckFits(avail uint64) error {
	if p.CPU() <= avail {
		return nil
	}
	return fmt.Errorf("the network needs %s on the CPU (%d synapses × %d B = %s) but only %s of memory is available; 'myelin plan' shows the parts",
		Bytes(p.CPU()), p.Synapses, BytesPerSynapse, Bytes(p.Synapses*BytesPerSynapse), Bytes(avail))
}
