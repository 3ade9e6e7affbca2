// iaf_cond_exp.cuh: the twin of engine/neuron/iaf_cond_exp.go. The struct
// has the Go struct's fields in the Go struct's order (the host uploads it
// with encoding/binary); the step function has the Go method's statements,
// every product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off;
// the division is IEEE-rounded in both: no -prec-div=false, no fast math).
#ifndef MYELIN_IAF_COND_EXP_CUH
#define MYELIN_IAF_COND_EXP_CUH

#include "state.cuh"

#include "fmath.cuh"

// IafCondExp holds the float32 coefficients of NEST's iaf_cond_exp for one
// step h (one exponential-Euler step; see the Go file). The membrane
// potential is absolute (mV).
struct IafCondExp {
    float PEx;    // exp(-h/tau_syn_ex)
    float PIn;    // exp(-h/tau_syn_in)
    float AEx;    // mean of exp(-s/tau_syn_ex) over the step: tau/h (1 - PEx)
    float AIn;    // mean of exp(-s/tau_syn_in) over the step
    float NegHC;  // -h/C_m
    float GL;     // g_L, nS
    float GLEL;   // g_L E_L, pA
    float EEx;    // E_ex, mV
    float EIn;    // E_in, mV
    float IE;     // I_e, pA
    float VTh;    // V_th
    float VReset; // V_reset
    int RefStep;  // t_ref in steps
};

// IafCondExp_Step advances one neuron by one step: *v the membrane potential
// (mV), *gex and *gin the conductances (nS), *ref the remaining refractory
// steps, inEx and inIn the weights arriving now (nS; inIn is negative and
// adds |inIn| to gin), iext the external current (pA). As in NEST, V is
// clamped to V_reset while refractory and the arriving conductance jumps
// take effect from the next step on. It returns whether the neuron fired.
__device__ __forceinline__ bool IafCondExp_Step(const IafCondExp *c, float *vp, float *gexp, float *ginp, int *refp,
                                                float inEx, float inIn, float iext)
{
    float v = *vp, gex = *gexp, gin = *ginp;
    int ref = *refp;
    bool spiked = false;
    if (ref > 0) {
        ref--;
        v = c->VReset;
    } else {
        float ge = c->AEx * gex;
        float gi = c->AIn * gin;
        float gtot = c->GL + ge + gi;
        float vinf = (c->GLEL + ge * c->EEx + gi * c->EIn + c->IE + iext) / gtot;
        v = vinf + (v - vinf) * myelin_expf(c->NegHC * gtot);
        if (v >= c->VTh) {
            v = c->VReset;
            ref = c->RefStep;
            spiked = true;
        }
    }
    gex = c->PEx * gex + inEx;
    gin = c->PIn * gin - inIn;
    *vp = v;
    *gexp = gex;
    *ginp = gin;
    *refp = ref;
    return spiked;
}

// IafCondExp_Update is the body of IafCondExp.Update (Go) for neuron g: Step on its
// state, with this step's inputs. It returns whether the neuron fired.
__device__ __forceinline__ bool IafCondExp_Update(const IafCondExp *c, const MyelinState *s, unsigned g, float inEx, float inIn,
                                          float iext)
{
    return IafCondExp_Step(c, &s->v[g], &s->a[g], &s->b[g], &s->ref[g], inEx, inIn, iext);
}

#endif // MYELIN_IAF_COND_EXP_CUH
