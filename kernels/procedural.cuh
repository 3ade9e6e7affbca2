// procedural.cuh: delivery of procedural projections (network.Procedural,
// docs/procedural.md): a row is regenerated from the seed when its
// presynaptic neuron spikes, with the draws of the host's builder
// (engine/network: generator.choose and drawWD, as network.RowGen.Row
// runs them), and added into the ring with integer atomics, as stored
// synapses are (deliver.cuh). One thread generates one row: Floyd's
// sampler is sequential (each draw looks up the draws before it).
#ifndef MYELIN_PROCEDURAL_CUH
#define MYELIN_PROCEDURAL_CUH

#include "network.cuh"
#include "philox.cuh"
#include "xmath.cuh"

// MyelinSeq is rng.Seq: the draws of one item of a stream (seed, purpose),
// draw j being word j%4 of Philox block (item, j/4, purpose).
struct MyelinSeq {
    unsigned item, purpose, key0, key1;
    unsigned long long j;
    Philox4 b;
};

// myelin_seq_start returns the reader of item's draws from draw 0.
__device__ __forceinline__ MyelinSeq myelin_seq_start(const MyelinNet *net, unsigned item, unsigned purpose)
{
    MyelinSeq q;
    q.item = item;
    q.purpose = purpose;
    q.key0 = net->key0;
    q.key1 = net->key1;
    q.j = 0;
    q.b.x0 = q.b.x1 = q.b.x2 = q.b.x3 = 0;
    return q;
}

// myelin_seq_next is rng.Seq.Uint32: the next draw.
__device__ __forceinline__ unsigned myelin_seq_next(MyelinSeq *q)
{
    unsigned w = (unsigned)(q->j & 3ull);
    if (w == 0) {
        unsigned long long blk = q->j >> 2;
        q->b = myelin_philox4x32(q->item, (unsigned)blk, (unsigned)(blk >> 32), q->purpose, q->key0, q->key1);
    }
    q->j++;
    return myelin_philox_word(q->b, w);
}

// myelin_seq_uniform is rng.Seq.Float64: (n + 0.5) / 2^53 for the 53-bit n
// of two draws, in (0, 1].
__device__ __forceinline__ double myelin_seq_uniform(MyelinSeq *q)
{
    unsigned long long hi = (unsigned long long)(myelin_seq_next(q) >> 6);
    unsigned long long lo = (unsigned long long)(myelin_seq_next(q) >> 5);
    return ((double)(hi << 27 | lo) + 0.5) / 9007199254740992.0;
}

// The ziggurat's tables at the start of proc_thr (launch lays them out
// from rng.ZigguratTables): the layers' scales w and densities f (256
// doubles each), the inner-rectangle bounds k (256 words) and the base
// layer's right edge r (a double).
#define MYELIN_ZIG_F 512u
#define MYELIN_ZIG_K 1024u
#define MYELIN_ZIG_R 1280u

// myelin_normal is rng.Seq.Normal: Marsaglia and Tsang's ziggurat with the
// layer, sign and position from disjoint bits of one word, the wedge test
// (xmath's exp) and the tail beyond r (xmath's log) on the slow path.
__device__ __forceinline__ double myelin_normal(const MyelinNet *net, MyelinSeq *q)
{
    const double *zw = (const double *)net->proc_thr;
    const double *zf = (const double *)(net->proc_thr + MYELIN_ZIG_F);
    const unsigned *zk = net->proc_thr + MYELIN_ZIG_K;
    double zr = *(const double *)(net->proc_thr + MYELIN_ZIG_R);
    for (;;) {
        unsigned w = myelin_seq_next(q);
        unsigned i = w >> 24;
        unsigned u = w & 0x7FFFFFu;
        double x = (double)u * zw[i];
        if (u >= zk[i]) {
            if (i == 0) {
                for (;;) {
                    double a = -myelin_log(myelin_seq_uniform(q)) / zr;
                    double b = -myelin_log(myelin_seq_uniform(q));
                    if (b + b >= a * a) {
                        x = zr + a;
                        break;
                    }
                }
            } else if (!(zf[i] + myelin_seq_uniform(q) * (zf[i - 1] - zf[i]) < myelin_exp(-0.5 * x * x))) {
                continue;
            }
        }
        // Bit 23 of the word is the sign.
        return __longlong_as_double(__double_as_longlong(x) | ((long long)(w & 0x800000u) << 40));
    }
}

// myelin_proc_sample is sampler.draw for a drawn kind (1 uniform, 2
// normal, 3 lognormal) with parameters a, b, the normal's accepted range
// [lo, hi] (redrawn up to 1000 times, then clamped) and the lognormal's
// sign.
__device__ __forceinline__ double myelin_proc_sample(const MyelinNet *net, unsigned kind, double a, double b,
                                                     double lo, double hi, bool neg, MyelinSeq *q)
{
    if (kind == 1) {
        return a + b * myelin_seq_uniform(q);
    }
    if (kind == 2) {
        double x = 0.0;
        for (int i = 0; i < 1000; i++) {
            x = a + b * myelin_normal(net, q);
            if (x >= lo && x <= hi) {
                return x;
            }
        }
        x = x > lo ? x : lo;
        return x < hi ? x : hi;
    }
    double x = myelin_exp(a + b * myelin_normal(net, q));
    return neg ? -x : x;
}

// myelin_proc_signed is the next drawn weight (wkind != 0) signed by the
// receptor (generator.drawWD: sampler.fill, then generator.signed).
__device__ __forceinline__ double myelin_proc_signed(const MyelinNet *net, const ProcDesc *p, MyelinSeq *wq)
{
    double w = myelin_proc_sample(net, p->wkind, p->wa, p->wb, p->wlo, p->whi, (p->flags & MYELIN_PROC_WNEG) != 0, wq);
    if (p->wsign > 0.0) {
        w = fabs(w);
    } else if (p->wsign < 0.0) {
        w = -fabs(w);
    }
    return w;
}

// myelin_proc_weight is the next weight of a row in fixed point
// (generator.drawWD, then RowGen.quantize): the constant, or a draw signed
// by the receptor (myelin_proc_signed), rounded to float32 where the
// stored mode defers it, times 2^shift, rounded half away from zero.
__device__ __forceinline__ int myelin_proc_weight(const MyelinNet *net, const ProcDesc *p, MyelinSeq *wq)
{
    if (p->wkind == 0) {
        return p->cweight;
    }
    double w = myelin_proc_signed(net, p, wq);
    if ((p->flags & MYELIN_PROC_VIA_F32) != 0) {
        w = (double)(float)w;
    }
    return (int)round(w * p->scale);
}

// myelin_proc_delay is the next delay field of a row (generator.drawWD):
// the constant, a step of the table (stepTable.step: the first k with
// word < thr[k], the last one otherwise; the thresholds ascend), or a
// delay drawn in ms (myelin_proc_sample) rounded to steps (delaySteps);
// with the port bit.
__device__ __forceinline__ unsigned myelin_proc_delay(const MyelinNet *net, const ProcDesc *p, MyelinSeq *dq)
{
    if (p->dkind == 0) {
        return p->cdelay;
    }
    unsigned d;
    if (p->dkind == 4) {
        unsigned w = myelin_seq_next(dq);
        const unsigned *thr = net->proc_thr + p->thr_off;
        unsigned lo = 0, hi = p->thr_len - 1;
        while (lo < hi) {
            unsigned m = lo + (hi - lo) / 2;
            if (w < thr[m]) {
                hi = m;
            } else {
                lo = m + 1;
            }
        }
        d = p->dfirst + lo;
    } else {
        double x = myelin_proc_sample(net, p->dkind, p->da, p->db, p->dlo, p->dhi, (p->flags & MYELIN_PROC_DNEG) != 0, dq);
        double st = round(x / p->dt);
        if (st < 1.0 || isnan(st)) {
            d = 1;
        } else if (st > 4294967295.0) {
            d = 0xFFFFFFFFu;
        } else {
            d = (unsigned)st;
        }
    }
    return d | p->port;
}

// myelin_proc_add adds fixed-point weight w into the ring slot of a
// synapse onto target with delay field d, from the spike whose slot is
// cur: as myelin_deliver_syn does for a stored synapse.
__device__ __forceinline__ void myelin_proc_add(const MyelinNet *net, unsigned target, unsigned d, int w,
                                                unsigned long long cur)
{
    int *ring_e = net->ring_ex;
    if ((d & net->port_bit) != 0) {
        d ^= net->port_bit;
        ring_e = net->ring_slow;
    }
    unsigned long long sl = cur + d;
    if (sl >= net->ring_slots) {
        sl -= net->ring_slots;
    }
    unsigned long long idx = sl * (unsigned long long)net->n + target;
    if (w >= 0) {
        atomicAdd(&ring_e[idx], w);
    } else {
        atomicAdd(&net->ring_in[idx], w);
    }
}

// myelin_proc_sort sorts a[0, n) in ascending order (heapsort: in place,
// no recursion, n log n).
__device__ __forceinline__ void myelin_proc_sift(unsigned *a, unsigned i, unsigned n)
{
    unsigned x = a[i];
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && a[c + 1] > a[c]) {
            c++;
        }
        if (a[c] <= x) {
            break;
        }
        a[i] = a[c];
        i = c;
    }
    a[i] = x;
}

__device__ __forceinline__ void myelin_proc_sort(unsigned *a, unsigned n)
{
    if (n < 2) {
        return;
    }
    for (unsigned i = n / 2; i-- > 0;) {
        myelin_proc_sift(a, i, n);
    }
    for (unsigned e = n - 1; e > 0; e--) {
        unsigned x = a[0];
        a[0] = a[e];
        a[e] = x;
        myelin_proc_sift(a, 0, e);
    }
}

// myelin_proc_find returns the position of candidate t in the hash set tab
// (2^bits words, t+1 in a used word, 0 in a free one; linear probing), or
// of the free word where it would go, and whether it is there.
__device__ __forceinline__ unsigned myelin_proc_find(const unsigned *tab, unsigned bits, unsigned t, bool *found)
{
    unsigned mask = (1u << bits) - 1u;
    unsigned pos = (t * 0x9E3779B1u) >> (32 - bits);
    for (;;) {
        unsigned v = tab[pos];
        if (v == 0) {
            *found = false;
            return pos;
        }
        if (v == t + 1) {
            *found = true;
            return pos;
        }
        pos = (pos + 1) & mask;
    }
}

// myelin_proc_row delivers the row of local presynaptic neuron i of
// procedural projection p, as the generating thread that owns scratch slot
// slot (a fixed out-degree row's hash set and target list), for a spike
// whose ring slot is cur. It leaves the slot's hash set empty.
__device__ __forceinline__ void myelin_proc_row(const MyelinNet *net, const ProcDesc *p, unsigned i, unsigned slot,
                                                unsigned long long cur)
{
    bool skip = (p->flags & MYELIN_PROC_SKIP_SELF) != 0;
    bool constant = p->wkind == 0 && p->dkind == 0;
    MyelinSeq wq = myelin_seq_start(net, i, p->w_purpose);
    MyelinSeq dq = myelin_seq_start(net, i, p->d_purpose);
    if (p->rule == 2) {
        // One-to-one: unit i holds the one synapse i -> i.
        if (!skip) {
            int w = myelin_proc_weight(net, p, &wq);
            myelin_proc_add(net, p->post_first + i, myelin_proc_delay(net, p, &dq), w, cur);
        }
        return;
    }
    if (p->rule == 4) {
        // Pairwise Bernoulli by source (generator.bernoulli): the gaps
        // between chosen targets, floor(log(u) / log(1 - p)), ascending,
        // so that target r takes draw r of the weight and delay streams.
        if (p->bp <= 0.0) {
            return;
        }
        MyelinSeq cq = myelin_seq_start(net, i, p->conn_purpose);
        long long n = p->n_post;
        for (long long t = -1;;) {
            if (p->bp >= 1.0) {
                t++;
            } else {
                double gap = floor(myelin_log(myelin_seq_uniform(&cq)) / p->blogq);
                if (gap >= (double)n) {
                    break;
                }
                t += 1 + (long long)gap;
            }
            if (t >= n) {
                break;
            }
            if (skip && (unsigned)t == i) {
                continue;
            }
            int w = myelin_proc_weight(net, p, &wq);
            myelin_proc_add(net, p->post_first + (unsigned)t, myelin_proc_delay(net, p, &dq), w, cur);
        }
        return;
    }
    if (p->rule == 3) {
        // All-to-all (constant weight and delay): every target.
        for (unsigned j = 0; j < p->n_post; j++) {
            if (!(skip && j == i)) {
                myelin_proc_add(net, p->post_first + j, p->cdelay, p->cweight, cur);
            }
        }
        return;
    }
    // Fixed out-degree: generator.choose over m candidates.
    unsigned k = p->k;
    unsigned m = p->n_post - (skip ? 1u : 0u);
    MyelinSeq cq = myelin_seq_start(net, i, p->conn_purpose);
    unsigned *tab = net->proc_scratch + (unsigned long long)slot * net->proc_slot_words;
    unsigned *list = tab + p->list_off;
    if ((p->flags & MYELIN_PROC_MULTAPSES) != 0) {
        for (unsigned c = 0; c < k; c++) {
            unsigned t = __umulhi(myelin_seq_next(&cq), m);
            if (constant) {
                myelin_proc_add(net, p->post_first + (skip && t >= i ? t + 1 : t), p->cdelay, p->cweight, cur);
            } else {
                list[c] = t;
            }
        }
    } else {
        // Floyd's algorithm: candidate j of draw j, where the draw is
        // already in the set. The list keeps where each draw went.
        for (unsigned c = 0, j = m - k; j < m; j++, c++) {
            unsigned t = __umulhi(myelin_seq_next(&cq), j + 1);
            bool found;
            unsigned pos = myelin_proc_find(tab, p->hash_bits, t, &found);
            if (found) {
                t = j; // never drawn yet: every member is below j
                pos = myelin_proc_find(tab, p->hash_bits, t, &found);
            }
            tab[pos] = t + 1;
            list[c] = pos;
            if (constant) {
                myelin_proc_add(net, p->post_first + (skip && t >= i ? t + 1 : t), p->cdelay, p->cweight, cur);
            }
        }
        // Empty the set; keep the targets where draws pair with them.
        for (unsigned c = 0; c < k; c++) {
            unsigned pos = list[c];
            list[c] = tab[pos] - 1;
            tab[pos] = 0;
        }
    }
    if (constant) {
        return;
    }
    // Drawn weights or delays pair with the targets in ascending order
    // (the stored row's order): synapse r takes draw r of each stream.
    // Equal targets (multapses) may take each other's draws: same sums.
    myelin_proc_sort(list, k);
    for (unsigned r = 0; r < k; r++) {
        unsigned t = list[r];
        int w = myelin_proc_weight(net, p, &wq);
        unsigned d = myelin_proc_delay(net, p, &dq);
        myelin_proc_add(net, p->post_first + (skip && t >= i ? t + 1 : t), d, w, cur);
    }
}

// myelin_deliver_proc_work delivers the procedural rows of the spikes of
// step-in-chunk s as block b of nb: work item
// (spike, procedural projection) goes to thread item % stride of the
// blocks' threads, stride being at most proc_slots, so that each
// generating thread owns scratch slot (its index). Items of a projection
// from another population than the spike's are skipped.
__device__ __forceinline__ void myelin_deliver_proc_work(const MyelinNet *net, unsigned s, unsigned b, unsigned nb)
{
    unsigned np = net->n_proc;
    if (np == 0) {
        return;
    }
    unsigned long long cur = (*net->step + s) % (unsigned long long)net->ring_slots;
    unsigned long long gid = (unsigned long long)b * blockDim.x + threadIdx.x;
    unsigned long long stride = (unsigned long long)nb * blockDim.x;
    if (stride > net->proc_slots) {
        stride = net->proc_slots;
    }
    if (gid >= stride) {
        return;
    }
    unsigned cnt = net->spk_cnt[s];
    unsigned off = net->spk_off[s];
    unsigned long long items = (unsigned long long)cnt * np;
    for (unsigned long long item = gid; item < items; item += stride) {
        unsigned pre = net->spk_ids[off + (unsigned)(item / np)];
        const ProcDesc *p = &net->procs[item % np];
        unsigned i = pre - p->pre_first;
        if (pre >= p->pre_first && i < p->pre_size) {
            myelin_proc_row(net, p, i, (unsigned)gid, cur);
        }
    }
}

#endif // MYELIN_PROCEDURAL_CUH
