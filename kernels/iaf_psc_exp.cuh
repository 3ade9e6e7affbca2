// iaf_psc_exp.cuh: the twin of engine/neuron/iaf_psc_exp.go. The struct has
// the Go struct's fields in the Go struct's order (the host uploads it with
// encoding/binary); the step function has the Go method's statements, every
// product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off).
#ifndef MYELIN_IAF_PSC_EXP_CUH
#define MYELIN_IAF_PSC_EXP_CUH

#include "state.cuh"

// IafPscExp holds the float32 propagators of NEST's iaf_psc_exp for one
// step h. The membrane potential is kept relative to E_L.
struct IafPscExp {
    float P22;    // exp(-h/tau_m)
    float P11Ex;  // exp(-h/tau_syn_ex)
    float P11In;  // exp(-h/tau_syn_in)
    float P21Ex;  // effect of the excitatory current on V over one step
    float P21In;  // effect of the inhibitory current on V over one step
    float P20;    // tau_m/C_m (1 - exp(-h/tau_m))
    float IE;     // I_e, pA
    float VTh;    // V_th - E_L
    float VReset; // V_reset - E_L
    int RefStep;  // t_ref in steps

    // The slow excitatory port, used only when Slow is 1: its current
    // I_syn_slow is kept in state c.
    float P11Slow; // exp(-h/tau_syn_slow)
    float P21Slow; // effect of the slow current on V over one step
    int Slow;      // 1: the port is in use (IafPscExp_StepSlow), 0: IafPscExp_Step
};

// IafPscExp_Step advances one neuron by one step, as NEST's
// iaf_psc_exp::update: *v is V_m - E_L, *iex and *iin the synaptic currents
// (pA), *ref the remaining refractory steps, inEx and inIn the weights
// arriving now on each channel (pA; inIn is negative), iext the external
// current (pA). It updates the state and returns whether the neuron fired.
__device__ __forceinline__ bool IafPscExp_Step(const IafPscExp *c, float *vp, float *iexp, float *iinp, int *refp,
                                               float inEx, float inIn, float iext)
{
    float v = *vp, iex = *iexp, iin = *iinp;
    int ref = *refp;
    if (ref == 0) {
        v = c->P22 * v + c->P21Ex * iex + c->P21In * iin + c->P20 * (c->IE + iext);
    } else {
        ref--;
    }
    iex = c->P11Ex * iex + inEx;
    iin = c->P11In * iin + inIn;
    *iexp = iex;
    *iinp = iin;
    if (v >= c->VTh) {
        *vp = c->VReset;
        *refp = c->RefStep;
        return true;
    }
    *vp = v;
    *refp = ref;
    return false;
}

// IafPscExp_StepSlow is IafPscExp_Step with the slow excitatory port: *isp
// is its current (pA), inSlow the weight arriving on it now (pA, >= 0).
__device__ __forceinline__ bool IafPscExp_StepSlow(const IafPscExp *c, float *vp, float *iexp, float *iinp, float *isp,
                                                   int *refp, float inEx, float inIn, float inSlow, float iext)
{
    float v = *vp, iex = *iexp, iin = *iinp, is = *isp;
    int ref = *refp;
    if (ref == 0) {
        v = c->P22 * v + c->P21Ex * iex + c->P21In * iin + c->P21Slow * is + c->P20 * (c->IE + iext);
    } else {
        ref--;
    }
    iex = c->P11Ex * iex + inEx;
    iin = c->P11In * iin + inIn;
    is = c->P11Slow * is + inSlow;
    *iexp = iex;
    *iinp = iin;
    *isp = is;
    if (v >= c->VTh) {
        *vp = c->VReset;
        *refp = c->RefStep;
        return true;
    }
    *vp = v;
    *refp = ref;
    return false;
}

// IafPscExp_Update is the body of IafPscExp.Update (Go) for neuron g: Step
// (or StepSlow, when the slow port is in use) on its state, with this
// step's inputs. It returns whether the neuron fired.
__device__ __forceinline__ bool IafPscExp_Update(const IafPscExp *c, const MyelinState *s, unsigned g, float inEx,
                                                 float inIn, float inSlow, float iext)
{
    if (c->Slow != 0) {
        return IafPscExp_StepSlow(c, &s->v[g], &s->a[g], &s->b[g], &s->c[g], &s->ref[g], inEx, inIn, inSlow, iext);
    }
    return IafPscExp_Step(c, &s->v[g], &s->a[g], &s->b[g], &s->ref[g], inEx, inIn, iext);
}

#endif // MYELIN_IAF_PSC_EXP_CUH
