// microbench.cu: raw-memory microbenchmarks, not part of the simulation.
// cuda/microbench_test.go (BenchmarkAtomics) times them to settle whether
// the delivery of a large network (about 22e9 random 4-byte atomic adds
// per second on an H100, into an L2-resident array of 1M ints) runs at the
// hardware's limit or below it. Each kernel walks i < n grid-stride, so
// any grid covers every item.
//
//   myelin_bench_red(idx, acc, n)   acc[idx[i]] += 1 atomically, the result
//                                   unused (a RED, like the delivery's)
//   myelin_bench_read(idx, acc, n)  the same loads of idx, no atomic: the
//                                   cost of reading the indices alone
//
// atomicAdd with its result unused comes out of nvcc 11.8 as PTX
// atom.global.add.u32, as in deliver.cuh; ptxas turns it into a RED: for
// sm_70, sm_80 and sm_90 it gives the same machine code as an inline
// red.global.add.u32. So the benchmark times the delivery's instruction.

extern "C" __global__ void myelin_bench_red(const unsigned *idx, int *acc, unsigned long long n)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        atomicAdd(&acc[idx[i]], 1);
    }
}

// myelin_bench_read stores to acc only when an index is 0xffffffff, which
// the benchmark never passes, so the compiler must keep every load but
// memory sees nothing but the index stream.
extern "C" __global__ void myelin_bench_read(const unsigned *idx, int *acc, unsigned long long n)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        if (idx[i] == 0xffffffffu) {
            acc[0] = 1;
        }
    }
}
