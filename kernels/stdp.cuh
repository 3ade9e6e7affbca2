// stdp.cuh: the twin of engine/synapse/stdp.go. The struct has the Go
// struct's fields in the Go struct's order (the host uploads it with
// encoding/binary); the functions have the Go functions' statements, every
// product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off).
#ifndef MYELIN_STDP_CUH
#define MYELIN_STDP_CUH

#include "fmath.cuh"

// STDP holds the float32 coefficients of one STDP parameter set (NEST's
// stdp_synapse, Gütig et al. 2003) for one step, the target population's
// fixed-point scale and a learning rate.
struct STDP {
    float PlusRate;   // dt / tau_plus
    float MinusRate;  // dt / tau_minus
    float Potentiate; // λ·rate·WMax in fixed-point units
    float Depress;    // α·λ·rate·WMax in fixed-point units
    float InvWMax;    // 1 / WMax
    int WMax;         // |w_max| in fixed point
    int Sign;         // 1, or -1 for inhibitory weights
    int MuPlus;       // 0 additive, 1 multiplicative
    int MuMinus;      // 0 additive, 1 multiplicative
};

// STDP_TraceSince is synapse.traceSince: the trace just before the last
// spike of a record (low 32 bits: its float bits; high 32 bits: that
// spike's step + 1, 0 for none) and the steps h since it at step t; h is 0
// where no decay applies (no spike yet: k is 0; a spike of step t: k is
// the answer).
__device__ __forceinline__ float STDP_TraceSince(unsigned long long rec, unsigned long long t, unsigned long long *h)
{
    unsigned long long n = rec >> 32;
    if (n == 0ull) {
        *h = 0ull;
        return 0.0f;
    }
    *h = t - (n - 1ull);
    return __int_as_float((int)(unsigned)rec);
}

// STDP_TraceAt is synapse.TraceAt: the trace at step t from the spikes of
// steps before t.
__device__ __forceinline__ float STDP_TraceAt(unsigned long long rec, unsigned long long t, float rate)
{
    unsigned long long h;
    float k = STDP_TraceSince(rec, t, &h);
    if (h == 0ull) {
        return k;
    }
    return (k + 1.0f) * myelin_expf(-((float)h * rate));
}

// STDP_TraceSpike is synapse.TraceSpike: the record after a spike of step t.
__device__ __forceinline__ unsigned long long STDP_TraceSpike(unsigned long long rec, unsigned long long t, float rate)
{
    return (t + 1ull) << 32 | (unsigned long long)(unsigned)__float_as_int(STDP_TraceAt(rec, t, rate));
}

// STDP_round is the Go round: d rounded to the nearest integer, halves up.
__device__ __forceinline__ long long STDP_round(float d) { return (long long)floorf(d + 0.5f); }

// STDP_clip is STDP.clip: the magnitude n clipped to [0, WMax].
__device__ __forceinline__ int STDP_clip(const STDP *c, long long n)
{
    if (n < 0ll) {
        return 0;
    }
    if (n > (long long)c->WMax) {
        return c->WMax;
    }
    return (int)n;
}

// STDP_Facilitate is STDP.Facilitate: w after a potentiation by the
// presynaptic trace k.
__device__ __forceinline__ int STDP_Facilitate(const STDP *c, int w, float k)
{
    int m = w * c->Sign;
    float f = 1.0f;
    if (c->MuPlus != 0) {
        f = 1.0f - (float)m * c->InvWMax;
        if (f < 0.0f) {
            f = 0.0f;
        }
    }
    float d = (c->Potentiate * f) * k;
    if (d >= (float)c->WMax) {
        return c->WMax * c->Sign;
    }
    return STDP_clip(c, (long long)m + STDP_round(d)) * c->Sign;
}

// STDP_Depression is STDP.Depression: w after a depression by the
// postsynaptic trace k.
__device__ __forceinline__ int STDP_Depression(const STDP *c, int w, float k)
{
    int m = w * c->Sign;
    float g = 1.0f;
    if (c->MuMinus != 0) {
        g = (float)m * c->InvWMax;
    }
    float d = (c->Depress * g) * k;
    if (d >= (float)c->WMax) {
        return 0;
    }
    return STDP_clip(c, (long long)m - STDP_round(d)) * c->Sign;
}

#endif // MYELIN_STDP_CUH
