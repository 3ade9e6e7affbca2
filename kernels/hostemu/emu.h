// emu.h: the C interface of the host emulation, called from Go (cgo).
#ifndef MYELIN_EMU_H
#define MYELIN_EMU_H

#ifdef __cplusplus
extern "C" {
#endif

// Kernel numbers: launch.Kernel in kernels/launch.
enum {
    MYELIN_K_CHUNK_BEGIN = 1,
    MYELIN_K_EVENTS = 2,
    MYELIN_K_UPDATE = 3,
    MYELIN_K_CHUNK_END = 4,
    MYELIN_K_RATE_UPDATE = 5,
    MYELIN_K_DELIVER = 6,
    // 7 was myelin_record: samples are now written by the update kernels.
    MYELIN_K_ORDER_COUNT = 8,
    MYELIN_K_ORDER_SCAN = 9,
    MYELIN_K_ORDER_WRITE = 10,
    MYELIN_K_STEP = 11,
    MYELIN_K_PERSISTENT = 12,
    MYELIN_K_DELIVER_PROC = 13,
    MYELIN_K_STDP_POST = 14,
    MYELIN_K_DELIVER_TILED = 15,
    MYELIN_K_PERSISTENT_BLOCK = 16,
    // The construct kernels (launch.ConstructKernel): myelin_emu_construct.
    MYELIN_K_CONSTRUCT_COUNT = 101,
    MYELIN_K_CONSTRUCT_FILL = 102,
    MYELIN_K_CONSTRUCT_ORDER = 103,
    MYELIN_K_CONSTRUCT_ROW_WEIGHTS = 104,
    MYELIN_K_CONSTRUCT_ROW_SUMS = 105,
    MYELIN_K_CONSTRUCT_FINISH = 106,
    MYELIN_K_CONSTRUCT_COUNT_PRE = 107,
    MYELIN_K_CONSTRUCT_CONST_SUMS_PRE = 108,
    MYELIN_K_CONSTRUCT_MAGS_PRE = 109,
    MYELIN_K_CONSTRUCT_SCATTER_PRE = 110,
    MYELIN_K_CONSTRUCT_DRAWN_SUMS_PRE = 111,
    MYELIN_K_CONSTRUCT_FILL_PRE = 112,
};

// myelin_emu_launch runs kernel <<<grid, block>>>(net, s, a) on the host.
// It returns 0, or -1 for an unknown kernel number.
int myelin_emu_launch(int kernel, unsigned grid, unsigned block, const void *net, unsigned s, unsigned a);

// myelin_emu_construct runs construct kernel <<<grid, block>>>(*desc, a, 0)
// on the host, desc pointing to a MyelinBuild (kernels/construct.cu). It
// returns 0, or -1 for an unknown kernel number.
int myelin_emu_construct(int kernel, unsigned grid, unsigned block, const void *desc, unsigned a);

// myelin_emu_kernel_name returns the extern "C" name of a kernel number
// ("" if unknown), so that Go can check its numbering against the C side.
const char *myelin_emu_kernel_name(int kernel);

// myelin_emu_sizeof returns sizeof of the structs of kernels/network.cuh:
// 0 PopDesc, 1 PoissonDesc, 2 DCDesc, 3 EventDesc, 4 RateProjDesc,
// 5 ProbeDesc, 6 MyelinNet, 7 StpDesc, 8 StdpDesc, 9 ProcDesc, and of
// kernels/construct.cu's 10 BuildProj, 11 MyelinBuild; -1 otherwise.
int myelin_emu_sizeof(int which);

// myelin_emu_model_sizeof returns sizeof the coefficient struct of the
// model with code code (kernels/models.cuh), or -1 if it has no kernel.
int myelin_emu_model_sizeof(int code);

// myelin_emu_model_words returns MYELIN_MODEL_WORDS (kernels/models.cuh).
int myelin_emu_model_words(void);

// myelin_emu_ptile_max_ints returns MYELIN_PTILE_MAX_INTS
// (kernels/network.cuh).
int myelin_emu_ptile_max_ints(void);

// myelin_emu_contract_probe returns a*b + c compiled like the kernels, so
// that Go can check that no multiply-add was fused.
float myelin_emu_contract_probe(float a, float b, float c);

// myelin_emu_exp and myelin_emu_log return the kernels' exp and log
// (xmath.cuh) of x.
double myelin_emu_exp(double x);
double myelin_emu_log(double x);

// myelin_emu_block_sort sorts key[0, n) by one block of block threads
// with the construct kernels' block sort, moving pa and pb along.
void myelin_emu_block_sort(unsigned long long *key, unsigned *pa, int *pb, unsigned long long n, unsigned block);

// myelin_emu_normals writes n of the kernels' normal draws (myelin_normal)
// of item item of stream (key0, key1, purpose) to out, with the ziggurat's
// tables at thr.
void myelin_emu_normals(const unsigned *thr, unsigned key0, unsigned key1, unsigned item, unsigned purpose, int n,
                        double *out);

#ifdef __cplusplus
}
#endif

#endif // MYELIN_EMU_H
