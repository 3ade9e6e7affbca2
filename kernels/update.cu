// update.cu: phase one of a step (cpu.Backend.update in engine/cpu/step.go)
// and the bookkeeping of a recording chunk. Every kernel takes the network
// (network.cuh) and two 32-bit arguments; the step it works on is the
// device counter *net->step plus its step-in-chunk s, so one CUDA graph of a
// chunk serves every chunk.
//
//   myelin_chunk_begin  zero the spike counts of the chunk's m steps
//   myelin_events       add the spike-array events of step t to ring slot t
//   myelin_update       one thread per neuron of every spiking population:
//                       ring slot t of each channel and of the slow port
//                       (read and cleared), Poisson counts ×
//                       weight in int64, DC inputs, the model step, state
//                       samples; a neuron that fires appends its id to the
//                       step's spike list and sets its bit for order.cu
//   myelin_step         myelin_update of step s and the delivery of step
//                       s-1 in one launch, when every delay is >= 2 steps
//   myelin_persistent   every step of a chunk in one cooperative launch,
//                       phases (myelin_persist_phase) apart by grid-wide
//                       barriers, for small networks
//   myelin_persistent_block  the same on a grid of one block of up to
//                       1,024 threads
//   myelin_chunk_end    advance the step counter by m
#include "deliver.cuh"
#include "network.cuh"
#include "philox.cuh"

// myelin_chunk_begin(net, m, -): spk_cnt[0..m) = 0, spk_off[0] = 0.
extern "C" __global__ void myelin_chunk_begin(const __grid_constant__ MyelinNet net_, unsigned m, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    unsigned long long i = myelin_gid();
    if (i < m) {
        net->spk_cnt[i] = 0;
    }
    if (i == 0) {
        net->spk_off[0] = 0;
    }
}

// myelin_chunk_end(net, m, -): *step += m (one thread).
extern "C" __global__ void myelin_chunk_end(const __grid_constant__ MyelinNet net_, unsigned m, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    if (myelin_gid() == 0) {
        *net->step += m;
    }
}

// myelin_lower_bound returns the first event index whose step is >= t.
__device__ __forceinline__ unsigned long long myelin_lower_bound(const EventDesc *ev, unsigned long long n,
                                                                 unsigned long long t)
{
    unsigned long long lo = 0, hi = n;
    while (lo < hi) {
        unsigned long long m = lo + (hi - lo) / 2;
        if (ev[m].step < t) {
            lo = m + 1;
        } else {
            hi = m;
        }
    }
    return lo;
}

// myelin_events_work adds the spike-array events of step t = *step + s to
// ring slot t % ring_slots before any neuron reads it, as thread i0 of
// stride threads: threads stride over the step's events; integer atomics
// make the order irrelevant.
__device__ __forceinline__ void myelin_events_work(const MyelinNet *net, unsigned s, unsigned long long i0,
                                                   unsigned long long stride)
{
    unsigned long long t = *net->step + s;
    unsigned long long lo = myelin_lower_bound(net->events, net->n_events, t);
    unsigned long long hi = myelin_lower_bound(net->events, net->n_events, t + 1);
    unsigned long long base = (t % net->ring_slots) * (unsigned long long)net->n;
    for (unsigned long long e = lo + i0; e < hi; e += stride) {
        EventDesc ev = net->events[e];
        if (ev.weight >= 0) {
            atomicAdd(&net->ring_ex[base + ev.target], ev.weight);
        } else {
            atomicAdd(&net->ring_in[base + ev.target], ev.weight);
        }
    }
}

// myelin_events(net, s, -): the spike-array events of step s
// (myelin_events_work over the grid).
extern "C" __global__ void myelin_events(const __grid_constant__ MyelinNet net_, unsigned s, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    myelin_events_work(net, s, myelin_gid(), (unsigned long long)gridDim.x * blockDim.x);
}

// myelin_poisson_count inverts the Poisson CDF: base + the first k with
// u < thr[k] (the last entry if none), as cpu.poissonIndex.count. It loads
// four thresholds at a time, so a count of up to 3 costs one round of
// loads rather than one per threshold.
__device__ __forceinline__ unsigned myelin_poisson_count(unsigned u, unsigned base, const unsigned *thr, unsigned len)
{
    for (unsigned k = 0; k < len; k += 4) {
        unsigned c[4];
#pragma unroll
        for (unsigned j = 0; j < 4; j++) {
            c[j] = k + j < len ? thr[k + j] : 0u; // 0: u < 0 never holds
        }
#pragma unroll
        for (unsigned j = 0; j < 4; j++) {
            if (u < c[j]) {
                return base + k + j;
            }
        }
    }
    return base + len - 1;
}

// MYELIN_POISSON_SCAN is the most Poisson inputs of a population that the
// update tests one by one; past it, myelin_poisson_on searches for those
// on at t (a rate schedule is one input per segment, up to 10,000).
#define MYELIN_POISSON_SCAN 8

// myelin_poisson_after returns the first k in [a, b) whose reach (by_reach)
// or start is past t; the field is ascending over [a, b), as the host sorts
// a population's inputs (PoissonDesc.reach, start). by_reach is a constant
// at each call, so the select compiles away.
__device__ __forceinline__ unsigned myelin_poisson_after(const PoissonDesc *d, unsigned a, unsigned b,
                                                         unsigned long long t, bool by_reach)
{
    while (a < b) {
        unsigned m = a + (b - a) / 2;
        if ((by_reach ? d[m].reach : d[m].start) > t) {
            b = m;
        } else {
            a = m + 1;
        }
    }
    return a;
}

// myelin_poisson_on narrows a population's Poisson inputs [*k0, *k1) to
// those that may be on at t: none before the first whose reach is past t
// (each has stopped by then), none from the first that starts after t on
// (sorted by start). Two binary searches, the same for every thread of the
// grid; a short list is left whole.
__device__ __forceinline__ void myelin_poisson_on(const MyelinNet *net, unsigned long long t, unsigned *k0, unsigned *k1)
{
    if (*k1 - *k0 <= MYELIN_POISSON_SCAN) {
        return;
    }
    *k0 = myelin_poisson_after(net->poisson, *k0, *k1, t, true);
    *k1 = myelin_poisson_after(net->poisson, *k0, *k1, t, false);
}

// myelin_stdp_post_work is the potentiation of step s's postsynaptic
// spikes (cpu.Backend.stdpSpikes), as block b of nb: every incoming
// plastic synapse of a spiking neuron is potentiated by its presynaptic
// neuron's trace of the spikes before t (the update of step t, which ran
// before this launch or phase, may have stored a spike of t in the
// record: STDP_TraceAt gives the same trace either way). With segs > 0 the work items are (spike, segment of
// blockDim.x entries of its column), segs per spike, the longest column
// of every set divided by blockDim.x; with segs 0 a block walks each of
// its spikes' columns in a blockDim.x stride. Each synapse has one
// postsynaptic neuron, which spikes at most once a step, so no two threads
// write one weight, and the order of the work does not matter. It runs
// after the step's update, which wrote the spike list, and before its
// delivery, which reads and depresses the same weights.
__device__ __forceinline__ void myelin_stdp_post_work(const MyelinNet *net, unsigned s, unsigned segs, unsigned b,
                                                      unsigned nb)
{
    unsigned long long t = *net->step + s;
    unsigned off = net->spk_off[s];
    unsigned long long items = (unsigned long long)net->spk_cnt[s] * (segs > 0 ? segs : 1u);
    for (unsigned long long w = b; w < items; w += nb) {
        unsigned long long spike = segs > 0 ? w / segs : w;
        unsigned seg = segs > 0 ? (unsigned)(w % segs) : 0u;
        unsigned g = net->spk_ids[off + spike];
        int pi = (int)myelin_pop_of(net, g);
        for (unsigned k = 0; k < net->n_stdp; k++) {
            const StdpDesc *sd = &net->stdp_sets[k];
            const STDP *c = &sd->coef;
            if (sd->post != pi || c->Potentiate == 0.0f) {
                continue;
            }
            unsigned j = g - sd->post_first;
            unsigned long long e0 = net->stdp_ptr[sd->ptr_off + j];
            unsigned long long e1 = net->stdp_ptr[sd->ptr_off + j + 1];
            unsigned long long stride = blockDim.x;
            if (segs > 0) {
                e0 += (unsigned long long)seg * blockDim.x;
                unsigned long long end = e0 + blockDim.x;
                e1 = end < e1 ? end : e1;
            }
            for (unsigned long long e = e0 + threadIdx.x; e < e1; e += stride) {
                // volatile: in the persistent kernel the record may have
                // been stored by another SM in the previous phase, and
                // this SM's L1 may still hold the older line.
                unsigned long long rec = *(volatile const unsigned long long *)&net->stdp_pre[sd->pre_off + net->stdp_src[e]];
                float kp = STDP_TraceAt(rec, t, c->PlusRate);
                if (kp != 0.0f) {
                    int *wp = &net->weight[net->stdp_w[e]];
                    *wp = STDP_Facilitate(c, *wp, kp);
                }
            }
        }
    }
}

// myelin_stdp_post(net, s, segs): the potentiation of step s's
// postsynaptic spikes (myelin_stdp_post_work over the grid), launched
// between the step's update and its delivery for networks with STDP.
extern "C" __global__ void myelin_stdp_post(const __grid_constant__ MyelinNet net_, unsigned s, unsigned segs)
{
    const MyelinNet *__restrict__ net = &net_;
    myelin_stdp_post_work(net, s, segs, blockIdx.x, gridDim.x);
}

// myelin_update_neuron is step t of one neuron of the spiking populations,
// as thread threadIdx.x of block b of the merged update launch: population
// p takes the blocks from its ublock0 on (ceil(size / blockDim.x) of them),
// as a group does in GeNN's merged kernels. A neuron that fires appends its
// id to the step's spike list, which starts at spk_ids[off].
//
// A thread's step is a chain of memory accesses, and at small and medium
// sizes the chain, not bandwidth, is the step's time (ncu: the update
// warps of the microcircuit stall on global loads 77 % of their cycles).
// So the population comes from the parameter space (myelin_pop_of_block),
// its fields load together, a Poisson descriptor loads whole once its
// window (a branch the whole grid takes alike) holds t, and the ring slot
// is cleared only after the model step, so that no store stands between
// the loads that do not depend on one another.
__device__ __forceinline__ void myelin_update_neuron(const MyelinNet *net, unsigned s, unsigned b, unsigned off)
{
    unsigned pi = myelin_pop_of_block(net, b, false);
    const PopDesc *pop = &net->pops[pi];
    // The first id and block from the parameter space where it has them
    // (pops [0, MYELIN_POP_FAST)), so that the ring's loads wait on no
    // load of pops.
    bool fast = pi < MYELIN_POP_FAST;
    unsigned first = fast ? net->pop_first[pi] : pop->first;
    unsigned ublock0 = fast ? net->pop_ublock0[pi] : pop->ublock0;
    unsigned size = pop->size;
    int model = pop->model;
    float si = pop->scale_inv;
    unsigned k0 = pop->poisson0, k1 = pop->poisson0 + pop->npoisson;
    unsigned dc0 = pop->dc0, dc1 = pop->dc0 + pop->ndc;
    unsigned long long t = *net->step + s;
    unsigned long long i = (unsigned long long)(b - ublock0) * blockDim.x + threadIdx.x;
    if (i >= size) {
        return;
    }
    unsigned g = first + (unsigned)i;

    // Ring slot t (the slow port's too, where the network uses one); it is
    // cleared after the model step.
    unsigned long long idx = (t % net->ring_slots) * (unsigned long long)net->n + g;
    long long qe = net->ring_ex[idx];
    long long qi = net->ring_in[idx];
    long long qs = net->port_bit != 0 ? net->ring_slow[idx] : 0;

    // Poisson inputs of the population (the host groups them so): counts ×
    // weight, added in int64.
    unsigned long long blk = t / 4;
    unsigned lane = (unsigned)(t % 4);
    myelin_poisson_on(net, t, &k0, &k1);
    for (unsigned k = k0; k < k1; k++) {
        // An input off at t is skipped (t is the same for the whole grid,
        // so the branch never diverges). Within its window the
        // count is drawn for every neuron of the population and added as
        // 0 outside the input's range, so that no per-neuron branch
        // stands between the descriptor's loads and the table's.
        const PoissonDesc p = net->poisson[k];
        if ((t < p.start) | (t >= p.stop)) {
            continue;
        }
        bool on = (g >= p.first) & (g - p.first < p.count);
        Philox4 draw = myelin_philox4x32(g, (unsigned)blk, (unsigned)(blk >> 32), p.purpose, net->key0, net->key1);
        unsigned u = myelin_philox_word(draw, lane);
        unsigned count = myelin_poisson_count(u, p.base, net->ptable + p.table_off, p.table_len);
        long long q = on ? (long long)count * (long long)p.weight : 0;
        if (p.slow != 0) {
            qs += q;
        } else if (p.weight >= 0) {
            qe += q;
        } else {
            qi += q;
        }
    }
    float iext = myelin_dc_input(net, t, g, dc0, dc1);

    MyelinState st = {net->v, net->a, net->b, net->c, net->ref};
    bool fired = false;
    switch (model) {
        // One case per spiking model (models.cuh): a one-channel model
        // receives the sum of both channels, as neuron.Input.Ex; a model
        // with a slow port also receives the port's input. The model's
        // step gets a copy of its coefficients: they load at once, and
        // its stores to the state cannot make it load them again (a store
        // through a pointer may alias pops as far as the compiler knows).
#define MYELIN_UPDATE_CALL_0(T, ex, in, sl) T##_Update(&coef, &st, g, ex, in, iext)
#define MYELIN_UPDATE_CALL_1(T, ex, in, sl) T##_Update(&coef, &st, g, ex, in, sl, iext)
#define MYELIN_UPDATE_CASE(code, T, channels, slow)                                                             \
    case code: {                                                                                                \
        const T coef = pop->m.m_##T;                                                                            \
        fired = MYELIN_UPDATE_CALL_##slow(T, channels == 1 ? (float)(qe + qi) * si : (float)qe * si,            \
                                          channels == 1 ? 0.0f : (float)qi * si, (float)qs * si);               \
        break;                                                                                                  \
    }
        MYELIN_SPIKING_MODELS(MYELIN_UPDATE_CASE)
#undef MYELIN_UPDATE_CASE
#undef MYELIN_UPDATE_CALL_0
#undef MYELIN_UPDATE_CALL_1
    default:
        __trap(); // a code the host never uploads: launch checks every population's model
    }
    // Ring slot t is this thread's alone in this phase: the events were
    // added before it, and a delivery in the same launch or phase
    // (myelin_step, the persistent kernel) writes only later slots.
    net->ring_ex[idx] = 0;
    net->ring_in[idx] = 0;
    if (net->port_bit != 0) {
        net->ring_slow[idx] = 0;
    }
    float v = net->v[g];
    if (!isfinite(v)) {
        myelin_fault(net, g);
    }
    myelin_sample(net, s, t, g, v);
    if (fired) {
        // Short-term plasticity: the factor of this spike for every set of
        // the population (cpu.Backend.stpSpikes).
        for (unsigned k = 0; k < net->n_stp; k++) {
            const StpDesc *sd = &net->stp_sets[k];
            if (sd->pre == (int)pi) {
                unsigned j = sd->off + (unsigned)i;
                net->stp_f[(t & 1ull) * net->stp_entries + j] =
                    TsodyksMarkram_Spike(&sd->coef, &net->stp_u[j], &net->stp_x[j], &net->stp_last[j], t);
            }
        }
        // STDP (cpu.Backend.stdpSpikes): as a postsynaptic neuron, its
        // trace (myelin_stdp_post potentiates its incoming synapses after
        // this launch, in parallel); as a presynaptic neuron, its trace,
        // stored whole (a 64-bit store) because other threads read it:
        // they read the same trace before and after it (STDP_TraceAt).
        for (unsigned k = 0; k < net->n_stdp; k++) {
            const StdpDesc *sd = &net->stdp_sets[k];
            if (sd->post == (int)pi) {
                unsigned long long *post = &net->stdp_post[sd->post_off + (unsigned)i];
                *post = STDP_TraceSpike(*post, t, sd->coef.MinusRate);
            }
        }
        for (unsigned k = 0; k < net->n_stdp; k++) {
            const StdpDesc *sd = &net->stdp_sets[k];
            if (sd->pre == (int)pi) {
                volatile unsigned long long *r = &net->stdp_pre[sd->pre_off + (unsigned)i];
                *r = STDP_TraceSpike(*r, t, sd->coef.PlusRate);
            }
        }
        unsigned k = atomicAdd(&net->spk_cnt[s], 1u);
        net->spk_ids[off + k] = g;
        atomicOr(&net->spk_bits[(unsigned long long)s * net->words + (g >> 5)], 1u << (g & 31u));
    }
}

// myelin_update(net, s, -): step t of every spiking population in one
// launch, one thread per neuron (myelin_update_neuron); the step's spikes go
// from spk_off[s] on, which myelin_chunk_begin or the previous step's
// myelin_deliver set.
extern "C" __global__ void myelin_update(const __grid_constant__ MyelinNet net_, unsigned s, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    myelin_update_neuron(net, s, blockIdx.x, net->spk_off[s]);
}

// myelin_step(net, s, ublocks): for s >= 1, step s's update (blocks [0,
// ublocks), as myelin_update) and the delivery of step s-1 (the other
// blocks, as myelin_deliver) in one launch. The host uses it only when
// every synaptic delay is at least 2 steps: then step s-1's spikes reach
// ring slots s+1 and later, never slot s, which step s reads and clears;
// step s-1's spike list and counts are final (written by the previous
// launch); step s's list starts where step s-1's ends, which the update
// blocks compute themselves; and short-term plasticity factors are kept
// per step parity, so step s's spikes write the other half from the one
// step s-1's delivery reads. No block of the launch reads what another
// writes. With STDP the host never fuses: delivery changes the weights
// and reads the postsynaptic traces that the update changes.
extern "C" __global__ void myelin_step(const __grid_constant__ MyelinNet net_, unsigned s, unsigned ublocks)
{
    const MyelinNet *__restrict__ net = &net_;
    if (blockIdx.x < ublocks) {
        unsigned off = net->spk_off[s - 1] + net->spk_cnt[s - 1];
        if (blockIdx.x == 0 && threadIdx.x == 0) {
            net->spk_off[s] = off;
        }
        myelin_update_neuron(net, s, blockIdx.x, off);
    } else {
        myelin_deliver_work(net, s - 1, blockIdx.x - ublocks, gridDim.x - ublocks);
    }
}

// MYELIN_PERSIST_FUSED is the flag bit of myelin_persistent's third
// argument (the rest is the update blocks): every delay is at least 2 steps,
// so each step's update shares a phase with the previous step's delivery,
// as in myelin_step.
#define MYELIN_PERSIST_FUSED 0x80000000u

// MYELIN_PERSIST_STDP is the flag bit of myelin_persistent's third
// argument for a network with STDP (never fused): each step has a phase
// of potentiation (myelin_stdp_post_work) between its update and its
// delivery.
#define MYELIN_PERSIST_STDP 0x40000000u

// myelin_persist_phases is the number of phases of a persistent chunk of m
// steps with flags a: unfused, the events of step 0, then for each step its
// update and its delivery (2m + 1), with STDP its update, potentiation and
// delivery (3m + 1); fused, the events of step 0, then m phases of the
// update of s and delivery of s-1, then the last delivery (m + 2).
__device__ __forceinline__ unsigned myelin_persist_phases(unsigned m, unsigned a)
{
    if ((a & MYELIN_PERSIST_FUSED) != 0) {
        if ((a & MYELIN_PERSIST_STDP) != 0) {
            __trap(); // never fused with STDP (launch.New): the potentiation would be skipped
        }
        return m + 2;
    }
    return ((a & MYELIN_PERSIST_STDP) != 0 ? 3 : 2) * m + 1;
}

// myelin_persist_update is the update of step s by block b of nb: the
// block strides over the update blocks of myelin_update (ublocks of them),
// so that a grid smaller than the network still updates every neuron.
__device__ __forceinline__ void myelin_persist_update(const MyelinNet *net, unsigned s, unsigned ublocks, unsigned off,
                                                      unsigned b, unsigned nb)
{
    for (unsigned vb = b; vb < ublocks; vb += nb) {
        myelin_update_neuron(net, s, vb, off);
    }
}

// myelin_persist_deliver is the delivery of step s by block b of nb, as
// myelin_deliver, or a warp per spike where the grid is one block;
// set_next: block 0 also sets spk_off[s+1].
__device__ __forceinline__ void myelin_persist_deliver(const MyelinNet *net, unsigned s, bool set_next, unsigned b,
                                                       unsigned nb)
{
    if (set_next && b == 0 && threadIdx.x == 0) {
        net->spk_off[s + 1] = net->spk_off[s] + net->spk_cnt[s];
    }
    if (nb == 1) {
        myelin_deliver_warps(net, s);
    } else {
        myelin_deliver_work(net, s, b, nb);
    }
}

// myelin_persist_phase runs phase ph of a persistent chunk of m steps
// (flags and update blocks a) as block b of nb. Between two phases every
// block of the grid has finished the first (a grid-wide barrier on the
// GPU; the host emulation runs each phase over all blocks, in either
// order); within a phase no block reads what another writes, as in
// myelin_step:
//   unfused  0: events of step 0; 2s+1: update of s; 2s+2: delivery of s
//            and the events of s+1 (atomic adds into slots after t: the
//            delivery's at t+delay, the events' at t+1); with STDP 3s+1:
//            update of s; 3s+2: potentiation of s; 3s+3: delivery of s and
//            the events of s+1;
//   fused    0: events of step 0; k = 1..m: update of k-1, delivery of k-2
//            (its spikes reach slots k and later: delays >= 2) and the
//            events of step k (slot k, which the update of k-1 does not
//            touch: the ring has at least 3 slots); m+1: delivery of m-1.
// The events' atomics take the threads of the whole grid.
__device__ __forceinline__ void myelin_persist_phase(const MyelinNet *net, unsigned m, unsigned a, unsigned ph,
                                                     unsigned b, unsigned nb)
{
    unsigned ublocks = a & ~(MYELIN_PERSIST_FUSED | MYELIN_PERSIST_STDP);
    unsigned long long gid = (unsigned long long)b * blockDim.x + threadIdx.x;
    unsigned long long threads = (unsigned long long)nb * blockDim.x;
    if (ph == 0) {
        myelin_events_work(net, 0, gid, threads);
        return;
    }
    if ((a & MYELIN_PERSIST_FUSED) == 0) {
        unsigned per = (a & MYELIN_PERSIST_STDP) != 0 ? 3u : 2u;
        unsigned s = (ph - 1) / per, r = (ph - 1) % per;
        if (r == 0) {
            myelin_persist_update(net, s, ublocks, net->spk_off[s], b, nb);
        } else if (r + 1 < per) {
            myelin_stdp_post_work(net, s, 0, b, nb);
        } else {
            myelin_persist_deliver(net, s, true, b, nb);
            if (s + 1 < m) {
                myelin_events_work(net, s + 1, gid, threads);
            }
        }
        return;
    }
    unsigned k = ph;
    if (k <= m) {
        unsigned s = k - 1;
        unsigned off = net->spk_off[0];
        if (s >= 1) {
            off = net->spk_off[s - 1] + net->spk_cnt[s - 1];
            if (b == 0 && threadIdx.x == 0) {
                net->spk_off[s] = off;
            }
        }
        myelin_persist_update(net, s, ublocks, off, b, nb);
        if (s >= 1) {
            myelin_persist_deliver(net, s - 1, false, b, nb);
        }
        if (k < m) {
            myelin_events_work(net, k, gid, threads);
        }
        return;
    }
    myelin_persist_deliver(net, m - 1, true, b, nb);
}

#ifdef __CUDACC__
// myelin_grid_sync is a grid-wide barrier of a cooperative launch (every
// block resident): thread 0 of each block adds to the barrier word (the
// last word of the step buffer, after the fault word) so that the grid's
// adds sum to 2^31, flipping its top bit once per barrier, and waits for the
// flip (the scheme of cooperative_groups' grid sync, which needs headers
// the repository's toolkit lacks); the fences publish the block's writes
// before the add and order the reads after the wait. The word's low 31
// bits are 0 between barriers (the buffer starts zeroed and each barrier
// adds exactly 2^31), so block 0's add alone never flips the bit. A grid of
// one block needs only the block's barrier, which also makes the block's
// global writes and atomics visible to all its threads: no fence, no
// atomic, no wait on the L2.
__device__ __forceinline__ void myelin_grid_sync(const MyelinNet *net)
{
    __syncthreads();
    if (gridDim.x == 1) {
        return;
    }
    if (threadIdx.x == 0) {
        volatile unsigned *bar = (volatile unsigned *)net->step + 3;
        unsigned inc = blockIdx.x == 0 ? 0x80000000u - (gridDim.x - 1) : 1u;
        __threadfence();
        unsigned old = atomicAdd((unsigned *)bar, inc);
        while (((old ^ *bar) & 0x80000000u) == 0) {
        }
        __threadfence();
    }
    __syncthreads();
}

// myelin_persist_chunk is the body of both persistent kernels: the phases
// of myelin_persist_phase, a grid-wide barrier between two.
__device__ __forceinline__ void myelin_persist_chunk(const MyelinNet *net, unsigned m, unsigned a)
{
    unsigned n = myelin_persist_phases(m, a);
    for (unsigned ph = 0; ph < n; ph++) {
        if (ph > 0) {
            myelin_grid_sync(net);
        }
        myelin_persist_phase(net, m, a, ph, blockIdx.x, gridDim.x);
    }
}

// myelin_persistent(net, m, a): the m steps of a chunk (after
// myelin_chunk_begin, before the order kernels) in one cooperative launch
// of many blocks (myelin_persist_chunk). The host uses it only for
// networks of spiking populations alone whose grid is resident at once
// (launch.Config.Persistent); a = update blocks, with MYELIN_PERSIST_FUSED
// where every delay is at least 2 steps and no projection has STDP,
// MYELIN_PERSIST_STDP where one has.
extern "C" __global__ void myelin_persistent(const __grid_constant__ MyelinNet net_, unsigned m, unsigned a)
{
    myelin_persist_chunk(&net_, m, a);
}

// myelin_persistent_block(net, m, a): myelin_persistent on a grid of one
// block (launch.PersistentBlock), whose barrier between phases is the
// block's own. Its launch bounds let that block have 1,024 threads
// (launch.Config.Block), at 64 registers a thread; the kernel of many
// blocks keeps the registers it wants.
extern "C" __global__ void __launch_bounds__(1024, 1) myelin_persistent_block(const __grid_constant__ MyelinNet net_, unsigned m,
                                                                              unsigned a)
{
    myelin_persist_chunk(&net_, m, a);
}
#endif // __CUDACC__
