// deliver.cu: phase two of a step as a kernel of its own (deliver.cuh
// holds the work), and the delivery of procedural projections
// (procedural.cuh).
#include "deliver.cuh"
#include "procedural.cuh"

// myelin_deliver(net, s, -): the spikes of step s (myelin_deliver_work over
// the grid). Thread 0 of block 0 also sets spk_off[s+1], where the spikes
// of step s+1 will go.
extern "C" __global__ void myelin_deliver(const __grid_constant__ MyelinNet net_, unsigned s, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        net->spk_off[s + 1] = net->spk_off[s] + net->spk_cnt[s];
    }
    myelin_deliver_work(net, s, blockIdx.x, gridDim.x);
}

// myelin_deliver_tiled(net, s, -): the spikes of step s by target tiles
// (myelin_deliver_tiled_work, launch.SegmentsTiled), in place of
// myelin_deliver; grid: up to a block per tile and part, with the tile's
// sums in dynamic shared memory (ptile_nd * ptile_nch * ptile_w ints).
// Thread 0 of block 0 also sets spk_off[s+1]. Its launch bounds hold the
// compiler to 64 registers a thread, so that blocks of 1,024 threads
// (launch.Config.PTileBlock's default) launch on any device.
extern "C" __global__ void __launch_bounds__(1024) myelin_deliver_tiled(const __grid_constant__ MyelinNet net_, unsigned s, unsigned unused)
{
    MYELIN_PTILE_ACC(acc);
    const MyelinNet *__restrict__ net = &net_;
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        net->spk_off[s + 1] = net->spk_off[s] + net->spk_cnt[s];
    }
    myelin_deliver_tiled_work(net, s, acc);
}

// myelin_deliver_proc(net, s, -): the rows of the procedural projections
// from the spikes of step s, regenerated (myelin_deliver_proc_work over the
// grid). A launch of its own, after the step's myelin_deliver (or the
// fused myelin_step that delivers it), so that the stored kernels keep
// their registers; the host launches it only for networks with procedural
// projections.
extern "C" __global__ void myelin_deliver_proc(const __grid_constant__ MyelinNet net_, unsigned s, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    myelin_deliver_proc_work(net, s, blockIdx.x, gridDim.x);
}
