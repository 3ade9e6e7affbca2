package stream_test

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/spec"
	"github.com/myelin-sim/myelin/engine/stream"
)

// Every dt a spec may have is one a stream's header may carry, and no
// other: the reader's range is the validator's.
func TestDtRangeIsTheSpecs(t *testing.T) {
	if stream.MinDtMs != spec.MinDtMs || stream.MaxDtMs != spec.MaxDtMs {
		t.Errorf("stream dt range [%g, %g], spec [%g, %g]", stream.MinDtMs, stream.MaxDtMs, spec.MinDtMs, spec.MaxDtMs)
	}
}
