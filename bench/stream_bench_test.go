package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// Stream benchmark workload: blocks of 100 steps × 500 spikes among
// 100,000 neurons (80 % E, 20 % I), as the recorder writes them, flushed
// after every block as sim.Run does; 200 blocks (10 M spikes) per op.
const (
	streamNeurons   = 100_000
	streamSteps     = 100
	streamPerStep   = 500
	streamBlocksOp  = 200
	streamSpikesOp  = streamBlocksOp * streamSteps * streamPerStep
	streamFirstStep = 0
)

// streamBlock returns one block's counts and ids.
func streamBlock() (counts, ids []uint32) {
	rng := rand.New(rand.NewPCG(1, 2))
	counts = make([]uint32, streamSteps)
	for s := range counts {
		seen := map[uint32]bool{}
		for len(seen) < streamPerStep {
			seen[uint32(rng.IntN(streamNeurons))] = true
		}
		step := make([]uint32, 0, streamPerStep)
		for id := range seen {
			step = append(step, id)
		}
		slices.Sort(step)
		ids = append(ids, step...)
		counts[s] = streamPerStep
	}
	return counts, ids
}

// streamHeader is the header of the benchmark stream.
func streamHeader() *myelinpb.Header {
	ne := uint32(streamNeurons * 4 / 5)
	return &myelinpb.Header{DtMs: 0.1, TotalSteps: streamBlocksOp * streamSteps, Populations: []*myelinpb.PopulationRange{
		{Name: "E", FirstId: 0, Size: ne, Model: "iaf_psc_delta", Recorded: true},
		{Name: "I", FirstId: ne, Size: streamNeurons - ne, Model: "iaf_psc_delta", Recorded: true},
	}}
}

// writeStream writes one op's stream to w: header, 200 blocks flushed one
// by one, trailer.
func writeStream(b *testing.B, w io.Writer, counts, ids []uint32) {
	sw, err := stream.NewWriter(w, streamHeader())
	if err != nil {
		b.Fatal(err)
	}
	for k := range streamBlocksOp {
		if err := sw.WriteSpikes(streamFirstStep+uint64(k)*streamSteps, counts, ids); err != nil {
			b.Fatal(err)
		}
		if err := sw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE}); err != nil {
		b.Fatal(err)
	}
}

// cpuTime returns the user + system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// report adds the stream metrics: spikes per second of wall time, spikes
// per CPU-second of the whole process (writer, server, subscriber and the
// kernel's work on their behalf: what one core sustains), and MB/s.
func report(b *testing.B, cpu time.Duration, bytes int64) {
	spikes := float64(b.N) * streamSpikesOp
	b.ReportMetric(spikes/b.Elapsed().Seconds(), "spikes/s")
	b.ReportMetric(spikes/cpu.Seconds(), "spikes/s/core")
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
	b.ReportMetric(float64(bytes)/spikes, "B/spike")
}

// BenchmarkStreamFile writes the stream to a file (the page cache; no
// fsync).
func BenchmarkStreamFile(b *testing.B) {
	counts, ids := streamBlock()
	path := filepath.Join(b.TempDir(), "bench.myelin")
	var bytes int64
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		cw := &countingWriter{w: f}
		writeStream(b, cw, counts, ids)
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		bytes += cw.n
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	report(b, cpu, bytes)
}

// BenchmarkStreamSocket writes the stream into a live server (engine/live)
// with one subscriber on loopback that reads and discards it, over TCP and
// over a Unix socket. The subscriber runs in this process, so the CPU time
// counts both ends.
func BenchmarkStreamSocket(b *testing.B) {
	counts, ids := streamBlock()
	dir, err := os.MkdirTemp("", "mbench")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, addr := range []string{"127.0.0.1:0", "unix:" + filepath.Join(dir, "bench.sock")} {
		name := "tcp"
		if addr[0] == 'u' {
			name = "unix"
		}
		b.Run(name, func(b *testing.B) {
			var bytes int64
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for range b.N {
				srv := live.New(live.Options{})
				where, err := srv.Listen(addr, live.ListenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				conn, err := live.Dial(context.Background(), where)
				if err != nil {
					b.Fatal(err)
				}
				got := make(chan int64)
				go func() {
					n, _ := io.Copy(io.Discard, conn)
					conn.Close()
					got <- n
				}()
				if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
					b.Fatal(err)
				}
				writeStream(b, srv, counts, ids)
				if err := srv.Close(); err != nil {
					b.Fatal(err)
				}
				n := <-got
				if n == 0 {
					b.Fatal("the subscriber read nothing")
				}
				bytes += n
			}
			cpu := cpuTime(b) - cpu0
			b.StopTimer()
			report(b, cpu, bytes)
		})
	}
}
