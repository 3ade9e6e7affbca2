//go:build hostemu

// kernels.cc: the host build of Myelin's CUDA kernels. It compiles the very
// sources that nvcc compiles (kernels/*.cu and *.cuh; the *.cu.h and
// *.cuh.h files here are symbolic links to them, so that Go's build cache
// sees their content) through the SIMT shim in simt.h, and dispatches
// launches by kernel number.
#include "simt.h"

#include "update.cu.h"
#include "deliver.cu.h"
#include "rate_update.cu.h"
#include "order.cu.h"
#include "construct.cu.h"

#include "emu.h"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;
thread_local simt_block *simt_running;

extern "C" int myelin_emu_launch(int kernel, unsigned grid, unsigned block, const void *netp, unsigned s, unsigned a)
{
    const MyelinNet *net = (const MyelinNet *)netp;
    dim3 g(grid), b(block);
    switch (kernel) {
    case MYELIN_K_CHUNK_BEGIN:
        simt_launch(g, b, [=] { myelin_chunk_begin(*net, s, a); });
        return 0;
    case MYELIN_K_EVENTS:
        simt_launch(g, b, [=] { myelin_events(*net, s, a); });
        return 0;
    case MYELIN_K_UPDATE:
        simt_launch(g, b, [=] { myelin_update(*net, s, a); });
        return 0;
    case MYELIN_K_CHUNK_END:
        simt_launch(g, b, [=] { myelin_chunk_end(*net, s, a); });
        return 0;
    case MYELIN_K_RATE_UPDATE:
        simt_launch(g, b, [=] { myelin_rate_update(*net, s, a); });
        return 0;
    case MYELIN_K_DELIVER:
        simt_launch(g, b, [=] { myelin_deliver(*net, s, a); });
        return 0;
    case MYELIN_K_DELIVER_PROC:
        simt_launch(g, b, [=] { myelin_deliver_proc(*net, s, a); });
        return 0;
    case MYELIN_K_DELIVER_TILED:
        // A block's threads share their tile's sums in shared memory and
        // meet at barriers.
        simt_launch_blocks(g, b, [=] { myelin_deliver_tiled(*net, s, a); });
        return 0;
    case MYELIN_K_STDP_POST:
        simt_launch(g, b, [=] { myelin_stdp_post(*net, s, a); });
        return 0;
    case MYELIN_K_STEP:
        // Update blocks first on even steps, delivery blocks first on odd
        // ones: the fused launch must not depend on its blocks' order.
        simt_launch(g, b, [=] { myelin_step(*net, s, a); }, s % 2 == 0);
        return 0;
    case MYELIN_K_PERSISTENT:
    case MYELIN_K_PERSISTENT_BLOCK: {
        // The persistent kernel's loop with its grid-wide barriers: each
        // phase runs over every block before the next starts, blocks
        // ascending on even phases and descending on odd ones, so that no
        // phase may depend on its blocks' order.
        unsigned n = myelin_persist_phases(s, a);
        for (unsigned ph = 0; ph < n; ph++) {
            simt_launch(g, b, [=] { myelin_persist_phase(net, s, a, ph, blockIdx.x, gridDim.x); }, ph % 2 == 0);
        }
        return 0;
    }
    case MYELIN_K_ORDER_COUNT:
        simt_launch(g, b, [=] { myelin_order_count(*net, s, a); });
        return 0;
    case MYELIN_K_ORDER_SCAN:
        simt_launch(g, b, [=] { myelin_order_scan(*net, s, a); });
        return 0;
    case MYELIN_K_ORDER_WRITE:
        simt_launch(g, b, [=] { myelin_order_write(*net, s, a); });
        return 0;
    }
    return -1;
}

extern "C" int myelin_emu_construct(int kernel, unsigned grid, unsigned block, const void *desc, unsigned a)
{
    const MyelinBuild *d = (const MyelinBuild *)desc;
    dim3 g(grid), b(block);
    switch (kernel) {
    case MYELIN_K_CONSTRUCT_COUNT:
        simt_launch(g, b, [=] { myelin_construct_count(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_FILL:
        simt_launch(g, b, [=] { myelin_construct_fill(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_ORDER:
        simt_launch_blocks(g, b, [=] { myelin_construct_order(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_ROW_WEIGHTS:
        simt_launch(g, b, [=] { myelin_construct_row_weights(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_ROW_SUMS:
        simt_launch_blocks(g, b, [=] { myelin_construct_row_sums(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_FINISH:
        simt_launch_blocks(g, b, [=] { myelin_construct_finish(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_COUNT_PRE:
        simt_launch(g, b, [=] { myelin_construct_count_pre(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_CONST_SUMS_PRE:
        simt_launch(g, b, [=] { myelin_construct_const_sums_pre(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_MAGS_PRE:
        simt_launch(g, b, [=] { myelin_construct_mags_pre(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_SCATTER_PRE:
        simt_launch(g, b, [=] { myelin_construct_scatter_pre(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_DRAWN_SUMS_PRE:
        simt_launch_blocks(g, b, [=] { myelin_construct_drawn_sums_pre(*d, a, 0); });
        return 0;
    case MYELIN_K_CONSTRUCT_FILL_PRE:
        simt_launch(g, b, [=] { myelin_construct_fill_pre(*d, a, 0); });
        return 0;
    }
    return -1;
}

extern "C" const char *myelin_emu_kernel_name(int kernel)
{
    switch (kernel) {
    case MYELIN_K_CHUNK_BEGIN:
        return "myelin_chunk_begin";
    case MYELIN_K_EVENTS:
        return "myelin_events";
    case MYELIN_K_UPDATE:
        return "myelin_update";
    case MYELIN_K_CHUNK_END:
        return "myelin_chunk_end";
    case MYELIN_K_RATE_UPDATE:
        return "myelin_rate_update";
    case MYELIN_K_DELIVER:
        return "myelin_deliver";
    case MYELIN_K_DELIVER_PROC:
        return "myelin_deliver_proc";
    case MYELIN_K_DELIVER_TILED:
        return "myelin_deliver_tiled";
    case MYELIN_K_STDP_POST:
        return "myelin_stdp_post";
    case MYELIN_K_STEP:
        return "myelin_step";
    case MYELIN_K_PERSISTENT:
        return "myelin_persistent";
    case MYELIN_K_PERSISTENT_BLOCK:
        return "myelin_persistent_block";
    case MYELIN_K_ORDER_COUNT:
        return "myelin_order_count";
    case MYELIN_K_ORDER_SCAN:
        return "myelin_order_scan";
    case MYELIN_K_ORDER_WRITE:
        return "myelin_order_write";
    case MYELIN_K_CONSTRUCT_COUNT:
        return "myelin_construct_count";
    case MYELIN_K_CONSTRUCT_FILL:
        return "myelin_construct_fill";
    case MYELIN_K_CONSTRUCT_ORDER:
        return "myelin_construct_order";
    case MYELIN_K_CONSTRUCT_ROW_WEIGHTS:
        return "myelin_construct_row_weights";
    case MYELIN_K_CONSTRUCT_ROW_SUMS:
        return "myelin_construct_row_sums";
    case MYELIN_K_CONSTRUCT_FINISH:
        return "myelin_construct_finish";
    case MYELIN_K_CONSTRUCT_COUNT_PRE:
        return "myelin_construct_count_pre";
    case MYELIN_K_CONSTRUCT_CONST_SUMS_PRE:
        return "myelin_construct_const_sums_pre";
    case MYELIN_K_CONSTRUCT_MAGS_PRE:
        return "myelin_construct_mags_pre";
    case MYELIN_K_CONSTRUCT_SCATTER_PRE:
        return "myelin_construct_scatter_pre";
    case MYELIN_K_CONSTRUCT_DRAWN_SUMS_PRE:
        return "myelin_construct_drawn_sums_pre";
    case MYELIN_K_CONSTRUCT_FILL_PRE:
        return "myelin_construct_fill_pre";
    }
    return "";
}

extern "C" int myelin_emu_sizeof(int which)
{
    switch (which) {
    case 0:
        return sizeof(PopDesc);
    case 1:
        return sizeof(PoissonDesc);
    case 2:
        return sizeof(DCDesc);
    case 3:
        return sizeof(EventDesc);
    case 4:
        return sizeof(RateProjDesc);
    case 5:
        return sizeof(ProbeDesc);
    case 6:
        return sizeof(MyelinNet);
    case 7:
        return sizeof(StpDesc);
    case 8:
        return sizeof(StdpDesc);
    case 9:
        return sizeof(ProcDesc);
    case 10:
        return sizeof(BuildProj);
    case 11:
        return sizeof(MyelinBuild);
    }
    return -1;
}

// myelin_emu_model_sizeof returns sizeof the coefficient struct of the
// model with code code (models.cuh), or -1 for a code with no kernel model.
extern "C" int myelin_emu_model_sizeof(int code)
{
    switch (code) {
#define MYELIN_MODEL_SIZE(c, T, ...) \
    case c:                         \
        return sizeof(T);
        MYELIN_SPIKING_MODELS(MYELIN_MODEL_SIZE)
        MYELIN_RATE_MODELS(MYELIN_MODEL_SIZE)
#undef MYELIN_MODEL_SIZE
    }
    return -1;
}

// myelin_emu_model_words returns MYELIN_MODEL_WORDS.
extern "C" int myelin_emu_model_words(void) { return MYELIN_MODEL_WORDS; }

// myelin_emu_ptile_max_ints returns MYELIN_PTILE_MAX_INTS.
extern "C" int myelin_emu_ptile_max_ints(void) { return MYELIN_PTILE_MAX_INTS; }

// myelin_emu_contract_probe returns a*b + c as the kernels compute it: with
// contraction off, the product is rounded before the add.
extern "C" float myelin_emu_contract_probe(float a, float b, float c)
{
    return a * b + c;
}

// myelin_emu_exp and myelin_emu_log are the kernels' myelin_exp and
// myelin_log (xmath.cuh), for bit-for-bit tests against engine/xmath.
extern "C" double myelin_emu_exp(double x) { return myelin_exp(x); }
extern "C" double myelin_emu_log(double x) { return myelin_log(x); }

// myelin_emu_normals writes n draws of the kernels' myelin_normal from item
// item of stream (key, purpose), with the ziggurat's tables at thr (the
// start of proc_thr), for tests against rng.Seq.Normal.
extern "C" void myelin_emu_normals(const unsigned *thr, unsigned key0, unsigned key1, unsigned item, unsigned purpose,
                                   int n, double *out)
{
    MyelinNet net;
    memset(&net, 0, sizeof net);
    net.proc_thr = thr;
    net.key0 = key0;
    net.key1 = key1;
    MyelinSeq q = myelin_seq_start(&net, item, purpose);
    for (int i = 0; i < n; i++) {
        out[i] = myelin_normal(&net, &q);
    }
}

// myelin_emu_block_sort sorts key[0, n) with the construct kernels'
// myelin_construct_block_sort, by one block of block threads
// (simt_launch_blocks), moving pa and pb along.
extern "C" void myelin_emu_block_sort(unsigned long long *key, unsigned *pa, int *pb, unsigned long long n,
                                      unsigned block)
{
    simt_launch_blocks(dim3(1), dim3(block), [=] { myelin_construct_block_sort(key, pa, pb, n); });
}
