// iaf_cond_exp.cuh: the twin of engine/neuron/iaf_cond_exp.go. The struct
// has the Go struct's fields in the Go struct's order (the host uploads it
// with encoding/binary); the step function has the Go method's statements,
// every product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off;
// the division is IEEE-rounded in both: no -prec-div=false, no fast math).
#ifndef MYELIN_IAF_COND_EXP_CUH
#define MYELIN_IAF_COND_EXP_CUH

#include "state.cuh"

#include "fmath.cuh"

// MYELIN_IAF_COND_STIFF is neuron.IafCondStiff: above this
// (g_L + g_ex + g_in) hs / C_m a substep takes exponential Euler.
#define MYELIN_IAF_COND_STIFF 2.0f

// IafCondExp holds the float32 coefficients of NEST's iaf_cond_exp for one
// step h: NSub substeps of classic RK4 on V with the conductances taken
// exactly at the stage times, exponential Euler where RK4 would be
// unstable (see the Go file). The membrane potential is absolute (mV).
struct IafCondExp {
    int NSub;      // substeps per step
    float HS;      // substep hs = h/NSub, ms
    float HalfHS;  // hs/2
    float SixthHS; // hs/6
    float PEx;     // exp(-hs/tau_syn_ex)
    float PExHalf; // exp(-hs/(2 tau_syn_ex))
    float PIn;     // exp(-hs/tau_syn_in)
    float PInHalf; // exp(-hs/(2 tau_syn_in))
    float AEx;     // mean of exp(-s/tau_syn_ex) over a substep: tau/hs (1 - PEx)
    float AIn;     // mean of exp(-s/tau_syn_in) over a substep
    float InvC;    // 1/C_m
    float NegHSC;  // -hs/C_m
    float GL;      // g_L, nS
    float GLEL;    // g_L E_L, pA
    float EEx;     // E_ex, mV
    float EIn;     // E_in, mV
    float IE;      // I_e, pA
    float VTh;     // V_th
    float VReset;  // V_reset
    int RefStep;   // t_ref in steps

    // The slow excitatory port, used only when Slow is 1: its conductance
    // g_slow is kept in state c.
    float PSlow;     // exp(-hs/tau_syn_slow)
    float PSlowHalf; // exp(-hs/(2 tau_syn_slow))
    float ASlow;     // mean of exp(-s/tau_syn_slow) over a substep
    float ESlow;     // e_slow, mV
    int Slow;        // 1: the port is in use (IafCondExp_StepSlow), 0: IafCondExp_Step
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
        for (int k = 0; k < c->NSub; k++) {
            gex = gex * c->PEx;
            gin = gin * c->PIn;
        }
    } else {
        // dV/dt = (I - G V)/C_m with G = g_L + g_ex + g_in and
        // I = I_e + I_ext + g_L E_L + g_ex E_ex + g_in E_in.
        float i = c->IE + iext;
        float il = c->GLEL + i;
        for (int k = 0; k < c->NSub; k++) {
            float geE = gex * c->PEx, giE = gin * c->PIn;
            float g0 = c->GL + gex + gin;
            if (g0 * c->NegHSC < -MYELIN_IAF_COND_STIFF) {
                float ge = c->AEx * gex;
                float gi = c->AIn * gin;
                float gtot = c->GL + ge + gi;
                float vinf = (il + ge * c->EEx + gi * c->EIn) / gtot;
                v = vinf + (v - vinf) * myelin_expf(c->NegHSC * gtot);
            } else {
                float geM = gex * c->PExHalf, giM = gin * c->PInHalf;
                float i0 = il + gex * c->EEx + gin * c->EIn;
                float gM = c->GL + geM + giM;
                float iM = il + geM * c->EEx + giM * c->EIn;
                float gE = c->GL + geE + giE;
                float iE = il + geE * c->EEx + giE * c->EIn;
                float k1 = (i0 - g0 * v) * c->InvC;
                float k2 = (iM - gM * (v + c->HalfHS * k1)) * c->InvC;
                float k3 = (iM - gM * (v + c->HalfHS * k2)) * c->InvC;
                float k4 = (iE - gE * (v + c->HS * k3)) * c->InvC;
                v = v + c->SixthHS * (k1 + 2.0f * k2 + 2.0f * k3 + k4);
            }
            gex = geE;
            gin = giE;
        }
        if (v >= c->VTh) {
            v = c->VReset;
            ref = c->RefStep;
            spiked = true;
        }
    }
    gex = gex + inEx;
    gin = gin - inIn;
    *vp = v;
    *gexp = gex;
    *ginp = gin;
    *refp = ref;
    return spiked;
}

// IafCondExp_StepSlow is IafCondExp_Step with the slow excitatory port:
// *gsp is its conductance (nS), inSlow the weight arriving on it now (nS,
// >= 0). The slow conductance joins G and I as the fast ones do, with
// reversal E_slow.
__device__ __forceinline__ bool IafCondExp_StepSlow(const IafCondExp *c, float *vp, float *gexp, float *ginp,
                                                    float *gsp, int *refp, float inEx, float inIn, float inSlow,
                                                    float iext)
{
    float v = *vp, gex = *gexp, gin = *ginp, gs = *gsp;
    int ref = *refp;
    bool spiked = false;
    if (ref > 0) {
        ref--;
        v = c->VReset;
        for (int k = 0; k < c->NSub; k++) {
            gex = gex * c->PEx;
            gin = gin * c->PIn;
            gs = gs * c->PSlow;
        }
    } else {
        float i = c->IE + iext;
        float il = c->GLEL + i;
        for (int k = 0; k < c->NSub; k++) {
            float geE = gex * c->PEx, giE = gin * c->PIn, gsE = gs * c->PSlow;
            float g0 = c->GL + gex + gin + gs;
            if (g0 * c->NegHSC < -MYELIN_IAF_COND_STIFF) {
                float ge = c->AEx * gex;
                float gi = c->AIn * gin;
                float gsl = c->ASlow * gs;
                float gtot = c->GL + ge + gi + gsl;
                float vinf = (il + ge * c->EEx + gi * c->EIn + gsl * c->ESlow) / gtot;
                v = vinf + (v - vinf) * myelin_expf(c->NegHSC * gtot);
            } else {
                float geM = gex * c->PExHalf, giM = gin * c->PInHalf, gsM = gs * c->PSlowHalf;
                float i0 = il + gex * c->EEx + gin * c->EIn + gs * c->ESlow;
                float gM = c->GL + geM + giM + gsM;
                float iM = il + geM * c->EEx + giM * c->EIn + gsM * c->ESlow;
                float gE = c->GL + geE + giE + gsE;
                float iE = il + geE * c->EEx + giE * c->EIn + gsE * c->ESlow;
                float k1 = (i0 - g0 * v) * c->InvC;
                float k2 = (iM - gM * (v + c->HalfHS * k1)) * c->InvC;
                float k3 = (iM - gM * (v + c->HalfHS * k2)) * c->InvC;
                float k4 = (iE - gE * (v + c->HS * k3)) * c->InvC;
                v = v + c->SixthHS * (k1 + 2.0f * k2 + 2.0f * k3 + k4);
            }
            gex = geE;
            gin = giE;
            gs = gsE;
        }
        if (v >= c->VTh) {
            v = c->VReset;
            ref = c->RefStep;
            spiked = true;
        }
    }
    gex = gex + inEx;
    gin = gin - inIn;
    gs = gs + inSlow;
    *vp = v;
    *gexp = gex;
    *ginp = gin;
    *gsp = gs;
    *refp = ref;
    return spiked;
}

// IafCondExp_Update is the body of IafCondExp.Update (Go) for neuron g: Step
// (or StepSlow, when the slow port is in use) on its state, with this
// step's inputs. It returns whether the neuron fired.
__device__ __forceinline__ bool IafCondExp_Update(const IafCondExp *c, const MyelinState *s, unsigned g, float inEx,
                                                  float inIn, float inSlow, float iext)
{
    if (c->Slow != 0) {
        return IafCondExp_StepSlow(c, &s->v[g], &s->a[g], &s->b[g], &s->c[g], &s->ref[g], inEx, inIn, inSlow, iext);
    }
    return IafCondExp_Step(c, &s->v[g], &s->a[g], &s->b[g], &s->ref[g], inEx, inIn, iext);
}

#endif // MYELIN_IAF_COND_EXP_CUH
