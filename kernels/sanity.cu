// sanity.cu: a placeholder kernel that exercises the PTX build, the embed
// and the module load / launch path end to end. It writes out[i] = 2*i for
// every i < n.

extern "C" __global__ void myelin_sanity(int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = 2 * i;
    }
}
