// izhikevich.cuh: the twin of engine/neuron/izhikevich.go. The struct has
// the Go struct's fields in the Go struct's order (the host uploads it with
// encoding/binary); the step function has the Go method's statements, every
// product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off).
#ifndef MYELIN_IZHIKEVICH_CUH
#define MYELIN_IZHIKEVICH_CUH

#include "state.cuh"

// Izhikevich holds the float32 coefficients of NEST's izhikevich for one
// step h (NEST's update, no substeps; see the Go file). V is absolute (mV);
// U is kept in the a array.
struct Izhikevich {
    float H;        // h, ms
    float HalfH;    // h/2
    float HA;       // h a
    float B;        // b
    float C;        // c, mV
    float D;        // d
    float IE;       // I_e
    float VTh;      // V_th, mV
    float VMin;     // V_min, mV (-FLT_MAX: no bound)
    int Consistent; // 1: consistent_integration
};

// Izhikevich_Step advances one neuron by one step: *v the membrane
// potential (mV), *u the recovery variable, in the weights arriving now
// (mV), iext the external current. It returns whether the neuron fired.
__device__ __forceinline__ bool Izhikevich_Step(const Izhikevich *c, float *vp, float *up, float in, float iext)
{
    float v = *vp, u = *up;
    float i = iext + c->IE;
    if (c->Consistent != 0) {
        float dv = 0.04f * v * v + 5.0f * v + 140.0f - u + i;
        float du = c->B * v - u;
        v = v + c->H * dv + in;
        u = u + c->HA * du;
    } else {
        float dv = 0.04f * v * v + 5.0f * v + 140.0f - u + i + in;
        v = v + c->HalfH * dv;
        dv = 0.04f * v * v + 5.0f * v + 140.0f - u + i + in;
        v = v + c->HalfH * dv;
        u = u + c->HA * (c->B * v - u);
    }
    if (v < c->VMin) {
        v = c->VMin;
    }
    bool spiked = false;
    if (v >= c->VTh) {
        v = c->C;
        u = u + c->D;
        spiked = true;
    }
    *vp = v;
    *up = u;
    return spiked;
}

// Izhikevich_Update is the body of Izhikevich.Update (Go) for neuron g:
// Step on its state (U in the a array), with this step's inputs. It returns
// whether the neuron fired.
__device__ __forceinline__ bool Izhikevich_Update(const Izhikevich *c, const MyelinState *s, unsigned g, float inEx,
                                                  float inIn, float iext)
{
    (void)inIn; // one channel: the sum arrives in inEx
    return Izhikevich_Step(c, &s->v[g], &s->a[g], inEx, iext);
}

#endif // MYELIN_IZHIKEVICH_CUH
