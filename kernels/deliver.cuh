// deliver.cuh: phase two of a step (cpu.Backend.deliver in
// engine/cpu/step.go): every spike of step t adds its synapses' weights to
// the ring slots of their arrival steps t + delay (on the channel of the
// weight's sign, or the slow port). The adds are int32
// atomics, so their order does not change the sums. The work is a device
// function so that myelin_deliver (deliver.cu) and the fused myelin_step
// (update.cu) share it.
#ifndef MYELIN_DELIVER_CUH
#define MYELIN_DELIVER_CUH

#include "network.cuh"

// myelin_syn_weight returns the weight that synapse k, of the row of spike
// pre (of population pp) of step t, adds onto target (of population tq):
// for a compact population, looked up by the target's population in wtab;
// otherwise stored, weight[wk + k] (wk: myelin_pop_weights), and, under
// STDP, depressed by
// the target's trace and stored back; then scaled by the spike's
// short-term plasticity factor. The per-synapse weight of every delivery
// (myelin_deliver_syn, myelin_deliver_tiled_work), written once; the
// thread that calls it owns synapse k in this launch.
__device__ __forceinline__ int myelin_syn_weight(const MyelinNet *net, unsigned pre, unsigned pp, unsigned target, unsigned tq,
                                                 bool compact, unsigned long long wk, unsigned long long k, unsigned long long t)
{
    int w;
    if (compact) {
        w = net->wtab[pp * net->n_pops + tq];
    } else {
        unsigned long long wi = wk + k;
        w = net->weight[wi];
        if (net->n_stdp != 0) {
            // STDP: depressed by the target's trace of the spikes before
            // t, and stored (cpu.Backend.depress); this thread alone
            // handles this synapse in this launch.
            int set = net->stdp_of[pp * net->n_pops + tq];
            if (set >= 0) {
                const StdpDesc *sd = &net->stdp_sets[set];
                if (sd->coef.Depress != 0.0f) {
                    float km = STDP_TraceAt(net->stdp_post[sd->post_off + (target - sd->post_first)], t, sd->coef.MinusRate);
                    if (km != 0.0f) {
                        w = STDP_Depression(&sd->coef, w, km);
                        net->weight[wi] = w;
                    }
                }
            }
        }
    }
    if (net->n_stp != 0) {
        // Short-term plasticity: scaled by the factor of this spike
        // (cpu.Backend.deliverSTP).
        int set = net->stp_of[pp * net->n_pops + tq];
        if (set >= 0) {
            const StpDesc *sd = &net->stp_sets[set];
            w = TsodyksMarkram_Scale(w, net->stp_f[(t & 1ull) * net->stp_entries + sd->off + (pre - sd->first)]);
        }
    }
    return w;
}

// myelin_deliver_syn delivers synapse k of the row of spike pre (of
// population pp) of step t, whose ring slot is cur of slots: the
// per-synapse work of both segmentations of myelin_deliver_work, written
// once. Its weight is myelin_syn_weight's.
__device__ __forceinline__ void myelin_deliver_syn(const MyelinNet *net, unsigned pre, unsigned pp, unsigned long long k,
                                                   unsigned long long t, unsigned long long cur)
{
    unsigned long long slots = net->ring_slots;
    unsigned long long n = net->n;
    unsigned dbits = net->delay_bits;
    unsigned dmask = (1u << dbits) - 1u;
    unsigned p = net->packed[k];
    unsigned target = p >> dbits;
    unsigned d = p & dmask;
    // A synapse onto the slow excitatory port carries port_bit in its delay
    // field (0 when the network has no such synapse) and goes to
    // ring_slow; its weight is never negative.
    int *ring_e = net->ring_ex;
    if ((d & net->port_bit) != 0) {
        d ^= net->port_bit;
        ring_e = net->ring_slow;
    }
    unsigned long long sl = cur + d;
    if (sl >= slots) {
        sl -= slots;
    }
    unsigned long long idx = sl * n + target;
    // The target's population, searched once, where a compact weight or
    // plasticity needs it.
    unsigned long long wk;
    bool compact = myelin_pop_weights(net, pp, &wk);
    unsigned tq = (compact || net->n_stp != 0 || net->n_stdp != 0) ? myelin_pop_of(net, target) : 0;
    int w = myelin_syn_weight(net, pre, pp, target, tq, compact, wk, k, t);
    if (w >= 0) {
        atomicAdd(&ring_e[idx], w);
    } else {
        atomicAdd(&net->ring_in[idx], w);
    }
}

// myelin_deliver_rows delivers whole rows of the step's cnt spikes (from
// spk_ids[off]) by groups of threads: group g of ng takes spikes g, g + ng,
// ..., one at a time, and its width threads (this one is lane) take the
// spike's row in a width-stride loop. Blocks are the groups in
// myelin_deliver_work's per-spike mode, warps in myelin_deliver_warps.
__device__ __forceinline__ void myelin_deliver_rows(const MyelinNet *net, unsigned cnt, unsigned off,
                                                    unsigned long long t, unsigned long long cur, unsigned g,
                                                    unsigned ng, unsigned lane, unsigned width)
{
    for (unsigned i = g; i < cnt; i += ng) {
        unsigned pre = net->spk_ids[off + i];
        unsigned long long r1 = net->row_ptr[pre + 1];
        unsigned long long k = net->row_ptr[pre] + lane;
        if (k >= r1) {
            continue;
        }
        unsigned pp = myelin_pop_of(net, pre);
        for (; k < r1; k += width) {
            myelin_deliver_syn(net, pre, pp, k, t, cur);
        }
    }
}

// myelin_deliver_work delivers the spikes of step-in-chunk s as block b of
// nb blocks, in one of two segmentations (launch.Config.Segments), chosen
// by net->segs:
//   - segs > 0, global: a block-stride loop over work items (spike i of
//     step s, segment seg of its CSR row); the block takes one item at a
//     time and its threads take the item's blockDim.x synapses, one each.
//     segs is the longest row of the network divided by blockDim.x,
//     rounded up, so every spike costs as many items as the longest row
//     (a cliff for skewed out-degrees: one hub neuron makes every spike
//     cost its row).
//   - segs == 0, per spike: a block-stride loop over the step's spikes;
//     the block takes one spike at a time and its threads take the spike's
//     row in a blockDim.x-stride loop. A spike costs its own row, whatever
//     the longest one. (A network without synapses also has segs == 0:
//     either way it delivers nothing.)
// Both hand each synapse to exactly one thread (myelin_deliver_syn), so
// the ring sums and stored weights are the same. (Procedural projections
// are delivered by a launch of their own: procedural.cuh.)
__device__ __forceinline__ void myelin_deliver_work(const MyelinNet *net, unsigned s, unsigned b, unsigned nb)
{
    unsigned cnt = net->spk_cnt[s];
    unsigned off = net->spk_off[s];
    unsigned segs = net->segs;
    unsigned long long t = *net->step + s;
    unsigned long long cur = t % (unsigned long long)net->ring_slots;
    if (segs == 0) {
        myelin_deliver_rows(net, cnt, off, t, cur, b, nb, threadIdx.x, blockDim.x);
        return;
    }
    unsigned long long items = (unsigned long long)cnt * segs;
    for (unsigned long long item = b; item < items; item += nb) {
        unsigned i = (unsigned)(item / segs);
        unsigned seg = (unsigned)(item % segs);
        unsigned pre = net->spk_ids[off + i];
        unsigned long long r1 = net->row_ptr[pre + 1];
        unsigned long long k = net->row_ptr[pre] + (unsigned long long)seg * blockDim.x + threadIdx.x;
        if (k < r1) {
            myelin_deliver_syn(net, pre, myelin_pop_of(net, pre), k, t, cur);
        }
    }
}

// myelin_deliver_warps delivers the spikes of step-in-chunk s with one
// block alone (the persistent kernel on a grid of one block): each warp
// takes one spike at a time, a warp-stride loop over the step's spikes, and
// its lanes take the spike's row in a 32-stride loop, so the few spikes of
// a small network's step go in parallel rather than one after another
// through the whole block. The last warp of a block that is not a multiple
// of 32 strides by its own width. Each synapse goes to exactly one thread
// (myelin_deliver_syn), as in myelin_deliver_work.
__device__ __forceinline__ void myelin_deliver_warps(const MyelinNet *net, unsigned s)
{
    unsigned cnt = net->spk_cnt[s];
    unsigned off = net->spk_off[s];
    unsigned long long t = *net->step + s;
    unsigned long long cur = t % (unsigned long long)net->ring_slots;
    unsigned warp = threadIdx.x / 32u;
    unsigned width = blockDim.x - warp * 32u < 32u ? blockDim.x - warp * 32u : 32u;
    myelin_deliver_rows(net, cnt, off, t, cur, warp, (blockDim.x + 31u) / 32u, threadIdx.x % 32u, width);
}

// myelin_deliver_tiled_work delivers the spikes of step-in-chunk s by
// target tiles (launch.SegmentsTiled), acc being the block's shared
// memory, ptile_nd * ptile_nch * ptile_w ints. The work items are (tile,
// part): tile u holds targets [u * ptile_w, (u+1) * ptile_w), and each of
// its ptile_split parts takes every ptile_split-th run of blockDim.x of
// the step's spikes; block b does items b, b + nb, .... For each item the
// block's threads take the part's spikes, one spike each; ptile_off gives
// where the tile's synapses start and end in the spike's row (rows are
// sorted by target), and each synapse adds its weight to the block's sum
// for (delay, channel, target) in shared memory. Then the block adds its
// non-zero sums to the ring slots: with one part per tile no other block
// of the launch writes the tile's targets, so plain read-modify-writes;
// with more, atomic adds, to consecutive addresses. Either way a target
// costs at most one global update per delay, channel and part instead of
// one atomic per synapse. The channel is chosen as myelin_deliver_syn
// chooses it; int32 sums wrap alike in any order, so the rings are the
// same as the other segmentations give. The weights are
// myelin_syn_weight's, as there (short-term plasticity, STDP depression):
// each synapse of a spike belongs to one tile and one part, so to one
// thread of the launch. Every thread of the block reaches every barrier.
__device__ __forceinline__ void myelin_deliver_tiled_work(const MyelinNet *net, unsigned s, int *acc)
{
    unsigned cnt = net->spk_cnt[s];
    unsigned off = net->spk_off[s];
    unsigned long long t = *net->step + s;
    unsigned long long slots = net->ring_slots;
    unsigned long long cur = t % slots;
    unsigned long long n = net->n;
    unsigned dbits = net->delay_bits;
    unsigned dmask = (1u << dbits) - 1u;
    unsigned w = net->ptile_w, nt = net->n_ptiles, d0 = net->ptile_d0, nch = net->ptile_nch;
    unsigned split = net->ptile_split;
    unsigned span = net->ptile_nd * nch * w; // the launch's shared memory (the host sizes ptile_w so)
    unsigned long long items = (unsigned long long)nt * split;
    for (unsigned long long it = blockIdx.x; it < items; it += gridDim.x) {
        unsigned u = (unsigned)(it / split), part = (unsigned)(it % split);
        unsigned t0 = u * w;
        // The population of the tile's targets where one holds them all
        // (most tiles): no search per synapse for a compact weight.
        unsigned long long t1 = (unsigned long long)t0 + w < n ? (unsigned long long)t0 + w : n;
        unsigned tq0 = myelin_pop_of(net, t0);
        bool one_pop = tq0 == myelin_pop_of(net, (unsigned)(t1 - 1));
        for (unsigned j = threadIdx.x; j < span; j += blockDim.x) {
            acc[j] = 0;
        }
        __syncthreads();
        for (unsigned long long i = (unsigned long long)part * blockDim.x + threadIdx.x; i < cnt; i += (unsigned long long)split * blockDim.x) {
            unsigned pre = net->spk_ids[off + i];
            const unsigned short *to = net->ptile_off + (unsigned long long)pre * (nt + 1) + u;
            // No early exit for a row that misses the tile (rare): the
            // row's start and population then load beside the tile's
            // offsets instead of after them (a compiler sinks loads past
            // a branch to their use).
            unsigned long long r0 = net->row_ptr[pre];
            unsigned a = to[0], e = to[1];
            unsigned pp = myelin_pop_of(net, pre);
            unsigned long long wk;
            bool compact = myelin_pop_weights(net, pp, &wk);
            for (unsigned long long k = r0 + a; k < r0 + e; k++) {
                unsigned p = net->packed[k];
                unsigned target = p >> dbits;
                unsigned d = p & dmask;
                bool slow = (d & net->port_bit) != 0;
                if (slow) {
                    d ^= net->port_bit;
                }
                unsigned tq = one_pop ? tq0 : myelin_pop_of(net, target);
                int wt = myelin_syn_weight(net, pre, pp, target, tq, compact, wk, k, t);
                unsigned ch = wt >= 0 ? (slow ? 2u : 0u) : 1u;
                atomicAdd(&acc[((d - d0) * nch + ch) * w + (target - t0)], wt);
            }
        }
        __syncthreads();
        for (unsigned j = threadIdx.x; j < span; j += blockDim.x) {
            int v = acc[j];
            if (v == 0) {
                continue;
            }
            unsigned x = j % w, q = j / w;
            unsigned ch = q % nch;
            unsigned long long sl = cur + d0 + q / nch;
            if (sl >= slots) {
                sl -= slots;
            }
            int *ring = ch == 0 ? net->ring_ex : (ch == 1 ? net->ring_in : net->ring_slow);
            // In unsigned arithmetic: it wraps as the atomics do, where a
            // signed overflow would be undefined.
            unsigned *slot = (unsigned *)&ring[sl * n + t0 + x];
            if (split == 1) {
                *slot += (unsigned)v;
            } else {
                atomicAdd(slot, (unsigned)v);
            }
        }
        // The next item clears acc only after every thread has read it.
        __syncthreads();
    }
}

#endif // MYELIN_DELIVER_CUH
