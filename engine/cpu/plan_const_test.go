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
	if got := bucketChunk * int(unsafe.Sizeof(event{})); plan.DeliveryBucketChunkBytes != got {
		t.Errorf("plan.DeliveryBucketChunkBytes = %d, the backend's chunks take %d B", plan.DeliveryBucketChunkBytes, got)
	}
}
