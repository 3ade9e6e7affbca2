// rate.cuh: the twin of engine/neuron/rate.go. The struct has the Go
// struct's fields in the Go struct's order (the host uploads it with
// encoding/binary); the functions have the Go methods' statements, every
// product rounded on its own (nvcc -fmad=false, g++ -ffp-contract=off).
#ifndef MYELIN_RATE_CUH
#define MYELIN_RATE_CUH

#include "fmath.cuh"

// Transfer function codes shared with engine/neuron/rate.go.
#define MYELIN_TRANSFER_LINEAR 1
#define MYELIN_TRANSFER_RELU 2
#define MYELIN_TRANSFER_THRESHOLD_LINEAR 3
#define MYELIN_TRANSFER_SIGMOID 4
#define MYELIN_TRANSFER_TANH 5

// Rate holds the float32 coefficients of the rate neuron
// tau dr/dt = -r + f(h), h = sum_j W_ij r_j + I, integrated exactly for
// constant h over a step.
struct Rate {
    float P;      // exp(-h/tau)
    float Q;      // 1 - exp(-h/tau)
    float Gain;
    float Theta;
    float RMax;
    float IE;
    int Transfer;
};

// Rate_F is the transfer function f.
__device__ __forceinline__ float Rate_F(const Rate *c, float x)
{
    switch (c->Transfer) {
    case MYELIN_TRANSFER_RELU:
        if (x < 0.0f) {
            return 0.0f;
        }
        return c->Gain * x;
    case MYELIN_TRANSFER_THRESHOLD_LINEAR:
        if (x < c->Theta) {
            return 0.0f;
        }
        return c->Gain * (x - c->Theta);
    case MYELIN_TRANSFER_SIGMOID:
        return c->RMax / (1.0f + myelin_expf(-c->Gain * (x - c->Theta)));
    case MYELIN_TRANSFER_TANH:
        return 1.0f - 2.0f / (myelin_expf(2.0f * (c->Gain * (x - c->Theta))) + 1.0f);
    default:
        return c->Gain * x;
    }
}

// Rate_Step advances one rate neuron: r the rate, syn the summed recurrent
// input sum_j W_ij r_j, iext the external input. It returns the new rate.
__device__ __forceinline__ float Rate_Step(const Rate *c, float r, float syn, float iext)
{
    float h = syn + c->IE + iext;
    return c->P * r + c->Q * Rate_F(c, h);
}

#endif // MYELIN_RATE_CUH
