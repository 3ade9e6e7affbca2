// construct.cu: on-device construction of stored synapses
// (network.BuildOn, docs/on-device-construction.md). The host keeps the
// network's bookkeeping (row pointers, fixed-point scales, weight layout,
// as engine/network's builder computes them); these kernels make the
// synapse arrays themselves, from the seed, byte for byte what the host's
// build makes:
//
//   myelin_construct_count        pass 1 of a projection: synapses per
//                                 presynaptic neuron, and the targets'
//                                 input bounds (synapses.go, pass 1)
//   myelin_construct_fill         pass 2: packed words (and stored
//                                 weights; deferred ones as float32, their
//                                 magnitudes added to the bound) into the
//                                 projection's part of each row, at their
//                                 places (one-to-one, all-to-all) or at
//                                 atomic cursors, with each word's unit
//                                 and draw as its key
//   myelin_construct_order        the parts written at cursors sorted by
//                                 key, for every projection at once, a
//                                 block per part: the host's pass-2 order
//                                 (units ascending, draws in order),
//                                 independent of the atomics' order
//   myelin_construct_row_weights  row-order weights (rowweights.go), as
//                                 float32 bits, and their magnitudes
//   myelin_construct_row_sums     the magnitudes summed per target in the
//                                 host's order (by parts of the rows, rows
//                                 ascending, then added in part order), a
//                                 block per target
//   myelin_construct_finish       each row finished as sortRows does, a
//                                 block per row: deferred weights
//                                 quantized, rows sorted, the slow port's
//                                 bit lowered
//
// and, for rules drawn per presynaptic neuron (fixed out-degree, pairwise
// Bernoulli by source), myelin_construct_count_pre, _const_sums_pre,
// _mags_pre, _scatter_pre, _drawn_sums_pre and _fill_pre. The draws are
// procedural.cuh's twins of the host's (Philox streams restarted per
// unit, the ziggurat, the delay tables); the sorts are block sorts
// (myelin_construct_block_sort).
#include "network.cuh"
#include "procedural.cuh"

// BuildProj is one projection being constructed. p describes its draws as
// for a procedural row, its rule one of myelin_construct_partners' (k the
// in-degree, or the most partners of a unit; p.port 0 and p.cdelay without
// the port bit, which port holds). count, start and
// cursor are per local presynaptic neuron: its synapses (pass 1 adds),
// where the projection's part of its row starts in packed, and the fill
// cursor. A synapse at packed index x has its stored weight at weight[x -
// wofs], unless wofs is MYELIN_COMPACT. mode: MYELIN_CONSTRUCT_*; aw the
// magnitude of a constant weight (MYELIN_CONSTRUCT_SUM_CONST); floor_mag
// the least magnitude that pass 1 adds per drawn weight (an STDP
// projection's w_max, 0 otherwise). For row-order weights of a rule whose
// synapses are written at cursors, the order kernel records where each
// landed (MyelinBuild.inv): synapse c of unit u at inv[inv_base +
// myelin_construct_unit_first(bp, u) + c], ustart the units' first
// synapses under pairwise Bernoulli (n_post + 1 entries), which pass 1
// counts into unit_n where it is set.
struct BuildProj {
    ProcDesc p;
    unsigned *count;
    const unsigned long long *start;
    unsigned long long *cursor;
    unsigned long long wofs;
    const unsigned long long *ustart;
    unsigned long long inv_base;
    unsigned *unit_n;
    double aw, floor_mag;
    unsigned mode, port, pre_pop, post_pop;
};

// BuildProj.mode.
#define MYELIN_CONSTRUCT_SUM_CONST 1u // pass 1 adds aw per synapse to its target's bound
#define MYELIN_CONSTRUCT_SUM_DRAWN 2u // pass 1 adds each drawn |weight| to its target's bound
#define MYELIN_CONSTRUCT_KEEP 4u      // pass 2 stores the unit's weights, quantized (p.scale)
#define MYELIN_CONSTRUCT_ROWW 8u      // weights drawn row by row (row_weights), quantized by finish
#define MYELIN_CONSTRUCT_KEYS 16u     // pass 2 keys every word (its rows keep pass 2's order)
#define MYELIN_CONSTRUCT_DEFER 32u    // pass 2 stores the unit's weights as float32 bits, adding their magnitudes to the bound

// MyelinBuild is the descriptor of every construct kernel, passed by value.
// net supplies the streams' keys and proc_thr (the ziggurat's and the
// delay tables) to procedural.cuh's draws; nothing else of it is set.
// hash holds slots threads' hash sets for Floyd's sampler (hash_words
// each, of which a rule uses 2^(hash_bits+1); MyelinHashSet: zero when
// allocated, never cleared, epoch0 the launch's first epoch), scratch their other words (slot_words each: the sorted
// targets of a fixed out-degree row, or row_sums' entries, two words
// each; never cleared); row_sums has a slot per block. bad receives
// n_projs - q for the least projection q that drew a weight that is not
// finite (the host then reports it); most[q] receives the most partners
// of a unit of projection q (myelin_construct_count), longest[q] its
// longest delay (pass 2); inv, where set, the places of the synapses that the order
// kernel puts in order (BuildProj.inv_base). A launch over the items
// of several projections (rows, or parts of rows) finds them through
// item_first (n_projs + 1 entries). abs is the input bound of
// every neuron; keys and mags are per synapse (where some projection
// needs them). pop_first has n_pops + 1 entries; shift, wbase and owned
// are per population (owned: every stored projection from it has
// row-order weights, so its rows are sorted stably by word, as
// drawRowWeights does); part_ptr the first synapse of each of n_parts
// parts of the rows, and n_parts + 1 entries. The t_* and c_count arrays
// are pass 1's of a rule drawn per presynaptic neuron (its units are
// split in n_chunks chunks from units chunk[c]): c_count the synapses per
// (chunk, target) of a constant weight; for drawn weights, each unit's
// synapses from t_start[u] (n_units + 1 entries) with their targets t_tgt
// and magnitudes t_mag, and by target t (t_ptr, n_post + 1 entries;
// t_cur the cursors) their positions t_pos.
struct MyelinBuild {
    MyelinNet net;
    const BuildProj *projs;
    unsigned *packed;
    int *weight;
    unsigned long long *keys;
    double *mags;
    double *abs;
    unsigned *hash;
    unsigned *scratch;
    unsigned *max_delay;
    unsigned *bad;
    unsigned *most;
    unsigned *longest;
    unsigned long long *inv;
    const unsigned long long *item_first;
    const unsigned long long *row_ptr;
    const unsigned long long *part_ptr;
    const unsigned *pop_first;
    const int *shift;
    const unsigned long long *wbase;
    const unsigned *owned;
    unsigned long long *t_start;
    double *t_mag;
    unsigned *t_tgt;
    unsigned long long *t_ptr;
    unsigned long long *t_cur;
    unsigned long long *t_pos;
    unsigned *c_count;
    const unsigned *chunk;
    unsigned n_projs, n_pops, n, delay_bits;
    unsigned slots, slot_words, hash_words, n_parts;
    unsigned old_port, new_port, n_chunks, epoch0;
};

// The rules' partners are visited in order, each by a call f(c, t): the
// c-th partner t (a local neuron of the other side) of a unit.

// myelin_construct_bernoulli visits the partners of unit u under pairwise
// Bernoulli (generator.bernoulli), ascending, out of size candidates: the
// gaps between chosen ones are floor(log(u) / log(1 - p)) of the unit's
// connectivity stream; the unit itself is skipped within one population
// without autapses. It returns their number.
template <class F>
__device__ __forceinline__ unsigned myelin_construct_bernoulli(const MyelinNet *net, const ProcDesc *p, unsigned u,
                                                               unsigned size, F f)
{
    bool skip = (p->flags & MYELIN_PROC_SKIP_SELF) != 0;
    unsigned n = 0;
    if (p->bp <= 0.0) {
        return 0;
    }
    MyelinSeq cq = myelin_seq_start(net, u, p->conn_purpose);
    for (long long t = -1;;) {
        if (p->bp >= 1.0) {
            t++;
        } else {
            double gap = floor(myelin_log(myelin_seq_uniform(&cq)) / p->blogq);
            if (gap >= (double)size) {
                break;
            }
            t += 1 + (long long)gap;
        }
        if (t >= (long long)size) {
            break;
        }
        if (!(skip && (unsigned)t == u)) {
            f(n++, (unsigned)t);
        }
    }
    return n;
}

// myelin_construct_find returns the position of candidate t in the hash
// set of entries tab (2^bits of them; linear probing): an entry is in the
// set of the current use, epoch, if its high word is epoch, and then holds
// t+1 in its low word. It returns the free entry where t would go if t is
// not there, and whether it is.
__device__ __forceinline__ unsigned myelin_construct_find(const unsigned long long *tab, unsigned bits,
                                                          unsigned long long epoch, unsigned t, bool *found)
{
    unsigned mask = (1u << bits) - 1u;
    unsigned pos = (t * 0x9E3779B1u) >> (32 - bits);
    for (;;) {
        unsigned long long v = tab[pos];
        if ((v >> 32) != epoch) {
            *found = false;
            return pos;
        }
        if ((unsigned)v == t + 1) {
            *found = true;
            return pos;
        }
        pos = (pos + 1) & mask;
    }
}

// MyelinHashSet is a thread's hash set for Floyd's sampler: 2^hash_bits
// entries of 8 bytes (myelin_construct_find). A launch's use of it for
// unit u has the epoch epoch0 + u + 1, so the entries of earlier uses
// (other units, earlier launches: the host gives every launch epochs of
// its own) count as free, and the set is never cleared.
struct MyelinHashSet {
    unsigned long long *tab;
    unsigned epoch0;
};

// myelin_construct_choose visits the k partners of unit u that
// generator.choose draws out of size candidates, in draw order, the unit
// itself skipped within one population without autapses (a candidate
// t >= u is t+1): k independent draws with multapses, Floyd's sampler
// without, with the hash set hs. It returns k.
template <class F>
__device__ __forceinline__ unsigned myelin_construct_choose(const MyelinNet *net, const ProcDesc *p, unsigned u,
                                                            unsigned size, MyelinHashSet hs, F f)
{
    bool skip = (p->flags & MYELIN_PROC_SKIP_SELF) != 0;
    unsigned k = p->k;
    unsigned m = size - (skip ? 1u : 0u);
    MyelinSeq cq = myelin_seq_start(net, u, p->conn_purpose);
    if ((p->flags & MYELIN_PROC_MULTAPSES) != 0) {
        for (unsigned c = 0; c < k; c++) {
            unsigned t = __umulhi(myelin_seq_next(&cq), m);
            f(c, skip && t >= u ? t + 1 : t);
        }
        return k;
    }
    unsigned long long *tab = hs.tab, epoch = (unsigned long long)hs.epoch0 + u + 1;
    for (unsigned c = 0, j = m - k; j < m; j++, c++) {
        unsigned t = __umulhi(myelin_seq_next(&cq), j + 1);
        bool found;
        unsigned pos = myelin_construct_find(tab, p->hash_bits, epoch, t, &found);
        if (found) {
            t = j; // never drawn yet: every member is below j
            pos = myelin_construct_find(tab, p->hash_bits, epoch, t, &found);
        }
        tab[pos] = epoch << 32 | (t + 1);
        f(c, skip && t >= u ? t + 1 : t);
    }
    return k;
}

// myelin_construct_partners visits the partners of unit u of the by-post
// rule p (local presynaptic neurons) in the order generator.unit gives
// them and returns their number: fixed in-degree (rule 5:
// myelin_construct_choose, in draw order), one-to-one (rule 2: u itself),
// all-to-all (rule 6: every presynaptic neuron) or pairwise Bernoulli
// (rule 7: myelin_construct_bernoulli).
template <class F>
__device__ __forceinline__ unsigned myelin_construct_partners(const MyelinNet *net, const ProcDesc *p, unsigned u,
                                                              MyelinHashSet hs, F f)
{
    bool skip = (p->flags & MYELIN_PROC_SKIP_SELF) != 0;
    switch (p->rule) {
    case 2:
        if (skip) {
            return 0;
        }
        f(0u, u);
        return 1;
    case 6: {
        unsigned n = 0;
        for (unsigned i = 0; i < p->pre_size; i++) {
            if (!(skip && i == u)) {
                f(n++, i);
            }
        }
        return n;
    }
    case 7:
        return myelin_construct_bernoulli(net, p, u, p->pre_size, f);
    }
    return myelin_construct_choose(net, p, u, p->pre_size, hs, f);
}

// The draws of a synapse's weight and delay (procedural.cuh's), as
// functions of their own where they draw: the rules' loops
// (myelin_construct_partners, myelin_construct_row) instantiate each
// visitor several times, which would otherwise each hold a copy of every
// distribution's code.
__device__ __noinline__ double myelin_construct_signed(const MyelinNet *net, const ProcDesc *p, MyelinSeq *wq)
{
    return myelin_proc_signed(net, p, wq);
}

__device__ __noinline__ int myelin_construct_weight_drawn(const MyelinNet *net, const ProcDesc *p, MyelinSeq *wq)
{
    return myelin_proc_weight(net, p, wq);
}

__device__ __noinline__ unsigned myelin_construct_delay_drawn(const MyelinNet *net, const ProcDesc *p, MyelinSeq *dq)
{
    return myelin_proc_delay(net, p, dq);
}

// myelin_construct_weight is myelin_proc_weight: the constant, or a draw.
__device__ __forceinline__ int myelin_construct_weight(const MyelinNet *net, const ProcDesc *p, MyelinSeq *wq)
{
    return p->wkind == 0 ? p->cweight : myelin_construct_weight_drawn(net, p, wq);
}

// myelin_construct_delay is myelin_proc_delay: the constant, or a draw.
__device__ __forceinline__ unsigned myelin_construct_delay(const MyelinNet *net, const ProcDesc *p, MyelinSeq *dq)
{
    return p->dkind == 0 ? p->cdelay : myelin_construct_delay_drawn(net, p, dq);
}

// myelin_construct_slot sets thread gid's hash set *hs and scratch words
// *words, and the stride of the threads' loop over their work (the
// threads that have a slot); false if the launch has more threads than
// slots.
__device__ __forceinline__ bool myelin_construct_slot(const MyelinBuild *b, unsigned long long gid,
                                                      unsigned long long *stride, MyelinHashSet *hs,
                                                      unsigned **words)
{
    *stride = (unsigned long long)gridDim.x * blockDim.x;
    if (*stride > b->slots) {
        *stride = b->slots;
    }
    if (gid >= b->slots) {
        return false;
    }
    hs->tab = (unsigned long long *)(b->hash + gid * (unsigned long long)b->hash_words);
    hs->epoch0 = b->epoch0;
    *words = b->scratch + gid * (unsigned long long)b->slot_words;
    return true;
}

// myelin_construct_finite reports whether a drawn magnitude a of
// projection q is finite, where it is not keeping in bad the least such q
// (as n_projs - q: the host reports the first projection that fails;
// synapses.go: "the weight distribution overflows float64").
__device__ __forceinline__ bool myelin_construct_finite(const MyelinBuild *b, double a, unsigned q)
{
    if (!(a <= 1.7976931348623157e308)) {
        atomicMax(b->bad, b->n_projs - q);
        return false;
    }
    return true;
}

// myelin_construct_block_sort sorts key[0, n) in ascending order, moving
// pa and pb (each may be null) along, by the threads of the block
// together: every thread of the block calls it with the same arguments,
// after a barrier if they wrote the arrays, and it ends with one. A
// bitonic network in place whose comparators all sort ascending (each
// merge starts by comparing mirrored halves), so positions from n to the
// next power of two count as +infinity and are never touched; the pairs
// of a phase are disjoint, and a barrier separates phases. Equal keys may
// trade places: callers sort unique keys, or keys that determine their
// payload.
template <class K>
__device__ __forceinline__ void myelin_construct_block_sort(K *key, unsigned *pa, int *pb, unsigned long long n)
{
    if (n < 2) {
        return;
    }
    unsigned lm = 1;
    while ((1ull << lm) < n) {
        lm++;
    }
    unsigned long long half = 1ull << (lm - 1); // comparators per phase
    for (unsigned lk = 1; lk <= lm; lk++) {     // merges of 2^lk
        for (unsigned lj = lk; lj-- > 0;) {      // pairs 2^lj apart (mirrored in the first phase)
            for (unsigned long long i = threadIdx.x; i < half; i += blockDim.x) {
                unsigned long long pos = i & ((1ull << lj) - 1), base = (i >> lj) << (lj + 1);
                unsigned long long lo = base + pos;
                unsigned long long hi = lj + 1 == lk ? base + (1ull << lk) - 1 - pos : lo + (1ull << lj);
                if (hi < n && key[hi] < key[lo]) {
                    K k = key[lo];
                    key[lo] = key[hi];
                    key[hi] = k;
                    if (pa) {
                        unsigned x = pa[lo];
                        pa[lo] = pa[hi];
                        pa[hi] = x;
                    }
                    if (pb) {
                        int x = pb[lo];
                        pb[lo] = pb[hi];
                        pb[hi] = x;
                    }
                }
            }
            __syncthreads();
        }
    }
}

// myelin_construct_last returns the last k < n with first[k] <= x (first
// ascending from first[0] <= x): a binary search.
template <class T>
__device__ __forceinline__ unsigned myelin_construct_last(const T *first, unsigned n, T x)
{
    unsigned lo = 0, hi = n - 1;
    while (lo < hi) {
        unsigned m = lo + (hi - lo + 1) / 2;
        if (first[m] <= x) {
            lo = m;
        } else {
            hi = m - 1;
        }
    }
    return lo;
}

// myelin_construct_item returns the projection q of work item x (one of
// the items of every projection of the launch, item_first[q] <= x <
// item_first[q + 1]) and sets *i to x's place among q's items.
__device__ __forceinline__ unsigned myelin_construct_item(const MyelinBuild *b, unsigned long long x,
                                                          unsigned long long *i)
{
    unsigned q = myelin_construct_last(b->item_first, b->n_projs, x);
    *i = x - b->item_first[q];
    return q;
}

// myelin_construct_count(b, proj, -): pass 1 of projection proj, one unit
// (postsynaptic neuron) per thread: its partners' counts, and its bound
// (synapses.go pass 1: the constant's magnitude added once per synapse, or
// each drawn weight's, in draw order; a rule of one unit sums them from 0,
// as a chunk's partial sum, then adds that to the bound).
extern "C" __global__ void myelin_construct_count(const __grid_constant__ MyelinBuild b_, unsigned proj, unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride;
    MyelinHashSet hs;
    unsigned *words;
    if (!myelin_construct_slot(b, gid, &stride, &hs, &words)) {
        return;
    }
    double *abs = b->abs + p->post_first;
    bool one = p->n_post == 1;
    for (unsigned long long u = gid; u < p->n_post; u += stride) {
        unsigned n = myelin_construct_partners(&b->net, p, (unsigned)u, hs,
                                               [&](unsigned c, unsigned pre) { atomicAdd(&bp->count[pre], 1u); });
        atomicMax(&b->most[proj], n);
        if (bp->unit_n != 0) {
            bp->unit_n[u] = n;
        }
        if ((bp->mode & MYELIN_CONSTRUCT_SUM_CONST) != 0) {
            double x = one ? 0.0 : abs[u];
            for (unsigned c = 0; c < n; c++) {
                x += bp->aw;
            }
            abs[u] = one ? abs[u] + x : x;
        } else if ((bp->mode & MYELIN_CONSTRUCT_SUM_DRAWN) != 0) {
            MyelinSeq wq = myelin_seq_start(&b->net, (unsigned)u, p->w_purpose);
            double x = one ? 0.0 : abs[u];
            for (unsigned c = 0; c < n; c++) {
                double a = fabs(myelin_construct_signed(&b->net, p, &wq));
                myelin_construct_finite(b, a, proj);
                x += a > bp->floor_mag ? a : bp->floor_mag;
            }
            abs[u] = one ? abs[u] + x : x;
        }
    }
}

// myelin_construct_place returns where synapse (unit u, partner pre) of
// projection bp goes in pre's part of its row: under one-to-one and
// all-to-all, the host's place (units ascending, the unit itself skipped
// where the rule skips it); otherwise the next at pre's cursor, its place
// found later by key (myelin_construct_order).
__device__ __forceinline__ unsigned long long myelin_construct_place(const BuildProj *bp, unsigned u, unsigned pre)
{
    switch (bp->p.rule) {
    case 2:
        return bp->start[pre];
    case 6:
        return bp->start[pre] + ((bp->p.flags & MYELIN_PROC_SKIP_SELF) != 0 && u > pre ? u - 1 : u);
    }
    return atomicAdd(&bp->cursor[pre], 1ull);
}

// myelin_construct_fill(b, proj, -): pass 2 of projection proj, one unit
// per thread (writeProjection): each synapse's packed word at its
// presynaptic neuron's cursor, its key (unit << 32 | draw) where the rows
// keep pass 2's order, its weight where the unit's weights are stored
// now (quantized; or as float32 bits where deferred, their magnitudes
// added to the unit's bound); the longest delay into longest[proj].
extern "C" __global__ void myelin_construct_fill(const __grid_constant__ MyelinBuild b_, unsigned proj, unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride;
    MyelinHashSet hs;
    unsigned *words;
    if (!myelin_construct_slot(b, gid, &stride, &hs, &words)) {
        return;
    }
    unsigned longest = 0;
    bool deferred = (bp->mode & MYELIN_CONSTRUCT_DEFER) != 0;
    for (unsigned long long u = gid; u < p->n_post; u += stride) {
        MyelinSeq wq = myelin_seq_start(&b->net, (unsigned)u, p->w_purpose);
        MyelinSeq dq = myelin_seq_start(&b->net, (unsigned)u, p->d_purpose);
        unsigned word = (p->post_first + (unsigned)u) << b->delay_bits | bp->port;
        double x = deferred ? b->abs[p->post_first + u] : 0.0;
        myelin_construct_partners(&b->net, p, (unsigned)u, hs, [&](unsigned c, unsigned pre) {
            unsigned d = myelin_construct_delay(&b->net, p, &dq);
            longest = d > longest ? d : longest;
            unsigned long long at = myelin_construct_place(bp, (unsigned)u, pre);
            b->packed[at] = word | d;
            if ((bp->mode & MYELIN_CONSTRUCT_KEYS) != 0) {
                b->keys[at] = u << 32 | c;
            }
            if ((bp->mode & MYELIN_CONSTRUCT_KEEP) != 0) {
                b->weight[at - bp->wofs] = myelin_construct_weight(&b->net, p, &wq);
            } else if (deferred) {
                double w = myelin_construct_signed(&b->net, p, &wq);
                myelin_construct_finite(b, fabs(w), proj);
                x += fabs(w);
                b->weight[at - bp->wofs] = __float_as_int((float)w);
            }
        });
        if (deferred) {
            b->abs[p->post_first + u] = x;
        }
    }
    atomicMax(&b->longest[proj], longest);
}

// myelin_construct_unit_first returns how many synapses of projection bp
// the units before u have (u × k under a fixed in-degree; from ustart
// under pairwise Bernoulli).
__device__ __forceinline__ unsigned long long myelin_construct_unit_first(const BuildProj *bp, unsigned long long u)
{
    return bp->p.rule == 7 ? bp->ustart[u] : u * bp->p.k;
}

// myelin_construct_order(b, -, -): the part of each row of every
// projection of the launch sorted by key, one part (a presynaptic neuron
// of a projection: its item) per block: the order in which the host's
// pass 2 writes it. Where b->inv is set, each row-order synapse's place
// goes there too.
extern "C" __global__ void myelin_construct_order(const __grid_constant__ MyelinBuild b_, unsigned unused0,
                                                  unsigned unused1)
{
    const MyelinBuild *b = &b_;
    for (unsigned long long x = blockIdx.x; x < b->item_first[b->n_projs]; x += gridDim.x) {
        unsigned long long i;
        const BuildProj *bp = &b->projs[myelin_construct_item(b, x, &i)];
        bool keep = (bp->mode & (MYELIN_CONSTRUCT_KEEP | MYELIN_CONSTRUCT_DEFER)) != 0; // weights stored in pass 2
        unsigned long long lo = bp->start[i];
        unsigned n = bp->count[i];
        myelin_construct_block_sort(b->keys + lo, b->packed + lo, keep ? b->weight + (lo - bp->wofs) : 0, n);
        if (b->inv != 0 && (bp->mode & MYELIN_CONSTRUCT_ROWW) != 0) {
            for (unsigned j = threadIdx.x; j < n; j += blockDim.x) {
                unsigned long long k = b->keys[lo + j];
                b->inv[bp->inv_base + myelin_construct_unit_first(bp, k >> 32) + (unsigned)k] = lo + j;
            }
        }
    }
}

// myelin_construct_row_weights(b, -, -): the weights of every projection
// of the launch, drawn row by row (drawRowWeights), one item (a
// presynaptic neuron i of a projection) per thread: weight j of its part
// of the row is draw j of item i of the weight stream, signed, stored as
// float32 bits; its magnitude goes to mags.
extern "C" __global__ void myelin_construct_row_weights(const __grid_constant__ MyelinBuild b_, unsigned unused0,
                                                        unsigned unused1)
{
    const MyelinBuild *b = &b_;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long x = gid; x < b->item_first[b->n_projs]; x += stride) {
        unsigned long long i;
        unsigned q = myelin_construct_item(b, x, &i);
        const BuildProj *bp = &b->projs[q];
        const ProcDesc *p = &bp->p;
        MyelinSeq wq = myelin_seq_start(&b->net, (unsigned)i, p->w_purpose);
        unsigned long long lo = bp->start[i];
        for (unsigned j = 0, n = bp->count[i]; j < n; j++) {
            double w = myelin_construct_signed(&b->net, p, &wq);
            myelin_construct_finite(b, fabs(w), q);
            b->weight[lo + j - bp->wofs] = __float_as_int((float)w);
            b->mags[lo + j] = fabs(w);
        }
    }
}

// myelin_construct_row visits the targets of unit i of the rule p drawn
// per presynaptic neuron (local postsynaptic neurons) in the order of the
// host's pass 2, ascending, and returns their number: fixed out-degree
// (rule 1: myelin_construct_choose, sorted in list, k words) or pairwise
// Bernoulli by source (rule 4: myelin_construct_bernoulli).
template <class F>
__device__ __forceinline__ unsigned myelin_construct_row(const MyelinNet *net, const ProcDesc *p, unsigned i,
                                                         MyelinHashSet hs, unsigned *list, F f)
{
    if (p->rule == 4) {
        return myelin_construct_bernoulli(net, p, i, p->n_post, f);
    }
    unsigned k = myelin_construct_choose(net, p, i, p->n_post, hs, [&](unsigned c, unsigned t) { list[c] = t; });
    myelin_proc_sort(list, k);
    for (unsigned c = 0; c < k; c++) {
        f(c, list[c]);
    }
    return k;
}

// myelin_construct_chunk returns the chunk of unit u (chunk[c] <= u <
// chunk[c+1]).
__device__ __forceinline__ unsigned myelin_construct_chunk(const MyelinBuild *b, unsigned u)
{
    unsigned c = 0;
    while (c + 1 < b->n_chunks && b->chunk[c + 1] <= u) {
        c++;
    }
    return c;
}

// myelin_construct_count_pre(b, proj, -): pass 1 of projection proj, drawn
// per presynaptic neuron, one unit (row) per thread: its length, and for a
// constant weight each synapse counted in c_count by (chunk, target).
extern "C" __global__ void myelin_construct_count_pre(const __grid_constant__ MyelinBuild b_, unsigned proj,
                                                      unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride;
    MyelinHashSet hs;
    unsigned *list;
    if (!myelin_construct_slot(b, gid, &stride, &hs, &list)) {
        return;
    }
    bool sum = (bp->mode & MYELIN_CONSTRUCT_SUM_CONST) != 0;
    for (unsigned long long i = gid; i < p->pre_size; i += stride) {
        unsigned *cc = sum ? b->c_count + (unsigned long long)myelin_construct_chunk(b, (unsigned)i) * p->n_post : 0;
        bp->count[i] += myelin_construct_row(&b->net, p, (unsigned)i, hs, list, [&](unsigned j, unsigned t) {
            if (sum) {
                atomicAdd(&cc[t], 1u);
            }
        });
    }
}

// myelin_construct_const_sums_pre(b, proj, -): the bounds of projection
// proj's targets for a constant weight, one target per thread: per chunk,
// the magnitude added once per synapse from 0, the chunks' sums added in
// chunk order (synapses.go pass 1, partial sums by chunk).
extern "C" __global__ void myelin_construct_const_sums_pre(const __grid_constant__ MyelinBuild b_, unsigned proj,
                                                           unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long t = gid; t < p->n_post; t += stride) {
        double x = b->abs[p->post_first + t];
        for (unsigned c = 0; c < b->n_chunks; c++) {
            double s = 0.0;
            for (unsigned j = 0, n = b->c_count[(unsigned long long)c * p->n_post + t]; j < n; j++) {
                s += bp->aw;
            }
            x += s;
        }
        b->abs[p->post_first + t] = x;
    }
}

// myelin_construct_mags_pre(b, proj, -): the drawn weights of projection
// proj, one unit (row) per thread, as pass 1 draws them: magnitude and
// target of synapse j of unit u at t_start[u] + j, the targets' synapses
// counted in t_cur.
extern "C" __global__ void myelin_construct_mags_pre(const __grid_constant__ MyelinBuild b_, unsigned proj,
                                                     unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride;
    MyelinHashSet hs;
    unsigned *list;
    if (!myelin_construct_slot(b, gid, &stride, &hs, &list)) {
        return;
    }
    for (unsigned long long i = gid; i < p->pre_size; i += stride) {
        MyelinSeq wq = myelin_seq_start(&b->net, (unsigned)i, p->w_purpose);
        unsigned long long at = b->t_start[i];
        myelin_construct_row(&b->net, p, (unsigned)i, hs, list, [&](unsigned j, unsigned t) {
            double w = p->wkind == 0 ? bp->aw : myelin_construct_signed(&b->net, p, &wq);
            double a = fabs(w);
            myelin_construct_finite(b, a, proj);
            b->t_mag[at + j] = a > bp->floor_mag ? a : bp->floor_mag;
            b->t_tgt[at + j] = t;
            atomicAdd(&b->t_cur[t], 1ull);
        });
    }
}

// myelin_construct_scatter_pre(b, proj, -): each synapse's position into
// its target's list (t_pos from t_ptr; t_cur the cursors), one unit per
// thread, in any order.
extern "C" __global__ void myelin_construct_scatter_pre(const __grid_constant__ MyelinBuild b_, unsigned proj,
                                                        unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = gid; i < bp->p.pre_size; i += stride) {
        for (unsigned long long x = b->t_start[i], e = b->t_start[i + 1]; x < e; x++) {
            b->t_pos[atomicAdd(&b->t_cur[b->t_tgt[x]], 1ull)] = x;
        }
    }
}

// myelin_construct_walk returns, in the block's thread 0, x plus the
// magnitudes mag[pos[e]] of the ascending positions pos[0, n), summed from
// 0 within each segment and the segments' sums added to x in order:
// segment k ends before position bound(k) (~0 for the last). The sums are
// the host's, one addition at a time, by thread 0; the block first stages
// MYELIN_CONSTRUCT_TILE positions and their magnitudes at a time in shared
// memory, all its threads loading in parallel, so that thread 0's walk
// waits on no scattered load. Every thread of the block calls it (it has
// barriers); the others' return value is meaningless.
#define MYELIN_CONSTRUCT_TILE 1024
template <class Bound>
__device__ __forceinline__ double myelin_construct_walk(const unsigned long long *pos, const double *mag,
                                                        unsigned long long n, double x, Bound bound)
{
    __shared__ unsigned long long tile_pos[MYELIN_CONSTRUCT_TILE];
    __shared__ double tile_mag[MYELIN_CONSTRUCT_TILE];
    double s = 0.0;
    unsigned seg = 0;
    unsigned long long next = threadIdx.x == 0 ? bound(0u) : 0;
    for (unsigned long long e0 = 0; e0 < n; e0 += MYELIN_CONSTRUCT_TILE) {
        unsigned m = n - e0 < MYELIN_CONSTRUCT_TILE ? (unsigned)(n - e0) : MYELIN_CONSTRUCT_TILE;
        for (unsigned k = threadIdx.x; k < m; k += blockDim.x) {
            unsigned long long q = pos[e0 + k];
            tile_pos[k] = q;
            tile_mag[k] = mag[q];
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            for (unsigned k = 0; k < m; k++) {
                while (tile_pos[k] >= next) {
                    x += s;
                    s = 0.0;
                    seg++;
                    next = bound(seg);
                }
                s += tile_mag[k];
            }
        }
        __syncthreads(); // the next tile overwrites this one
    }
    return x + s;
}

// myelin_construct_drawn_sums_pre(b, proj, -): the bounds of projection
// proj's targets for drawn weights, one target per block, in the host's
// order: its synapses by position (units ascending, then in row order),
// summed per chunk from 0, the chunks' sums added in chunk order.
extern "C" __global__ void myelin_construct_drawn_sums_pre(const __grid_constant__ MyelinBuild b_, unsigned proj,
                                                           unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    for (unsigned long long t = blockIdx.x; t < p->n_post; t += gridDim.x) {
        unsigned long long lo = b->t_ptr[t], n = b->t_ptr[t + 1] - lo;
        unsigned long long *pos = b->t_pos + lo;
        myelin_construct_block_sort(pos, 0, 0, n);
        double x = myelin_construct_walk(pos, b->t_mag, n, b->abs[p->post_first + t], [&](unsigned c) {
            return c + 1 < b->n_chunks ? b->t_start[b->chunk[c + 1]] : ~0ull;
        });
        if (threadIdx.x == 0 && n > 0) { // n == 0: no barrier in the walk, and nothing to add
            b->abs[p->post_first + t] = x;
        }
    }
}

// myelin_construct_fill_pre(b, proj, -): pass 2 of projection proj, drawn
// per presynaptic neuron, one unit (row) per thread: its synapses written
// in the host's order from start[i], weights stored (quantized) where
// they are; the longest delay into longest[proj].
extern "C" __global__ void myelin_construct_fill_pre(const __grid_constant__ MyelinBuild b_, unsigned proj,
                                                     unsigned unused)
{
    const MyelinBuild *b = &b_;
    const BuildProj *bp = &b->projs[proj];
    const ProcDesc *p = &bp->p;
    unsigned long long gid = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long stride;
    MyelinHashSet hs;
    unsigned *list;
    if (!myelin_construct_slot(b, gid, &stride, &hs, &list)) {
        return;
    }
    unsigned longest = 0;
    for (unsigned long long i = gid; i < p->pre_size; i += stride) {
        MyelinSeq wq = myelin_seq_start(&b->net, (unsigned)i, p->w_purpose);
        MyelinSeq dq = myelin_seq_start(&b->net, (unsigned)i, p->d_purpose);
        unsigned long long at = bp->start[i];
        myelin_construct_row(&b->net, p, (unsigned)i, hs, list, [&](unsigned j, unsigned t) {
            unsigned d = myelin_construct_delay(&b->net, p, &dq);
            longest = d > longest ? d : longest;
            b->packed[at + j] = (p->post_first + t) << b->delay_bits | bp->port | d;
            if ((bp->mode & MYELIN_CONSTRUCT_KEEP) != 0) {
                b->weight[at + j - bp->wofs] = myelin_construct_weight(&b->net, p, &wq);
            }
        });
    }
    atomicMax(&b->longest[proj], longest);
}

// myelin_construct_pop returns the population of global neuron i.
__device__ __forceinline__ unsigned myelin_construct_pop(const MyelinBuild *b, unsigned i)
{
    return myelin_construct_last(b->pop_first, b->n_pops, i);
}

// myelin_construct_row_sums(b, -, -): the row-order weights' magnitudes
// of the launch's projections added to their targets' bounds, one target
// (a neuron of a population that some of them reach) per block, as
// drawRowWeights adds them: the rows split in n_parts parts (part_ptr),
// each summing over its rows in ascending order (a row's projections in
// spec order, then its synapses in order: ascending packed index), the
// parts' sums added in part order. The block lists the target's synapses
// of every such projection in its scratch (their places: from inv, where
// the order kernel recorded them, or as all-to-all writes them), sorts
// them, and walks the parts (myelin_construct_walk: staged by the block,
// added by its first thread).
extern "C" __global__ void myelin_construct_row_sums(const __grid_constant__ MyelinBuild b_, unsigned unused0,
                                                     unsigned unused1)
{
    const MyelinBuild *b = &b_;
    if (blockIdx.x >= b->slots) {
        return;
    }
    unsigned long long *pos = (unsigned long long *)(b->scratch + blockIdx.x * (unsigned long long)b->slot_words);
    unsigned long long stride = gridDim.x < b->slots ? gridDim.x : b->slots;
    for (unsigned long long g = blockIdx.x; g < b->n; g += stride) {
        unsigned pop = myelin_construct_pop(b, (unsigned)g);
        unsigned long long u = g - b->pop_first[pop], n = 0;
        for (unsigned q = 0; q < b->n_projs; q++) {
            const BuildProj *bp = &b->projs[q];
            if (bp->post_pop != pop || (bp->mode & MYELIN_CONSTRUCT_ROWW) == 0) {
                continue;
            }
            bool skip = (bp->p.flags & MYELIN_PROC_SKIP_SELF) != 0;
            if (bp->p.rule == 6) { // all-to-all: every presynaptic neuron, at its place (myelin_construct_place)
                unsigned long long m = bp->p.pre_size - (skip ? 1 : 0);
                for (unsigned long long c = threadIdx.x; c < m; c += blockDim.x) {
                    unsigned long long pre = skip && c >= u ? c + 1 : c;
                    pos[n + c] = bp->start[pre] + (skip && u > pre ? u - 1 : u);
                }
                n += m;
            } else {
                unsigned long long first = bp->inv_base + myelin_construct_unit_first(bp, u);
                unsigned long long m = myelin_construct_unit_first(bp, u + 1) - myelin_construct_unit_first(bp, u);
                for (unsigned long long c = threadIdx.x; c < m; c += blockDim.x) {
                    pos[n + c] = b->inv[first + c];
                }
                n += m;
            }
        }
        __syncthreads();
        myelin_construct_block_sort(pos, 0, 0, n);
        double x = myelin_construct_walk(pos, b->mags, n, b->abs[g], [&](unsigned part) {
            return part < b->n_parts ? b->part_ptr[part + 1] : ~0ull;
        });
        if (threadIdx.x == 0 && n > 0) {
            b->abs[g] = x;
        }
        __syncthreads(); // the next target's places go to pos
    }
}

// myelin_construct_quantize converts a deferred weight (float32 bits) to
// the fixed point of a population of shift sh (quantizeRow).
__device__ __forceinline__ int myelin_construct_quantize(int v, int sh)
{
    return (int)round((double)__int_as_float(v) * ldexp(1.0, sh));
}

// myelin_construct_finish(b, -, -): every row finished as sortRows leaves
// it, one row per block. Rows of an owned population (all of its stored
// weights row-order) are sorted stably by packed word and each weight
// quantized in its target's scale; other rows have their row-order parts
// quantized in their projection's target scale and, unless sorted by
// word already, are sorted by (word, weight bits). Then the slow port's
// bit moves from old_port to new_port (lowerPortBit; this keeps rows
// sorted). The shortest delay goes to max_delay, complemented (an
// atomicMax of ~delay).
extern "C" __global__ void myelin_construct_finish(const __grid_constant__ MyelinBuild b_, unsigned unused0,
                                                  unsigned unused1)
{
    const MyelinBuild *b = &b_;
    __shared__ unsigned unsorted;
    unsigned shortest = 0xFFFFFFFFu;
    for (unsigned long long r = blockIdx.x; r < b->n; r += gridDim.x) {
        unsigned long long lo = b->row_ptr[r], hi = b->row_ptr[r + 1];
        unsigned n = (unsigned)(hi - lo);
        unsigned pi = myelin_construct_pop(b, (unsigned)r);
        unsigned *pk = b->packed + lo;
        unsigned long long *key = b->keys + lo; // only where weights are stored
        int *w = 0;
        if (b->wbase[pi] != MYELIN_COMPACT) {
            w = b->weight + (b->wbase[pi] + lo - b->row_ptr[b->pop_first[pi]]);
        }
        if (b->owned[pi] != 0) {
            for (unsigned j = threadIdx.x; j < n; j += blockDim.x) {
                key[j] = (unsigned long long)pk[j] << 32 | j;
            }
            __syncthreads();
            myelin_construct_block_sort(key, pk, w, n);
            for (unsigned j = threadIdx.x; j < n; j += blockDim.x) {
                w[j] = myelin_construct_quantize(w[j], b->shift[myelin_construct_pop(b, pk[j] >> b->delay_bits)]);
            }
        } else {
            for (unsigned q = 0; q < b->n_projs; q++) {
                const BuildProj *bp = &b->projs[q];
                if (bp->pre_pop != pi || (bp->mode & (MYELIN_CONSTRUCT_ROWW | MYELIN_CONSTRUCT_DEFER)) == 0) {
                    continue;
                }
                unsigned i = (unsigned)r - b->pop_first[pi];
                int sh = b->shift[bp->post_pop];
                for (unsigned long long x = bp->start[i] + threadIdx.x, e = bp->start[i] + bp->count[i]; x < e;
                     x += blockDim.x) {
                    b->weight[x - bp->wofs] = myelin_construct_quantize(b->weight[x - bp->wofs], sh);
                }
            }
            if (threadIdx.x == 0) {
                unsorted = 0;
            }
            __syncthreads();
            for (unsigned j = 1 + threadIdx.x; j < n; j += blockDim.x) {
                if (pk[j - 1] > pk[j]) {
                    atomicOr(&unsorted, 1u); // an atomic: a plain store from many threads is a race to racecheck
                }
            }
            __syncthreads();
            if (unsorted != 0 && w == 0) {
                myelin_construct_block_sort(pk, 0, 0, n);
            } else if (unsorted != 0) {
                for (unsigned j = threadIdx.x; j < n; j += blockDim.x) {
                    key[j] = (unsigned long long)pk[j] << 32 | (unsigned)w[j];
                }
                __syncthreads();
                myelin_construct_block_sort(key, pk, w, n);
            }
        }
        if (b->new_port < b->old_port) {
            for (unsigned j = threadIdx.x; j < n; j += blockDim.x) {
                if ((pk[j] & b->old_port) != 0) {
                    pk[j] = (pk[j] & ~b->old_port) | b->new_port;
                }
            }
        }
        unsigned mask = ((1u << b->delay_bits) - 1u) & ~b->new_port;
        for (unsigned j = threadIdx.x; j < n; j += blockDim.x) {
            shortest = (pk[j] & mask) < shortest ? (pk[j] & mask) : shortest;
        }
        __syncthreads(); // unsorted is the next row's (where this row sorted, the sort's barriers did it already)
    }
    atomicMax(b->max_delay, ~shortest);
}
