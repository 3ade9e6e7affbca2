//go:build cuda

package driver

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// Buffer is an allocation in device memory. Its name appears in every
// error about it.
type Buffer struct {
	d    *Device
	ptr  cu.DevicePtr
	size int64
	name string
}

// Alloc allocates size bytes of device memory (not cleared).
func (d *Device) Alloc(name string, size int64) (*Buffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("cuda: alloc %q: size %d bytes, want > 0", name, size)
	}
	b := &Buffer{d: d, size: size, name: name}
	err := d.Do(func() error {
		var err error
		b.ptr, err = cu.MemAlloc(size)
		return driverErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: alloc %q (%d bytes) on device %d: %w", name, size, d.info.Ordinal, err)
	}
	return b, nil
}

// Name returns the buffer's name.
func (b *Buffer) Name() string { return b.name }

// Size returns the buffer's size in bytes.
func (b *Buffer) Size() int64 { return b.size }

// Ptr returns the device address (0 once freed).
func (b *Buffer) Ptr() cu.DevicePtr { return b.ptr }

// Free releases the buffer; freeing twice is harmless.
func (b *Buffer) Free() error {
	if b.ptr == 0 {
		return nil
	}
	if err := b.d.Do(func() error { return driverErr(cu.MemFree(b.ptr)) }); err != nil {
		return fmt.Errorf("cuda: free %q (%d bytes): %w", b.name, b.size, err)
	}
	b.ptr = 0
	return nil
}

// Zero sets the whole buffer to zero bytes, asynchronously on stream s
// (nil: the legacy default stream).
func (b *Buffer) Zero(s *Stream) error {
	if err := b.live(); err != nil {
		return err
	}
	if err := b.d.Do(func() error { return driverErr(cu.MemsetD8Async(b.ptr, 0, b.size, s.cu())) }); err != nil {
		return fmt.Errorf("cuda: zero %q (%d bytes) on stream %s: %w", b.name, b.size, s.label(), err)
	}
	return nil
}

// Fill32 sets every 4-byte word of the buffer to v, asynchronously on
// stream s (nil: the legacy default stream). The size must be a multiple of 4.
func (b *Buffer) Fill32(v uint32, s *Stream) error {
	if err := b.live(); err != nil {
		return err
	}
	if b.size%4 != 0 {
		return fmt.Errorf("cuda: fill %q: size %d bytes is not a multiple of 4", b.name, b.size)
	}
	if err := b.d.Do(func() error { return driverErr(cu.MemsetD32Async(b.ptr, uint(v), b.size/4, s.cu())) }); err != nil {
		return fmt.Errorf("cuda: fill %q (%d bytes) with %#x on stream %s: %w", b.name, b.size, v, s.label(), err)
	}
	return nil
}

func (b *Buffer) live() error {
	if b.ptr == 0 {
		return fmt.Errorf("cuda: buffer %q used after Free", b.name)
	}
	return nil
}

// Plain is the element types that Upload and Download copy: fixed-size
// numbers, which hold no Go pointers.
type Plain interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// Upload copies src into the start of b and returns when the copy is done.
func Upload[T Plain](b *Buffer, src []T) error {
	n := int64(len(src)) * int64(unsafe.Sizeof(*new(T)))
	if err := b.span("upload to", 0, n); err != nil || n == 0 {
		return err
	}
	err := b.d.Do(func() error {
		return driverErr(cu.MemcpyHtoD(b.ptr, unsafe.Pointer(unsafe.SliceData(src)), n))
	})
	if err != nil {
		return fmt.Errorf("cuda: upload %d bytes to %q (%d bytes): %w", n, b.name, b.size, err)
	}
	return nil
}

// Download copies the start of b into dst and returns when the copy is done.
func Download[T Plain](dst []T, b *Buffer) error {
	n := int64(len(dst)) * int64(unsafe.Sizeof(*new(T)))
	if err := b.span("download from", 0, n); err != nil || n == 0 {
		return err
	}
	err := b.d.Do(func() error {
		return driverErr(cu.MemcpyDtoH(unsafe.Pointer(unsafe.SliceData(dst)), b.ptr, n))
	})
	if err != nil {
		return fmt.Errorf("cuda: download %d bytes from %q (%d bytes): %w", n, b.name, b.size, err)
	}
	return nil
}

// span checks that bytes [off, off+n) lie inside the buffer.
func (b *Buffer) span(op string, off, n int64) error {
	if err := b.live(); err != nil {
		return err
	}
	if off < 0 || n < 0 || off > b.size || n > b.size-off {
		return fmt.Errorf("cuda: %s %q: bytes [%d, %d) outside its %d bytes", op, b.name, off, off+n, b.size)
	}
	return nil
}

// CopyToHost enqueues on s a copy of n bytes from src at byte srcOff to the
// pinned buffer dst at byte dstOff. It returns at once; the data is there
// once s has been synchronised (or an event after it has completed).
func (s *Stream) CopyToHost(dst *Pinned, dstOff int64, src *Buffer, srcOff, n int64) error {
	if err := src.span("copy from", srcOff, n); err != nil {
		return err
	}
	if err := dst.span("copy to", dstOff, n); err != nil {
		return err
	}
	err := src.d.Do(func() error {
		return driverErr(cu.MemcpyDtoHAsync(unsafe.Add(dst.p, dstOff), src.ptr+cu.DevicePtr(srcOff), n, s.cu()))
	})
	if err != nil {
		return fmt.Errorf("cuda: copy %d bytes from %q+%d to pinned %q+%d on stream %s: %w",
			n, src.name, srcOff, dst.name, dstOff, s.label(), err)
	}
	return nil
}

// CopyToDevice enqueues on s a copy of n bytes from the pinned buffer src
// at byte srcOff to dst at byte dstOff. src must not change until the copy
// has completed.
func (s *Stream) CopyToDevice(dst *Buffer, dstOff int64, src *Pinned, srcOff, n int64) error {
	if err := dst.span("copy to", dstOff, n); err != nil {
		return err
	}
	if err := src.span("copy from", srcOff, n); err != nil {
		return err
	}
	err := dst.d.Do(func() error {
		return driverErr(cu.MemcpyHtoDAsync(dst.ptr+cu.DevicePtr(dstOff), unsafe.Add(src.p, srcOff), n, s.cu()))
	})
	if err != nil {
		return fmt.Errorf("cuda: copy %d bytes from pinned %q+%d to %q+%d on stream %s: %w",
			n, src.name, srcOff, dst.name, dstOff, s.label(), err)
	}
	return nil
}

// Stream is a CUDA stream. A nil *Stream stands for the legacy default
// stream wherever a stream is taken.
type Stream struct {
	d    *Device
	s    cu.Stream
	name string
}

// NewStream creates a stream that does not synchronise with the legacy
// default stream. The name is for error messages.
func (d *Device) NewStream(name string) (*Stream, error) {
	s := &Stream{d: d, name: name}
	err := d.Do(func() error {
		var err error
		s.s, err = cu.MakeStream(cu.NonBlocking)
		return driverErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: create stream %q: %w", name, err)
	}
	return s, nil
}

func (s *Stream) cu() cu.Stream {
	if s == nil {
		return cu.NoStream
	}
	return s.s
}

func (s *Stream) label() string {
	if s == nil {
		return "default"
	}
	return fmt.Sprintf("%q", s.name)
}

// Synchronize waits until all work enqueued on the stream has finished.
func (s *Stream) Synchronize() error {
	if err := s.d.Do(func() error { return driverErr(s.s.Synchronize()) }); err != nil {
		return fmt.Errorf("cuda: synchronize stream %s: %w", s.label(), err)
	}
	return nil
}

// Destroy destroys the stream; work already enqueued still completes.
func (s *Stream) Destroy() error {
	if err := s.d.Do(func() error { return driverErr(s.s.Destroy()) }); err != nil {
		return fmt.Errorf("cuda: destroy stream %s: %w", s.label(), err)
	}
	return nil
}
