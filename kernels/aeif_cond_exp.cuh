// aeif_cond_exp.cuh: the twin of engine/neuron/aeif_cond_exp.go. The struct
// has the Go struct's fields in the Go struct's order (the host uploads it
// with encoding/binary); the functions have the Go methods' statements,
// every product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off).
#ifndef MYELIN_AEIF_COND_EXP_CUH
#define MYELIN_AEIF_COND_EXP_CUH

#include "state.cuh"

#include "fmath.cuh"

// MYELIN_AEIF_MAX_EXP_ARG is neuron.AeifMaxExpArg: the cap on the argument
// of the exponential term.
#define MYELIN_AEIF_MAX_EXP_ARG 50.0f

// AeifCondExp holds the float32 coefficients of NEST's aeif_cond_exp for
// one step h: NSub substeps of classic RK4 on (V, w) with the conductances
// taken exactly at the stage times (see the Go file). V is absolute (mV).
struct AeifCondExp {
    int NSub;      // substeps per step
    float HS;      // substep hs = h/NSub, ms
    float HalfHS;  // hs/2
    float SixthHS; // hs/6
    float PEx;     // exp(-hs/tau_syn_ex)
    float PExHalf; // exp(-hs/(2 tau_syn_ex))
    float PIn;     // exp(-hs/tau_syn_in)
    float PInHalf; // exp(-hs/(2 tau_syn_in))
    float InvC;    // 1/C_m
    float GL;      // g_L, nS
    float EL;      // E_L, mV
    float EEx;     // E_ex, mV
    float EIn;     // E_in, mV
    float GLDT;    // g_L Delta_T, pA (0 when Delta_T = 0)
    float InvDT;   // 1/Delta_T (0 when Delta_T = 0)
    float VTh;     // V_th, mV
    float VBound;  // V_peak: V in the dynamics is min(V, V_peak)
    float VSpike;  // V_peak, or V_th when Delta_T = 0 (NEST)
    float VReset;  // V_reset, mV
    float A;       // a, nS
    float B;       // b, pA
    float InvTauW; // 1/tau_w
    float IE;      // I_e, pA
    float WRef;    // a (V_reset - E_L): where w relaxes to while refractory
    float PW;      // exp(-hs/tau_w)
    int RefStep;   // t_ref in steps
};

// AeifCondExp_Deriv is AeifCondExp.deriv: the right-hand side (*dv, *dw)
// of (V, w) for conductances ge and gi and the current i = I_e + I_ext,
// with V bounded by V_peak as in NEST.
__device__ __forceinline__ void AeifCondExp_Deriv(const AeifCondExp *c, float v, float w, float ge, float gi, float i,
                                                  float *dvp, float *dwp)
{
    if (v > c->VBound) {
        v = c->VBound;
    }
    float x = (v - c->VTh) * c->InvDT;
    if (!(x < MYELIN_AEIF_MAX_EXP_ARG)) {
        x = MYELIN_AEIF_MAX_EXP_ARG;
    }
    float ispike = c->GLDT * myelin_expf(x);
    *dvp = (ispike - c->GL * (v - c->EL) - ge * (v - c->EEx) - gi * (v - c->EIn) - w + i) * c->InvC;
    *dwp = (c->A * (v - c->EL) - w) * c->InvTauW;
}

// AeifCondExp_Step advances one neuron by one step: *v the membrane
// potential (mV), *gex and *gin the conductances (nS), *w the adaptation
// current (pA), *ref the remaining refractory steps, inEx and inIn the
// weights arriving now (nS; inIn is negative and adds |inIn| to gin), iext
// the external current (pA). It returns whether the neuron fired.
__device__ __forceinline__ bool AeifCondExp_Step(const AeifCondExp *c, float *vp, float *gexp, float *ginp, float *wp,
                                                 int *refp, float inEx, float inIn, float iext)
{
    float v = *vp, gex = *gexp, gin = *ginp, w = *wp;
    int ref = *refp;
    bool spiked = false;
    float i = c->IE + iext;
    bool clamp = ref > 0;
    if (clamp) {
        ref--;
    }
    for (int k = 0; k < c->NSub; k++) {
        if (clamp) {
            v = c->VReset;
            w = c->WRef + (w - c->WRef) * c->PW;
            gex = gex * c->PEx;
            gin = gin * c->PIn;
            continue;
        }
        float geM = gex * c->PExHalf, giM = gin * c->PInHalf;
        float geE = gex * c->PEx, giE = gin * c->PIn;
        float k1v, k1w, k2v, k2w, k3v, k3w, k4v, k4w;
        AeifCondExp_Deriv(c, v, w, gex, gin, i, &k1v, &k1w);
        AeifCondExp_Deriv(c, v + c->HalfHS * k1v, w + c->HalfHS * k1w, geM, giM, i, &k2v, &k2w);
        AeifCondExp_Deriv(c, v + c->HalfHS * k2v, w + c->HalfHS * k2w, geM, giM, i, &k3v, &k3w);
        AeifCondExp_Deriv(c, v + c->HS * k3v, w + c->HS * k3w, geE, giE, i, &k4v, &k4w);
        v = v + c->SixthHS * (k1v + 2.0f * k2v + 2.0f * k3v + k4v);
        w = w + c->SixthHS * (k1w + 2.0f * k2w + 2.0f * k3w + k4w);
        gex = geE;
        gin = giE;
        if (v >= c->VSpike) {
            v = c->VReset;
            w = w + c->B;
            spiked = true;
            if (c->RefStep > 0) {
                clamp = true;
                ref = c->RefStep;
            }
        }
    }
    gex = gex + inEx;
    gin = gin - inIn;
    *vp = v;
    *gexp = gex;
    *ginp = gin;
    *wp = w;
    *refp = ref;
    return spiked;
}

// AeifCondExp_Update is the body of AeifCondExp.Update (Go) for neuron g:
// Step on its state (w in the c array), with this step's inputs. It returns
// whether the neuron fired.
__device__ __forceinline__ bool AeifCondExp_Update(const AeifCondExp *c, const MyelinState *s, unsigned g, float inEx,
                                                   float inIn, float iext)
{
    return AeifCondExp_Step(c, &s->v[g], &s->a[g], &s->b[g], &s->c[g], &s->ref[g], inEx, inIn, iext);
}

#endif // MYELIN_AEIF_COND_EXP_CUH
