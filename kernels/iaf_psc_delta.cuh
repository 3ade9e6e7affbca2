// iaf_psc_delta.cuh: the twin of engine/neuron/iaf_psc_delta.go. The struct
// has the Go struct's fields in the Go struct's order (the host uploads it
// with encoding/binary); the step function has the Go method's statements,
// every product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off).
#ifndef MYELIN_IAF_PSC_DELTA_CUH
#define MYELIN_IAF_PSC_DELTA_CUH

#include "state.cuh"

// IafPscDelta holds the float32 propagators of NEST's iaf_psc_delta for one
// step h. The membrane potential is kept relative to E_L.
struct IafPscDelta {
    float P33;   // exp(-h/tau_m): decay of V over one step
    float P30;   // tau_m/C_m (1 - exp(-h/tau_m)): effect of a constant current
    float IE;    // I_e, pA
    float VTh;   // V_th - E_L
    float VReset; // V_reset - E_L
    int RefStep; // t_ref in steps
};

// IafPscDelta_Step advances one neuron by one step, as NEST's
// iaf_psc_delta::update: *v is V_m - E_L, *ref the remaining refractory
// steps, in the sum of the synaptic jumps arriving now (mV), iext the
// external current (pA). Input arriving while refractory is discarded. It
// updates the state and returns whether the neuron fired.
__device__ __forceinline__ bool IafPscDelta_Step(const IafPscDelta *c, float *vp, int *refp, float in, float iext)
{
    float v = *vp;
    int ref = *refp;
    if (ref == 0) {
        v = c->P30 * (c->IE + iext) + c->P33 * v + in;
    } else {
        ref--;
    }
    if (v >= c->VTh) {
        *vp = c->VReset;
        *refp = c->RefStep;
        return true;
    }
    *vp = v;
    *refp = ref;
    return false;
}

// IafPscDelta_Update is the body of IafPscDelta.Update (Go) for neuron g: Step on its
// state, with this step's inputs. It returns whether the neuron fired.
__device__ __forceinline__ bool IafPscDelta_Update(const IafPscDelta *c, const MyelinState *s, unsigned g, float inEx, float inIn,
                                          float iext)
{
    (void)inIn; // one channel: the sum arrives in inEx
    return IafPscDelta_Step(c, &s->v[g], &s->ref[g], inEx, iext);
}

#endif // MYELIN_IAF_PSC_DELTA_CUH
