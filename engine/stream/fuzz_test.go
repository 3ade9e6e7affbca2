package stream

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the Reader and ReadAll: they must
// never panic, every error must be an *Error naming a record start inside
// the input, and a successful read must account for every byte. Seeds are
// real streams, whole and cut.
func FuzzReader(f *testing.F) {
	for i, ts := range []testStream{
		makeTestStream(f, 1, 1, 1),
		makeTestStream(f, 2, 3, 5),
		makeTestStream(f, 3, 2, 40),
	} {
		f.Add(ts.data)
		f.Add(ts.data[:ts.offsets[1]])
		f.Add(ts.data[:len(ts.data)-1-i])
	}
	f.Add([]byte{})
	f.Add([]byte("not a stream at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data))
		n := 0
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				if rd.Offset() != int64(len(data)) {
					t.Fatalf("clean end at byte %d of %d", rd.Offset(), len(data))
				}
				break
			}
			if err != nil {
				var se *Error
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if se.Index != n || se.Offset != rd.Offset() || se.Offset > int64(len(data)) {
					t.Fatalf("error %v: want record %d at byte %d", err, n, rd.Offset())
				}
				if _, again := rd.Next(); again != err {
					t.Fatalf("second Next: %v, want the same error", again)
				}
				break
			}
			if rec == nil {
				t.Fatal("nil record without error")
			}
			n++
		}
		res, err := ReadAll(bytes.NewReader(data))
		if res == nil {
			t.Fatal("ReadAll returned a nil Result")
		}
		if err == nil && res.Header == nil {
			t.Fatal("ReadAll succeeded without a header")
		}
		if len(res.Steps) != len(res.IDs) {
			t.Fatalf("%d steps but %d ids", len(res.Steps), len(res.IDs))
		}
		for _, p := range res.Header.GetPopulations() {
			times, ids := res.PopulationSpikes(p.GetName())
			if len(times) != len(ids) {
				t.Fatal("PopulationSpikes: lengths differ")
			}
		}
	})
}
