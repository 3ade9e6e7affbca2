// network.cuh: the device layout of a built network (engine/network) as the
// kernels see it. The host writes these structs byte for byte from Go (see
// kernels/launch: the Go mirrors have the same fields in the same order,
// encoded little-endian with encoding/binary), so every struct here is made
// of 4- and 8-byte fields with no implicit padding, and its size is pinned
// by a static_assert that kernels/launch checks from the Go side.
#ifndef MYELIN_NETWORK_CUH
#define MYELIN_NETWORK_CUH

#include "models.cuh"
#include "state.cuh"
#include "stdp.cuh"
#include "tsodyks_markram.cuh"

// PopDesc is one population (network.Population): its global id range, its
// fixed-point scale and its model's coefficients.
struct PopDesc {
    int model;         // the model's code (models.cuh)
    unsigned first;    // first global id
    unsigned size;     // neurons
    float scale_inv;   // 2^-Shift: ring and Poisson fixed point to weight units
    float el;          // E_L added to V in state samples (0 for iaf_cond_exp)
    unsigned ublock0;  // blocks of myelin_update's merged launch before this population's (spiking populations)
    unsigned rblock0;  // blocks of myelin_rate_update's merged launch before this population's (rate populations)
    unsigned poisson0; // this population's Poisson inputs: poisson[poisson0, poisson0 + npoisson)
    unsigned npoisson;
    unsigned dc0;      // this population's DC inputs, in input order: dc[dc0, dc0 + ndc)
    unsigned ndc;
    union {
#define MYELIN_MODEL_MEMBER(code, T, ...) T m_##T;
        MYELIN_SPIKING_MODELS(MYELIN_MODEL_MEMBER)
        MYELIN_RATE_MODELS(MYELIN_MODEL_MEMBER)
#undef MYELIN_MODEL_MEMBER
        unsigned words[MYELIN_MODEL_WORDS];
    } m; // the coefficients of the model: m.m_<Type>
};

// PoissonDesc is one Poisson input (network.Poisson): neurons
// [first, first+count) draw their count of step t in [start, stop) from word
// t%4 of Philox block (gid, t/4, purpose) and look it up in
// ptable[table_off, table_off+table_len). A population's descriptors
// (PopDesc.poisson0, npoisson) are sorted by start, and reach is the latest
// stop among this one and those before it in the population: the inputs on
// at t lie between the first whose reach is past t and the first that
// starts after t (myelin_poisson_on).
struct PoissonDesc {
    unsigned long long start, stop;
    unsigned first, count;
    int weight; // fixed point, signed by channel
    unsigned purpose, base, table_off, table_len;
    unsigned slow; // 1: the counts go to the slow excitatory port (weight >= 0)
    unsigned long long reach;
};

// DCDesc is one DC input (network.DC).
struct DCDesc {
    unsigned long long start, stop;
    unsigned first, count;
    float amp;
    unsigned pad;
};

// EventDesc is one spike of a spike-source array (network.SpikeEvent);
// the array is sorted by step, then target.
struct EventDesc {
    unsigned long long step;
    unsigned target;
    int weight;
};

// RateProjDesc is one rate projection (network.RateProjection): a ring
// table (kind 1: w by index difference in rtable[table_off, +table_len)) or
// a CSC by post neuron (kind 2: column pointers at rcolptr[colptr_off, +size
// of post + 1), sources and weights at rsrc/rw[edge_off + e]).
struct RateProjDesc {
    unsigned pre_first, pre_size, post, delay;
    unsigned kind, table_off, table_len, colptr_off;
    unsigned edge_off, pad;
};

// ProbeDesc is one state probe (network.Probe): neurons
// [first, first+count) (global ids), sampled after every step t with
// t % every == 0 into columns [out, out+count) of a sample row.
struct ProbeDesc {
    unsigned first, count, every;
    int spiking;
    float el;
    unsigned out;
};

// StpDesc is one short-term plasticity set (network.STPSet): the neurons
// [first, first+size) of population pre keep their state at [off, off+size)
// of stp_u, stp_x, stp_f and stp_last.
struct StpDesc {
    int pre;
    unsigned first, size, off;
    TsodyksMarkram coef;
    unsigned pad;
};

// StdpDesc is one STDP set (network.STDPSet): synapses from population pre
// (first global id pre_first) onto post (post_first). Its neurons' trace
// records are at stdp_pre[pre_off + local pre] and stdp_post[post_off +
// local post]; the incoming plastic synapses of local post neuron j are
// the entries [stdp_ptr[ptr_off + j], stdp_ptr[ptr_off + j + 1]) of stdp_w
// (index into weight) and stdp_src (local presynaptic neuron). coef is at
// the current learning rate (the host rewrites the sets between chunks
// when a phase changes it).
struct StdpDesc {
    int pre, post;
    unsigned pre_first, post_first;
    unsigned pre_off, post_off;
    unsigned long long ptr_off;
    STDP coef;
    unsigned pad;
};

// ProcDesc is one procedural projection (network.Procedural, described by
// network.Device): no synapse is stored; the row of presynaptic neuron
// pre_first + i is regenerated when it spikes (procedural.cuh) from item i
// of the connectivity, weight and delay streams of the projection's
// purposes, as network.RowGen.Row does on the host. rule: 1 fixed
// out-degree (k targets), 2 one-to-one, 3 all-to-all, 4 pairwise Bernoulli
// by source (probability bp, blogq = log(1 - bp)); flags:
// MYELIN_PROC_*; wkind: 0 constant (cweight, quantized), 1 uniform (wa +
// wb·u), 2 normal (mean wa, std wb, redrawn outside [wlo, whi]), 3
// lognormal (exp(wa + wb·z), negated with MYELIN_PROC_WNEG), then signed
// by wsign and quantized by scale; dkind: 0 constant (cdelay, port bit
// included), 1-3 drawn in ms as the weights (da, db, dlo, dhi) and rounded
// to steps of dt, 4 the step table proc_thr[thr_off, +thr_len) from step
// dfirst. proc_thr starts with the ziggurat's tables (procedural.cuh).
// A fixed out-degree row uses the generating thread's scratch
// (proc_scratch, proc_slot_words words per thread): a hash set of
// 2^hash_bits words at its start (Floyd's sampler, no multapses; empty
// between rows) and k words for the row's targets from word list_off on,
// past the hash sets of every projection.
struct ProcDesc {
    unsigned rule, k, pre_first, pre_size;
    unsigned post_first, n_post, flags, conn_purpose;
    unsigned w_purpose, d_purpose, wkind, dkind;
    int cweight;
    unsigned cdelay, port, dfirst;
    unsigned thr_off, thr_len, hash_bits, list_off;
    double scale, wa, wb, wsign, da, db, dt;
    double wlo, whi, dlo, dhi;
    double bp, blogq; // a Bernoulli rule's p and log(1 - p)
};

// ProcDesc.flags.
#define MYELIN_PROC_SKIP_SELF 1u // one population without autapses: candidate t >= i is t+1
#define MYELIN_PROC_MULTAPSES 2u // independent draws, not Floyd's sampler
#define MYELIN_PROC_VIA_F32 4u   // the weight is rounded to float32 before quantizing
#define MYELIN_PROC_WNEG 8u      // a lognormal weight is negated
#define MYELIN_PROC_DNEG 16u     // a lognormal delay is negated

// MYELIN_ORDER_TILE is the words of a step's spike bitmask that one
// thread of order.cu counts and writes (launch.OrderTile).
#define MYELIN_ORDER_TILE 64

// MYELIN_COMPACT marks, in MyelinNet.wbase, a population whose synapses
// store no weight (network.Compact): their weight is wtab[pre pop * n_pops +
// post pop].
#define MYELIN_COMPACT 0xffffffffffffffffull

// MYELIN_PTILE_MAX_INTS bounds myelin_deliver_tiled's shared-memory sums,
// in ints: 227 KiB, the most a block of an H100 or H200 may opt in to
// (launch.MaxPTileShared). Each launch gives the kernel what its tiles
// need as dynamic shared memory (MYELIN_PTILE_ACC); the host emulation,
// which runs a block's threads as fibers of one OS thread, gives each OS
// thread this many.
#define MYELIN_PTILE_MAX_INTS 58112
#ifdef MYELIN_SIMT_H
#define MYELIN_PTILE_ACC(name) static thread_local int name[MYELIN_PTILE_MAX_INTS]
#else
#define MYELIN_PTILE_ACC(name) extern __shared__ int name[]
#endif

// MYELIN_POP_FAST is how many populations' boundaries MyelinNet carries in
// itself (pop_first, pop_ublock0, pop_rblock0; launch.PopFast): with at
// most that many populations, myelin_pop_of and myelin_pop_of_block count
// boundaries in the kernel's parameter space (constant-cached, no global
// load and no chain of dependent loads); with more, they search pops.
#define MYELIN_POP_FAST 16

// MyelinNet holds every device array and size. Each kernel takes it by
// value, as a __grid_constant__ parameter, and reads it through a pointer
// to that parameter: its fields are loads from the kernel's parameter space
// (constant-cached), not from global memory, so no load of the step
// depends on first loading the descriptor. The device functions take the
// pointer. The spike and sample buffers belong to one record set (the host
// keeps one MyelinNet per set, captured into that set's graphs).
struct MyelinNet {
    unsigned long long *step;           // first step of the current chunk; followed by the fault word (myelin_fault)
    const PopDesc *pops;                // [n_pops]
    float *v, *a, *b, *c;               // [n]: V, then the model's other state (I_ex/g_ex, I_in/g_in, ...)
    int *ref;                           // [n]: refractory steps left
    int *ring_ex, *ring_in;             // [ring_slots * n]: fixed-point input by arrival step
    int *ring_slow;                     // [ring_slots * n] where port_bit != 0: the slow excitatory port's
    const unsigned long long *row_ptr;  // [n+1]: CSR by presynaptic neuron
    const unsigned *packed;             // target << delay_bits | port | delay (port: port_bit or 0)
    int *weight;                        // stored weights, fixed point in the target's scale; sign = channel (STDP changes them)
    const unsigned long long *wbase;    // [n_pops]: where a population's rows' weights start in weight, or MYELIN_COMPACT
    const int *wtab;                    // [n_pops * n_pops]: weight of every synapse from a compact population onto another
    const PoissonDesc *poisson;         // by population (PopDesc.poisson0, npoisson)
    const unsigned *ptable;             // Poisson inverse-CDF thresholds
    const DCDesc *dc;                   // by population (PopDesc.dc0, ndc)
    const EventDesc *events;            // [n_events]
    float *rhist;                       // [rate_slots * n]: rates by step
    const RateProjDesc *rproj;          // [n_rproj]
    const float *rtable;                // ring tables
    const unsigned *rcolptr;            // CSC column pointers
    const unsigned *rsrc;               // CSC sources (local pre index)
    const float *rw;                    // CSC weights
    const ProbeDesc *probes;            // [n_probes]
    const int *stp_of;                  // [n_pops * n_pops]: the StpDesc of synapses from pop p onto q, or -1
    const StpDesc *stp_sets;            // [n_stp]
    float *stp_u, *stp_x;               // short-term plasticity state
    float *stp_f;                       // [2 * stp_entries]: u·x of a spike of step t at (t&1) * stp_entries + entry
    unsigned long long *stp_last;       // stamp (step + 1) of the neuron's latest spike (0 before the first)
    const int *stdp_of;                 // [n_pops * n_pops]: the StdpDesc of synapses from pop p onto q, or -1
    const StdpDesc *stdp_sets;          // [n_stdp]
    unsigned long long *stdp_pre;       // presynaptic trace records (STDP_TraceAt)
    unsigned long long *stdp_post;      // postsynaptic trace records
    const unsigned long long *stdp_ptr; // by-post index of every set (StdpDesc.ptr_off)
    const unsigned *stdp_w;             // by-post entries: index into weight
    const unsigned *stdp_src;           // by-post entries: local presynaptic neuron
    const ProcDesc *procs;              // [n_proc]: procedural projections
    const unsigned *proc_thr;           // their delay step tables
    unsigned *proc_scratch;             // [proc_slots * proc_slot_words]: row generation scratch, zero between rows
    const unsigned short *ptile_off;    // [n * (n_ptiles+1)]: where each target tile starts in each row (myelin_deliver_tiled)
    unsigned *spk_bits;                 // [chunk_cap * words]: each step's spiking neurons as bits (order.cu)
    unsigned *tile_cnt;                 // [chunk_cap * tiles]: order.cu's per-tile counts, then first indices
    unsigned *spk_cnt;                  // [chunk_cap]: spikes of each step of the chunk
    unsigned *spk_off;                  // [chunk_cap+1]: where each step's spikes start in spk_ids
    unsigned *spk_ids;                  // [chunk_cap * n]: spiking ids, ascending within a step once order.cu ran
    float *samples;                     // [chunk_cap * sample_width]: state sample rows
    unsigned long long n_events;
    unsigned n, ring_slots, rate_slots, delay_bits;
    unsigned n_pops, n_rproj; // (a population finds its own Poisson and DC inputs: PopDesc)
    unsigned n_probes, sample_width, key0, key1;
    unsigned segs;      // deliver: row segments of blockDim.x synapses per spike (max row / block, rounded up); 0: per spike (deliver.cuh)
    unsigned chunk_cap; // steps the spike and sample buffers hold
    unsigned words;     // words of a step's bitmask: ceil(n / 32)
    unsigned tiles;     // tiles of MYELIN_ORDER_TILE words in a step's bitmask
    unsigned n_stp;       // short-term plasticity sets
    unsigned stp_entries; // their state entries (one per neuron of each set's population)
    unsigned port_bit;    // the delay-field bit of synapses onto the slow port (network.Synapses.PortBit), 0: none
    unsigned n_stdp;      // STDP sets
    unsigned n_proc;          // procedural projections
    unsigned proc_slots;      // delivery threads that generate procedural rows (each owns a scratch slot)
    unsigned proc_slot_words; // words of a scratch slot
    // Delivery by target tiles (myelin_deliver_tiled; n_ptiles 0 where the
    // plan delivers otherwise): tiles of ptile_w targets, each a block's
    // shared-memory sums of ptile_nd delays from ptile_d0 on, on ptile_nch
    // channels (excitatory, inhibitory and, where port_bit != 0, slow);
    // ptile_split blocks share a tile, each taking a part of the spikes.
    unsigned ptile_w, n_ptiles, ptile_d0, ptile_nd, ptile_nch, ptile_split;
    unsigned ptile_pad; // to the struct's 8-byte alignment, as the Go mirror spells it
    // The first id, first update block and first rate update block of
    // populations [0, MYELIN_POP_FAST) (PopDesc.first, ublock0, rblock0),
    // and 0xFFFFFFFF from n_pops on, so a count of the entries <= x never
    // counts them: each array is non-decreasing.
    unsigned pop_first[MYELIN_POP_FAST];
    unsigned pop_ublock0[MYELIN_POP_FAST];
    unsigned pop_rblock0[MYELIN_POP_FAST];
    // The weights of the same populations' synapses (myelin_pop_weights):
    // bit p of pop_compact set where population p stores none (wbase[p]
    // is MYELIN_COMPACT), else synapse k's weight is weight[pop_wrel[p] +
    // k] (wbase[p] less row_ptr[first id of p], wrapping).
    unsigned long long pop_wrel[MYELIN_POP_FAST];
    unsigned pop_compact;
    unsigned pop_pad; // to the struct's 8-byte alignment
};

static_assert(sizeof(PopDesc) == 44 + 4 * MYELIN_MODEL_WORDS, "PopDesc layout");
static_assert(sizeof(PoissonDesc) == 56, "PoissonDesc layout");
static_assert(sizeof(DCDesc) == 32, "DCDesc layout");
static_assert(sizeof(EventDesc) == 16, "EventDesc layout");
static_assert(sizeof(RateProjDesc) == 40, "RateProjDesc layout");
static_assert(sizeof(ProbeDesc) == 24, "ProbeDesc layout");
static_assert(sizeof(StpDesc) == 40, "StpDesc layout");
static_assert(sizeof(StdpDesc) == 72, "StdpDesc layout");
static_assert(sizeof(MyelinNet) == 520 + 20 * MYELIN_POP_FAST, "MyelinNet layout");
static_assert(sizeof(ProcDesc) == 184, "ProcDesc layout");

// myelin_pop_count returns how many of a[1..MYELIN_POP_FAST) are <= x:
// for a non-decreasing a with a[0] <= x, the index of the last entry <= x.
// The loop unrolls into compares against the parameter space.
__device__ __forceinline__ unsigned myelin_pop_count(const unsigned *a, unsigned x)
{
    unsigned c = 0;
#pragma unroll
    for (unsigned m = 1; m < MYELIN_POP_FAST; m++) {
        c += a[m] <= x ? 1u : 0u;
    }
    return c;
}

// myelin_pop_of_block returns the population whose neurons block b of a
// merged launch (myelin_update if rate is false, myelin_rate_update if
// true) runs: the last population whose ublock0 (rblock0) is <= b.
// Populations of the other kind take no blocks (their first block equals
// the next population's), so the last match is the right one; the host
// lays the fields out so (kernels/launch, newPopDesc).
__device__ __forceinline__ unsigned myelin_pop_of_block(const MyelinNet *net, unsigned b, bool rate)
{
    if (net->n_pops <= MYELIN_POP_FAST) {
        return myelin_pop_count(rate ? net->pop_rblock0 : net->pop_ublock0, b);
    }
    unsigned lo = 0, hi = net->n_pops;
    while (hi - lo > 1) {
        unsigned m = lo + (hi - lo) / 2;
        if ((rate ? net->pops[m].rblock0 : net->pops[m].ublock0) <= b) {
            lo = m;
        } else {
            hi = m;
        }
    }
    return lo;
}

// myelin_pop_of returns the population holding global id g
// (network.Network.PopOf).
__device__ __forceinline__ unsigned myelin_pop_of(const MyelinNet *net, unsigned g)
{
    if (net->n_pops <= MYELIN_POP_FAST) {
        return myelin_pop_count(net->pop_first, g);
    }
    unsigned lo = 0, hi = net->n_pops;
    while (hi - lo > 1) {
        unsigned m = (lo + hi) / 2;
        if (net->pops[m].first <= g) {
            lo = m;
        } else {
            hi = m;
        }
    }
    return lo;
}

// myelin_pop_weights returns whether population pp's synapses store no
// weight (compact: wtab gives it), and otherwise sets *wk so that synapse
// k of its rows has weight[*wk + k]: from the parameter space for the
// first MYELIN_POP_FAST populations, else from wbase and row_ptr (two
// dependent loads).
__device__ __forceinline__ bool myelin_pop_weights(const MyelinNet *net, unsigned pp, unsigned long long *wk)
{
    if (pp < MYELIN_POP_FAST) {
        *wk = net->pop_wrel[pp];
        return ((net->pop_compact >> pp) & 1u) != 0;
    }
    unsigned long long wb = net->wbase[pp];
    bool compact = wb == MYELIN_COMPACT;
    *wk = compact ? 0 : wb - net->row_ptr[net->pops[pp].first];
    return compact;
}

// myelin_fault records that neuron g's state left the float32 range: the
// word after the step counter keeps 0xFFFFFFFF - (lowest such g), 0 while
// none did (launch.Plan.Fault reads it after every chunk, and the run
// stops with an error, as the CPU backend's does).
__device__ __forceinline__ void myelin_fault(const MyelinNet *net, unsigned g)
{
    atomicMax((unsigned *)(net->step + 1), 0xFFFFFFFFu - g);
}

// myelin_sample writes x, the state of neuron g after step t (V for a
// spiking neuron, its rate of step t+1 for a rate neuron), into the column
// of every probe that samples g at t, in sample row s: V + E_L for spiking
// neurons (iaf_cond_exp keeps absolute V, with E_L = 0), as
// cpu.Backend.record in engine/cpu/cpu.go. The update kernels call it, so
// sampling needs no launch of its own.
__device__ __forceinline__ void myelin_sample(const MyelinNet *net, unsigned s, unsigned long long t, unsigned g,
                                              float x)
{
    for (unsigned k = 0; k < net->n_probes; k++) {
        const ProbeDesc *pr = &net->probes[k];
        if (g >= pr->first && g - pr->first < pr->count && t % pr->every == 0) {
            net->samples[(unsigned long long)s * net->sample_width + pr->out + (g - pr->first)] =
                pr->spiking ? x + pr->el : x;
        }
    }
}

// myelin_gid is the global index of this thread in a one-dimensional launch.
__device__ __forceinline__ unsigned long long myelin_gid()
{
    return (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
}

// myelin_dc_input sums the DC currents active at step t on neuron g, in
// input order (cpu.Backend.external): those of its population, dc[k0, k1)
// (PopDesc.dc0, ndc).
__device__ __forceinline__ float myelin_dc_input(const MyelinNet *net, unsigned long long t, unsigned g, unsigned k0,
                                                 unsigned k1)
{
    float iext = 0.0f;
    for (unsigned k = k0; k < k1; k++) {
        // Loaded whole and tested without branches: one round of loads
        // per input, not one per field.
        const DCDesc d = net->dc[k];
        if ((t >= d.start) & (t < d.stop) & (g >= d.first) & (g - d.first < d.count)) {
            iext += d.amp;
        }
    }
    return iext;
}

#endif // MYELIN_NETWORK_CUH
