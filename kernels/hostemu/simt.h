// simt.h: a small SIMT shim that lets g++ compile Myelin's CUDA kernels
// (kernels/*.cu, kernels/*.cuh) for the host, unchanged. A launch runs every
// thread of every block one after the other on the calling OS thread, with
// threadIdx/blockIdx/blockDim/gridDim as thread-locals; blocks and threads
// run in descending order, so results that depended on the order of atomics
// or on thread scheduling would show up against the CPU backend.
//
// Supported: __global__/__device__/__host__/__forceinline__/__noinline__/__grid_constant__,
// atomicAdd on
// int, unsigned and unsigned long long, atomicMax and atomicOr on unsigned
// (real atomics, so launches from several OS threads stay correct),
// __umulhi, __popc, __ffs, __int_as_float, __float_as_int,
// __longlong_as_double, __double_as_longlong, floorf,
// __trap (aborts the process, as a trap ends the CUDA context). Kernels
// whose threads cooperate through __syncthreads and __shared__ variables
// (the construct kernels' block sort) run here with one thread per block:
// __syncthreads aborts in a block of more threads (their threads would run
// one after the other, not meeting at the barrier), and a __shared__
// variable is a static thread-local, the one block's. Not supported,
// because Myelin's kernels do not use them: warp votes and shuffles. Using
// one fails to compile.
//
// Floating-point contraction is off (the twin of nvcc -fmad=false): g++
// never fuses a multiply and an add, so float arithmetic rounds exactly as
// in the Go backend. cgo does not accept -ffp-contract=off as a flag, so the
// pragmas below set it; the ISO dialect (-std=c++14, not gnu++14) makes it
// g++'s default as well, and TestNoContraction checks the result.
#ifndef MYELIN_SIMT_H
#define MYELIN_SIMT_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__FAST_MATH__)
#error "simt.h: fast math changes float rounding; compile without -ffast-math"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef __cplusplus
#error "simt.h is C++"
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __grid_constant__ // a kernel's by-value parameters are the callee's copy here anyway

// CUDA's built-in vector types, as far as the kernels use them.
struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// The launch coordinates of the running emulated thread.
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

inline int atomicAdd(int *p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned *p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

inline void __trap() { abort(); }

// A block's shared variable: the launch runs one block at a time per OS
// thread, and __syncthreads allows blocks of one thread only.
#define __shared__ static thread_local

inline void __syncthreads()
{
    if (blockDim.x * blockDim.y * blockDim.z != 1) {
        abort(); // a barrier among threads that run one after the other: launch it with blocks of one thread
    }
}

inline unsigned atomicMax(unsigned *p, unsigned v)
{
    unsigned old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return old;
}

inline unsigned atomicOr(unsigned *p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }

inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

inline float __int_as_float(int i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

inline double __longlong_as_double(long long i)
{
    double d;
    memcpy(&d, &i, sizeof d);
    return d;
}

inline long long __double_as_longlong(double d)
{
    long long i;
    memcpy(&i, &d, sizeof i);
    return i;
}

inline int __float_as_int(float f)
{
    int i;
    memcpy(&i, &f, sizeof i);
    return i;
}

// simt_launch runs body once for every thread of a grid × block launch,
// blocks in descending order, or ascending in x when ascending is set (so
// that a launch whose blocks do different work can be run both ways: what
// one block reads must not depend on what another writes).
template <class Body>
void simt_launch(dim3 grid, dim3 block, Body body, bool ascending = false)
{
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = grid.z; bz-- > 0;) {
        for (unsigned by = grid.y; by-- > 0;) {
            for (unsigned k = grid.x; k-- > 0;) {
                unsigned bx = ascending ? grid.x - 1 - k : k;
                blockIdx.x = bx;
                blockIdx.y = by;
                blockIdx.z = bz;
                for (unsigned tz = block.z; tz-- > 0;) {
                    for (unsigned ty = block.y; ty-- > 0;) {
                        for (unsigned tx = block.x; tx-- > 0;) {
                            threadIdx.x = tx;
                            threadIdx.y = ty;
                            threadIdx.z = tz;
                            body();
                        }
                    }
                }
            }
        }
    }
}

#endif // MYELIN_SIMT_H
