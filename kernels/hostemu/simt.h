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
// (the construct kernels' block sorts) run with simt_launch_blocks, which
// runs a block's threads as fibers that meet at each barrier (between two
// barriers one after the other, in descending and ascending order by
// turns), a __shared__ variable being a static thread-local: the running
// block's. Not supported, because Myelin's kernels do not use them: warp
// votes and shuffles. Using one fails to compile.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#ifndef __cplusplus
#error "simt.h is C++"
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __grid_constant__ // a kernel's by-value parameters are the callee's copy here anyway
#define __launch_bounds__(threads) // a register budget for the device compiler

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

// A block's shared variable: an OS thread runs one block at a time.
#define __shared__ static thread_local

// simt_block is the block that simt_launch_blocks runs on this OS thread:
// its threads as fibers, and the scheduler's context.
struct simt_fiber {
    ucontext_t ctx;
    unsigned tx;
    bool waiting, done;
};
struct simt_block {
    ucontext_t sched;
    simt_fiber *cur;
    void (*run)(void *);
    void *body;
};
extern thread_local simt_block *simt_running;

// __syncthreads: the running fiber waits for the block's other threads
// (simt_launch_blocks); outside it, in a launch that runs threads one
// after the other, only a block of one thread can meet at a barrier.
inline void __syncthreads()
{
    simt_block *b = simt_running;
    if (b != nullptr) {
        b->cur->waiting = true;
        swapcontext(&b->cur->ctx, &b->sched);
        return;
    }
    if (blockDim.x * blockDim.y * blockDim.z != 1) {
        fprintf(stderr, "simt: __syncthreads in a launch of blocks of %u threads run one after the other (use simt_launch_blocks)\n",
                blockDim.x * blockDim.y * blockDim.z);
        abort();
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

inline void simt_fiber_main()
{
    simt_block *b = simt_running;
    b->run(b->body);
    b->cur->done = true; // uc_link returns to the scheduler
}

// simt_launch_blocks runs a one-dimensional grid × block launch whose
// threads meet at barriers (__syncthreads): blocks in descending order,
// or ascending at every other launch (a block must not read what another
// writes), each block's threads as fibers with stacks of their own. Between two
// barriers the threads run one after the other, in descending order, then
// ascending at the next, and so on (so that a read of another thread's
// write without a barrier between them shows). Every thread must reach
// every barrier of its block: one that ends while others wait, or waits
// while others have ended, aborts the process.
template <class Body>
void simt_launch_blocks(dim3 grid, dim3 block, Body body)
{
    if (grid.y != 1 || grid.z != 1 || block.y != 1 || block.z != 1) {
        fprintf(stderr, "simt: simt_launch_blocks runs one-dimensional launches only\n");
        abort();
    }
    if (block.x == 1) {
        simt_launch(grid, block, body); // a barrier of one thread is no barrier
        return;
    }
    const size_t stack = 256 << 10;
    unsigned n = block.x;
    simt_fiber *f = (simt_fiber *)calloc(n, sizeof(simt_fiber));
    char *stacks = (char *)malloc(stack * n);
    if (f == nullptr || stacks == nullptr) {
        fprintf(stderr, "simt: no memory for %u fibers\n", n);
        abort();
    }
    simt_block b;
    b.run = [](void *p) { (*(Body *)p)(); };
    b.body = &body;
    gridDim = grid;
    blockDim = block;
    simt_running = &b;
    static thread_local unsigned launches;
    bool ascending = (launches++ & 1u) != 0; // blocks in descending order, then ascending at the next launch
    for (unsigned k = grid.x; k-- > 0;) {
        unsigned bx = ascending ? grid.x - 1 - k : k;
        blockIdx.x = bx;
        blockIdx.y = 0;
        blockIdx.z = 0;
        for (unsigned t = 0; t < n; t++) {
            f[t].tx = t;
            f[t].waiting = false;
            f[t].done = false;
            getcontext(&f[t].ctx);
            f[t].ctx.uc_stack.ss_sp = stacks + stack * t;
            f[t].ctx.uc_stack.ss_size = stack;
            f[t].ctx.uc_link = &b.sched;
            makecontext(&f[t].ctx, simt_fiber_main, 0);
        }
        for (unsigned round = 0;; round++) {
            for (unsigned k = 0; k < n; k++) {
                simt_fiber *g = &f[round % 2 == 0 ? n - 1 - k : k];
                if (g->done) {
                    continue;
                }
                g->waiting = false;
                threadIdx.x = g->tx;
                threadIdx.y = 0;
                threadIdx.z = 0;
                b.cur = g;
                swapcontext(&b.sched, &g->ctx);
            }
            unsigned done = 0;
            for (unsigned k = 0; k < n; k++) {
                done += f[k].done ? 1 : 0;
            }
            if (done == n) {
                break;
            }
            if (done != 0) {
                fprintf(stderr, "simt: block %u: %u of %u threads ended while the others wait at a barrier\n", bx, done, n);
                abort();
            }
        }
    }
    simt_running = nullptr;
    free(stacks);
    free(f);
}

#endif // MYELIN_SIMT_H
