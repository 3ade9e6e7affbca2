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

// AeifRK is one fixed step of aeif_cond_exp's integrator (neuron.AeifRK):
// its length and the decay of the conductances and of w over it.
struct AeifRK {
    float H;       // step, ms
    float PEx;     // exp(-H/tau_syn_ex)
    float PExHalf; // exp(-H/(2 tau_syn_ex))
    float PIn;     // exp(-H/tau_syn_in)
    float PInHalf; // exp(-H/(2 tau_syn_in))
    float PW;      // exp(-H/tau_w)
};

// AeifCondExp holds the float32 coefficients of NEST's aeif_cond_exp for
// one step h: NSub substeps of classic RK4 on (V, w) with the conductances
// taken exactly at the stage times, a substep that reaches V_peak redone in
// NMicro microsteps (see the Go file). V is absolute (mV).
struct AeifCondExp {
    int NSub;      // substeps per step
    int NMicro;    // microsteps of a substep that reaches V_peak
    AeifRK Sub;    // a substep: hs = h/NSub
    AeifRK Micro;  // a microstep: hs/NMicro
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

// AeifCondExp_RK4 is AeifCondExp.rk4: (*v, *w) advanced by one step of r
// from conductances ge and gi at its start.
__device__ __forceinline__ void AeifCondExp_RK4(const AeifCondExp *c, const AeifRK *r, float *vp, float *wp, float ge,
                                                float gi, float i)
{
    float v = *vp, w = *wp;
    float half = r->H * 0.5f;
    float sixth = r->H / 6.0f;
    float geM = ge * r->PExHalf, giM = gi * r->PInHalf;
    float geE = ge * r->PEx, giE = gi * r->PIn;
    float k1v, k1w, k2v, k2w, k3v, k3w, k4v, k4w;
    AeifCondExp_Deriv(c, v, w, ge, gi, i, &k1v, &k1w);
    AeifCondExp_Deriv(c, v + half * k1v, w + half * k1w, geM, giM, i, &k2v, &k2w);
    AeifCondExp_Deriv(c, v + half * k2v, w + half * k2w, geM, giM, i, &k3v, &k3w);
    AeifCondExp_Deriv(c, v + r->H * k3v, w + r->H * k3w, geE, giE, i, &k4v, &k4w);
    *vp = v + sixth * (k1v + 2.0f * k2v + 2.0f * k3v + k4v);
    *wp = w + sixth * (k1w + 2.0f * k2w + 2.0f * k3w + k4w);
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
    float wref = c->A * (c->VReset - c->EL); // w's fixed point while refractory
    bool clamp = ref > 0;
    if (clamp) {
        ref--;
    }
    for (int k = 0; k < c->NSub; k++) {
        float geE = gex * c->Sub.PEx, giE = gin * c->Sub.PIn;
        if (clamp) {
            v = c->VReset;
            w = wref + (w - wref) * c->Sub.PW;
            gex = geE;
            gin = giE;
            continue;
        }
        float v1 = v, w1 = w;
        AeifCondExp_RK4(c, &c->Sub, &v1, &w1, gex, gin, i);
        if (v1 < c->VSpike) {
            v = v1;
            w = w1;
            gex = geE;
            gin = giE;
            continue;
        }
        // V reaches V_peak within this substep: redo it in microsteps.
        for (int j = 0; j < c->NMicro; j++) {
            if (clamp) {
                v = c->VReset;
                w = wref + (w - wref) * c->Micro.PW;
            } else {
                AeifCondExp_RK4(c, &c->Micro, &v, &w, gex, gin, i);
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
            gex = gex * c->Micro.PEx;
            gin = gin * c->Micro.PIn;
        }
        gex = geE;
        gin = giE;
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
