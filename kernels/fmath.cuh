// fmath.cuh: Myelin's own float32 exponential, the twin of neuron.Expf in
// engine/neuron/fmath.go: the same constants and the same operations in the
// same order, every product rounded on its own (nvcc -fmad=false, g++
// -ffp-contract=off), so it gives the same bits as the Go function on every
// backend. The library expf of CUDA and of Go differ in their last bits.
#ifndef MYELIN_FMATH_CUH
#define MYELIN_FMATH_CUH

// myelin_expf is neuron.Expf.
__device__ __forceinline__ float myelin_expf(float x)
{
    if (x > 88.72f) {
        return __int_as_float(0x7f800000); // +Inf
    }
    if (x < -87.33f) {
        return 0.0f;
    }
    if (x != x) {
        return x;
    }
    // x = n ln2 + r, |r| <= ln2/2, with ln2 split in two for an exact n·ln2hi.
    float n = floorf(x * 1.44269504f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    // e^r by its Taylor series to degree 7 (Horner).
    float p = 1.98412698e-4f;
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * __int_as_float((int)((unsigned)((int)n + 127) << 23));
}

#endif // MYELIN_FMATH_CUH
