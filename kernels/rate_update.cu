// rate_update.cu: the rate neurons' part of phase one
// (cpu.Backend.updateRate in engine/cpu/step.go). The rate history ring
// holds each step's rates; step t reads slots t and t+1-delay and writes
// slot t+1, which no projection of this step reads (delays are >= 1 and
// shorter than the ring), so threads never race.
#include "network.cuh"

// myelin_rate_update(net, s, -): step t of every rate population in one
// launch, one thread per neuron (blocks laid out as for myelin_update),
// sampling the new rate for the probes. The recurrent input sums float32(w·r) over the
// projections into pop in order, then over j ascending (ring table) or in
// CSC order, exactly as the CPU backend does.
extern "C" __global__ void myelin_rate_update(const __grid_constant__ MyelinNet net_, unsigned s, unsigned unused)
{
    const MyelinNet *__restrict__ net = &net_;
    unsigned pi = myelin_pop_of_block(net, blockIdx.x, true);
    const PopDesc *pop = &net->pops[pi];
    unsigned long long li = (unsigned long long)(blockIdx.x - pop->rblock0) * blockDim.x + threadIdx.x;
    if (li >= pop->size) {
        return;
    }
    unsigned i = (unsigned)li;
    unsigned g = pop->first + i;
    unsigned long long t = *net->step + s;
    unsigned long long n = net->n;
    unsigned long long rs = net->rate_slots;
    const float *cur = net->rhist + (t % rs) * n;
    float *next = net->rhist + ((t + 1) % rs) * n;

    float syn = 0.0f;
    for (unsigned k = 0; k < net->n_rproj; k++) {
        const RateProjDesc *rp = &net->rproj[k];
        if (rp->post != pi) {
            continue;
        }
        unsigned long long sl = (t + 1 - rp->delay + rs) % rs;
        const float *r = net->rhist + sl * n + rp->pre_first;
        if (rp->kind == 1) {
            const float *table = net->rtable + rp->table_off;
            unsigned m = rp->table_len;
            for (unsigned j = 0; j < m; j++) {
                unsigned d = i - j;
                if (j > i) {
                    d += m;
                }
                syn += table[d] * r[j];
            }
        } else {
            const unsigned *colptr = net->rcolptr + rp->colptr_off;
            const unsigned *src = net->rsrc + rp->edge_off;
            const float *w = net->rw + rp->edge_off;
            for (unsigned e = colptr[i]; e < colptr[i + 1]; e++) {
                syn += w[e] * r[src[e]];
            }
        }
    }
    float iext = myelin_dc_input(net, t, g, pop->dc0, pop->dc0 + pop->ndc);
    switch (pop->model) {
        // One case per rate model (models.cuh).
#define MYELIN_RATE_CASE(code, T)                        \
    case code:                                           \
        next[g] = T##_Step(&pop->m.m_##T, cur[g], syn, iext); \
        break;
        MYELIN_RATE_MODELS(MYELIN_RATE_CASE)
#undef MYELIN_RATE_CASE
    default:
        __trap(); // a code the host never uploads: launch checks every population's model
    }
    if (!isfinite(next[g])) {
        myelin_fault(net, g);
    }
    myelin_sample(net, s, t, g, next[g]);
}
