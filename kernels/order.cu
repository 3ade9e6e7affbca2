// order.cu: each step's spike ids in ascending order, made on the device at
// the end of a chunk (what the CPU backend's spike list is by construction:
// cpu.Backend.update in engine/cpu/step.go appends neurons in id order).
//
// myelin_update appends the ids of a step in whatever order its threads
// fire (the atomics deliver needs no order) and also sets each firing
// neuron's bit in the step's bitmask spk_bits[s * words, + words). Once the
// chunk's last deliver has read the lists, three launches rewrite every
// step's list in place, in ascending order, and clear the bitmask for the
// next chunk:
//
//   myelin_order_count  one thread per (step, tile of MYELIN_ORDER_TILE
//                       words): the tile's spikes, into tile_cnt
//   myelin_order_scan   one thread per step: tile_cnt becomes each tile's
//                       first index in spk_ids (an exclusive prefix sum
//                       from spk_off[s])
//   myelin_order_write  one thread per (step, tile): the tile's ids in
//                       ascending order from that index; its words cleared
//
// No thread waits for another, so the result does not depend on the
// launch geometry, and the host copies finished lists without sorting.
#include "network.cuh"

// myelin_order_tile returns, for thread i of a launch over m steps, its
// step *s, the tile's first word in the bitmask *w0 and its word count
// *nw; false if the thread has no tile.
__device__ __forceinline__ bool myelin_order_tile(const MyelinNet *net, unsigned long long i, unsigned m, unsigned *s,
                                                  unsigned long long *w0, unsigned *nw)
{
    if (i >= (unsigned long long)m * net->tiles) {
        return false;
    }
    *s = (unsigned)(i / net->tiles);
    unsigned tile = (unsigned)(i % net->tiles);
    unsigned first = tile * MYELIN_ORDER_TILE;
    *w0 = (unsigned long long)*s * net->words + first;
    *nw = net->words - first < MYELIN_ORDER_TILE ? net->words - first : MYELIN_ORDER_TILE;
    return true;
}

// myelin_order_count(net, m, -): tile_cnt[s * tiles + tile] = the number of
// bits set in the tile.
extern "C" __global__ void myelin_order_count(const __grid_constant__ MyelinNet net_, unsigned m, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    unsigned long long i = myelin_gid();
    unsigned s, nw;
    unsigned long long w0;
    if (!myelin_order_tile(net, i, m, &s, &w0, &nw)) {
        return;
    }
    unsigned c = 0;
    for (unsigned k = 0; k < nw; k++) {
        c += __popc(net->spk_bits[w0 + k]);
    }
    net->tile_cnt[i] = c;
}

// myelin_order_scan(net, m, -): for each step s < m (one thread each), the
// tiles' counts become their first indices in spk_ids.
extern "C" __global__ void myelin_order_scan(const __grid_constant__ MyelinNet net_, unsigned m, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    unsigned long long s = myelin_gid();
    if (s >= m) {
        return;
    }
    unsigned o = net->spk_off[s];
    unsigned *c = net->tile_cnt + s * net->tiles;
    for (unsigned t = 0; t < net->tiles; t++) {
        unsigned x = c[t];
        c[t] = o;
        o += x;
    }
}

// myelin_order_write(net, m, -): the tile's ids, ascending, from its first
// index; its words cleared.
extern "C" __global__ void myelin_order_write(const __grid_constant__ MyelinNet net_, unsigned m, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    unsigned long long i = myelin_gid();
    unsigned s, nw;
    unsigned long long w0;
    if (!myelin_order_tile(net, i, m, &s, &w0, &nw)) {
        return;
    }
    unsigned o = net->tile_cnt[i];
    unsigned g0 = (unsigned)(w0 - (unsigned long long)s * net->words) * 32u;
    for (unsigned k = 0; k < nw; k++) {
        unsigned x = net->spk_bits[w0 + k];
        if (x == 0) {
            continue;
        }
        net->spk_bits[w0 + k] = 0;
        while (x != 0) {
            unsigned b = (unsigned)__ffs((int)x) - 1u;
            x &= x - 1u;
            net->spk_ids[o++] = g0 + 32u * k + b;
        }
    }
}
