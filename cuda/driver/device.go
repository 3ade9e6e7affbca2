//go:build cuda

package driver

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"

	"gorgonia.org/cu"

	"github.com/myelin-sim/myelin/kernels"
)

// Available reports whether a CUDA device can be used: the driver is
// loaded (otherwise gorgonia.org/cu has already stopped the process) and at
// least one device is present.
func Available() bool {
	n, err := cu.NumDevices()
	return err == nil && n > 0
}

// Device is one CUDA device with its own context. The context is current
// on exactly one OS thread, owned by a goroutine that runs the closures
// given to Do; every method of Device and of the objects it makes calls Do
// itself, so they may be used from any goroutine.
type Device struct {
	info Info
	dev  cu.Device
	ctx  cu.CUContext

	tid    atomic.Int64 // OS thread id of the device thread, -1 once it has gone
	jobs   chan job
	exited chan struct{}
	mu     sync.RWMutex // write-held by Close; read-held while a job is queued or running
	closed bool
}

type job struct {
	f    func() error
	done chan error
}

// Open creates a context on the device with the given ordinal on a new,
// locked OS thread and reads the device's description.
func Open(ordinal int) (*Device, error) {
	d := &Device{jobs: make(chan job), exited: make(chan struct{})}
	d.tid.Store(-1)
	started := make(chan error, 1)
	go d.loop(ordinal, started)
	if err := <-started; err != nil {
		return nil, fmt.Errorf("cuda: open device %d: %w", ordinal, err)
	}
	return d, nil
}

// loop is the device thread. It never unlocks the OS thread: when the
// goroutine returns the runtime ends the thread, and with it any CUDA state
// bound to it.
func (d *Device) loop(ordinal int, started chan<- error) {
	runtime.LockOSThread()
	defer close(d.exited)
	if err := d.setup(ordinal); err != nil {
		started <- err
		return
	}
	d.tid.Store(int64(syscall.Gettid()))
	started <- nil
	for j := range d.jobs {
		j.done <- run(j.f)
	}
	d.tid.Store(-1)
}

func (d *Device) setup(ordinal int) error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("counting devices: %w", driverErr(err))
	}
	if ordinal < 0 || ordinal >= n {
		return fmt.Errorf("no device %d (%d device(s) visible)", ordinal, n)
	}
	if d.dev, err = cu.GetDevice(ordinal); err != nil {
		return fmt.Errorf("cuDeviceGet: %w", driverErr(err))
	}
	if d.ctx, err = d.dev.MakeContext(cu.SchedAuto); err != nil {
		return fmt.Errorf("cuCtxCreate: %w", driverErr(err))
	}
	info, err := deviceInfo(d.dev, ordinal)
	if err != nil {
		_ = d.ctx.Destroy()
		return err
	}
	d.info = info
	return nil
}

func deviceInfo(dev cu.Device, ordinal int) (Info, error) {
	info := Info{Ordinal: ordinal}
	var err error
	if info.Name, err = deviceName(dev); err != nil {
		return info, err
	}
	if info.DriverVersion, err = DriverVersion(); err != nil {
		return info, err
	}
	total, err := dev.TotalMem()
	if err != nil {
		return info, fmt.Errorf("cuDeviceTotalMem: %w", driverErr(err))
	}
	info.TotalMemory = uint64(total)
	var coop int
	for _, a := range []struct {
		attr cu.DeviceAttribute
		dst  *int
	}{
		{cu.ComputeCapabilityMajor, &info.ComputeMajor},
		{cu.ComputeCapabilityMinor, &info.ComputeMinor},
		{cu.MultiprocessorCount, &info.SMs},
		{attrCooperativeLaunch, &coop},
	} {
		if *a.dst, err = dev.Attribute(a.attr); err != nil {
			return info, fmt.Errorf("cuDeviceGetAttribute(%d): %w", a.attr, driverErr(err))
		}
	}
	info.CooperativeLaunch = coop != 0
	return info, nil
}

// run calls f, turning a panic into an error so that one bad closure does
// not leave the caller of Do waiting forever.
func run(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: panic on the device thread: %v\n%s", r, debug.Stack())
		}
	}()
	return f()
}

// onThread reports whether the caller is the device thread. A locked
// goroutine is the only one that runs on its thread, so comparing thread
// ids identifies it.
func (d *Device) onThread() bool {
	return d.tid.Load() == int64(syscall.Gettid())
}

var errClosed = errors.New("cuda: device is closed")

// Do runs f on the device thread, where the device's context is current,
// and returns f's error. Calls from several goroutines are serialised. A
// Do inside f runs directly, so a caller may wrap a sequence of calls (a
// step loop, a capture) in one Do and pay the goroutine hop once. f must
// not wait for another goroutine that uses the device: that goroutine's Do
// would wait for f.
func (d *Device) Do(f func() error) error {
	if d.onThread() {
		return f()
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	return d.send(f)
}

func (d *Device) send(f func() error) error {
	done := make(chan error, 1)
	d.jobs <- job{f, done}
	return <-done
}

// Info describes the device.
func (d *Device) Info() Info { return d.info }

// FreeMemory returns the free and total device memory in bytes, as the
// driver sees them now (other processes' allocations included).
func (d *Device) FreeMemory() (free, total uint64, err error) {
	err = d.Do(func() error {
		free, total, err = memGetInfo()
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cuda: device %d: %w", d.info.Ordinal, err)
	}
	return free, total, nil
}

// Synchronize waits until all work on the device has finished.
func (d *Device) Synchronize() error {
	if err := d.Do(func() error { return driverErr(cu.Synchronize()) }); err != nil {
		return fmt.Errorf("cuda: synchronize device %d: %w", d.info.Ordinal, err)
	}
	return nil
}

// Close waits for the device's work to finish, destroys its context (which
// frees every module, buffer, pinned buffer, stream and graph made from
// it) and ends the device thread. Closing twice is harmless; Close must
// not be called from inside Do.
func (d *Device) Close() error {
	if d.onThread() {
		return errors.New("cuda: Device.Close called from inside Device.Do")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	err := d.send(func() error {
		serr := driverErr(cu.Synchronize())
		derr := driverErr(d.ctx.Destroy())
		return errors.Join(serr, derr)
	})
	d.closed = true
	close(d.jobs)
	<-d.exited
	if err != nil {
		return fmt.Errorf("cuda: close device %d: %w", d.info.Ordinal, err)
	}
	return nil
}

// LoadModule loads a PTX module into the device's context; the driver
// compiles it for the device. The name is for error messages. A JIT failure
// returns the driver's log.
func (d *Device) LoadModule(name string, ptx []byte) (*Module, error) {
	m := &Module{d: d, name: name}
	logBuf := make([]byte, 16<<10)
	err := d.Do(func() error {
		var err error
		m.m, err = cu.LoadDataEx(string(ptx), &cu.JITErrorLogBuffer{Buffer: logBuf})
		return driverErr(err)
	})
	runtime.KeepAlive(logBuf) // the driver writes the log through a raw pointer
	if err != nil {
		msg := fmt.Sprintf("cuda: load module %q (%d bytes of PTX)", name, len(ptx))
		if log := cString(logBuf); log != "" {
			msg += "\n\t" + log
		}
		if isCode(err, codeUnsupportedPTXVersion) {
			msg += fmt.Sprintf("\n\tthe PTX needs a newer NVIDIA driver than this one (CUDA %d.%d)",
				d.info.DriverVersion/1000, d.info.DriverVersion%1000/10)
		}
		return nil, fmt.Errorf("%s: %w", msg, err)
	}
	return m, nil
}

// LoadEmbedded loads the PTX module that package kernels embeds under name
// (kernels/<name>.cu).
func (d *Device) LoadEmbedded(name string) (*Module, error) {
	ptx, err := kernels.PTX(name)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	return d.LoadModule(name, ptx)
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
