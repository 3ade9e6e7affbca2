// deliver.cu: phase two of a step as a kernel of its own (deliver.cuh
// holds the work).
#include "deliver.cuh"

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
