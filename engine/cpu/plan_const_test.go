package cpu

import (
	"testing"
	"unsafe"

	"github.com/myelin-sim/myelin/engine/plan"
)

// The plan counts the delivery buckets with this backend's figures.
func TestPlanCountsTheBuckets(t *testing.T) {
	if plan.DeliveryBucketMinRing != bucketMinRing {
		t.Errorf("plan.DeliveryBucketMinRing = %d, the backend buckets from %d", plan.DeliveryBucketMinRing, bucketMinRing)
	}
	if got := bucketBudget * int(unsafe.Sizeof(event{})); plan.DeliveryBucketBytes != got {
		t.Errorf("plan.DeliveryBucketBytes = %d, the backend's budget is %d B", plan.DeliveryBucketBytes, got)
	}
	if plan.ProceduralRowBudget != procRowBudget {
		t.Errorf("plan.ProceduralRowBudget = %d, the backend's budget is %d targets", plan.ProceduralRowBudget, procRowBudget)
	}
	if got := int(unsafe.Sizeof(procRow{})); plan.ProceduralRowBytes != got {
		t.Errorf("plan.ProceduralRowBytes = %d, a procRow takes %d B", plan.ProceduralRowBytes, got)
	}
	if plan.DeliveryBucketChunkEvents != bucketChunk || plan.DeliveryBucketMinChunkEvents != bucketMinChunk {
		t.Errorf("plan's bucket chunks of %d to %d events, the backend's %d to %d", plan.DeliveryBucketMinChunkEvents, plan.DeliveryBucketChunkEvents, bucketMinChunk, bucketChunk)
	}
	for _, c := range []struct {
		slots uint32
		slow  bool
	}{{54, false}, {54, true}, {1000, false}, {3, true}} {
		keys := uint64(c.slots)
		if c.slow {
			keys *= 2
		}
		want := min(plan.DeliveryBucketChunkEvents, max(plan.DeliveryBucketMinChunkEvents, (plan.DeliveryBucketBytes/8)/keys))
		if got := bucketChunkFor(bucketBudget, c.slots, c.slow); uint64(got) != want {
			t.Errorf("%d slots, slow port %v: chunks of %d events, the plan counts %d", c.slots, c.slow, got, want)
		}
	}
}
