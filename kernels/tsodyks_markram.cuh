// tsodyks_markram.cuh: the twin of engine/synapse/tsodyks_markram.go. The
// struct has the Go struct's fields in the Go struct's order (the host
// uploads it with encoding/binary); the functions have the Go methods'
// statements, every product rounded on its own (nvcc -fmad=false, g++
// -ffp-contract=off).
#ifndef MYELIN_TSODYKS_MARKRAM_CUH
#define MYELIN_TSODYKS_MARKRAM_CUH

#include "fmath.cuh"

// TsodyksMarkram holds the float32 coefficients of short-term plasticity
// (NEST's tsodyks2_synapse) for one step; the state is per presynaptic
// neuron: u, x and the step of its last spike.
struct TsodyksMarkram {
    float U;         // utilisation increment U; also u before the first spike
    float OneMinusU; // 1 - U
    float RecRate;   // dt / tau_rec
    float FacRate;   // dt / tau_fac (0 if Fac is 0)
    int Fac;         // 1 when tau_fac > 0
};

// TsodyksMarkram_Spike is TsodyksMarkram.Spike: the state advanced to a
// spike in step t (stamped at its end, step t+1, as NEST stamps it);
// returns the factor u·x of the spike's weights.
__device__ __forceinline__ float TsodyksMarkram_Spike(const TsodyksMarkram *c, float *u, float *x,
                                                      unsigned long long *last, unsigned long long t)
{
    float h = (float)(t + 1ull - *last);
    float xd = myelin_expf(-(h * c->RecRate));
    float ud = 0.0f;
    if (c->Fac != 0) {
        ud = myelin_expf(-(h * c->FacRate));
    }
    float xu = *x * *u;
    float nx = 1.0f + (*x - xu - 1.0f) * xd;
    float nu = c->U + (*u * c->OneMinusU) * ud;
    *x = nx;
    *u = nu;
    *last = t + 1ull;
    return nu * nx;
}

// TsodyksMarkram_Scale is synapse.Scale: w · f truncated toward zero.
__device__ __forceinline__ int TsodyksMarkram_Scale(int w, float f) { return (int)((float)w * f); }

#endif // MYELIN_TSODYKS_MARKRAM_CUH
