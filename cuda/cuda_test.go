//go:build cuda

package cuda

// These tests need an NVIDIA GPU and driver: a binary that imports
// gorgonia.org/cu exits at start-up without them. Build them here with
// "make cuda-test-bin" and run bin/cuda.test -test.v on the GPU machine.

import (
	"strings"
	"sync"
	"testing"

	"github.com/myelin-sim/myelin/cuda/driver"
)

func openDevice(t testing.TB) *driver.Device {
	t.Helper()
	d, err := driver.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

func sanity(t *testing.T, d *driver.Device) *driver.Function {
	t.Helper()
	m, err := d.LoadEmbedded("sanity")
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Function("myelin_sanity")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func checkSanity(t *testing.T, got []int32) {
	t.Helper()
	for i, v := range got {
		if v != int32(2*i) {
			t.Fatalf("out[%d] = %d, want %d", i, v, 2*i)
		}
	}
}

func TestDevice(t *testing.T) {
	d := openDevice(t)
	info := d.Info()
	t.Logf("%+v", info)
	if info.Name == "" || info.SMs <= 0 || info.TotalMemory == 0 || info.DriverVersion < 11000 {
		t.Errorf("implausible device info %+v", info)
	}
	free, total, err := d.FreeMemory()
	if err != nil || free == 0 || free > total || total != info.TotalMemory {
		t.Errorf("FreeMemory() = %d, %d, %v (TotalMemory %d)", free, total, err, info.TotalMemory)
	}
	if !driver.Available() {
		t.Error("driver.Available() = false with an open device")
	}
}

func TestLaunchAndCopy(t *testing.T) {
	d := openDevice(t)
	f := sanity(t, d)
	const n = 1000
	buf, err := d.Alloc("out", 4*n)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	if err := f.Launch(driver.Dim3{X: (n + 255) / 256}, driver.Dim3{X: 256}, 0, nil, buf, int32(n)); err != nil {
		t.Fatal(err)
	}
	out := make([]int32, n)
	if err := driver.Download(out, buf); err != nil {
		t.Fatal(err)
	}
	checkSanity(t, out)

	// Errors name the kernel, the geometry and the argument.
	err = f.Launch(driver.Dim3{X: 1}, driver.Dim3{X: 4096}, 0, nil, buf, int32(n))
	if err == nil || !strings.Contains(err.Error(), "myelin_sanity") || !strings.Contains(err.Error(), "(4096,1,1)") {
		t.Errorf("oversized block: %v", err)
	}
	if err := f.Launch(driver.Dim3{X: 1}, driver.Dim3{X: 1}, 0, nil, buf, n); err == nil || !strings.Contains(err.Error(), "argument 1") {
		t.Errorf("int argument: %v", err)
	}
	if err := driver.Upload(buf, make([]int32, n+1)); err == nil || !strings.Contains(err.Error(), `"out"`) {
		t.Errorf("oversized upload: %v", err)
	}
	if _, err := d.Alloc("huge", 1<<50); err == nil || !driver.IsOutOfMemory(err) || !strings.Contains(err.Error(), `"huge"`) {
		t.Errorf("huge alloc: %v", err)
	}
}

func TestGraphPinnedStream(t *testing.T) {
	d := openDevice(t)
	f := sanity(t, d)
	const n = 4096
	s, err := d.NewStream("main")
	if err != nil {
		t.Fatal(err)
	}
	buf, err := d.Alloc("out", 4*n)
	if err != nil {
		t.Fatal(err)
	}
	host, err := d.AllocPinned("spikes", 4*n)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Free()
	g, err := s.Capture("step", func() error {
		if err := buf.Fill32(7, s); err != nil {
			return err
		}
		return f.Launch(driver.Dim3{X: n / 128}, driver.Dim3{X: 128}, 0, s, buf, int32(n))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	for range 3 {
		if err := g.Launch(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CopyToHost(host, 0, buf, 0, 4*n); err != nil {
		t.Fatal(err)
	}
	if err := s.Synchronize(); err != nil {
		t.Fatal(err)
	}
	got := host.Uint32s()
	out := make([]int32, len(got))
	for i, v := range got {
		out[i] = int32(v)
	}
	checkSanity(t, out)
	if len(host.Bytes()) != 4*n {
		t.Errorf("len(Bytes()) = %d", len(host.Bytes()))
	}
}

func TestCooperativeAndAttributes(t *testing.T) {
	d := openDevice(t)
	f := sanity(t, d)
	regs, err := f.Attribute(driver.NumRegs)
	if err != nil || regs <= 0 {
		t.Errorf("driver.NumRegs = %d, %v", regs, err)
	}
	if err := f.SetAttribute(driver.MaxDynamicSharedMemory, 64<<10); err != nil {
		t.Error(err)
	}
	per, err := f.MaxActiveBlocksPerSM(256, 0)
	if err != nil || per <= 0 {
		t.Fatalf("MaxActiveBlocksPerSM = %d, %v", per, err)
	}
	if !d.Info().CooperativeLaunch {
		t.Skip("device has no cooperative launch")
	}
	blocks := per * d.Info().SMs
	n := blocks * 256
	buf, err := d.Alloc("out", int64(4*n))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.LaunchCooperative(driver.Dim3{X: blocks}, driver.Dim3{X: 256}, 0, nil, buf, int32(n)); err != nil {
		t.Fatal(err)
	}
	out := make([]int32, n)
	if err := driver.Download(out, buf); err != nil {
		t.Fatal(err)
	}
	checkSanity(t, out)
	if err := f.LaunchCooperative(driver.Dim3{X: blocks + d.Info().SMs*64}, driver.Dim3{X: 256}, 0, nil, buf, int32(n)); err == nil {
		t.Error("oversized cooperative grid launched")
	}
}

// TestDoFromManyGoroutines checks that concurrent callers are serialised
// onto the device thread and that a nested Do does not deadlock.
func TestDoFromManyGoroutines(t *testing.T) {
	d := openDevice(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := d.Do(func() error {
				_, _, err := d.FreeMemory() // nested Do
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Do(func() error { return nil }); err == nil {
		t.Error("Do after Close succeeded")
	}
}
