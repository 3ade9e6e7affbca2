// philox.cuh: Philox4x32-10 (Salmon et al. 2011, the Random123 generator),
// the twin of rng.Philox4x32 in engine/rng/philox.go. Every draw is a pure
// function of its counter and key, so the device draws the same numbers as
// the host for any thread count.
#ifndef MYELIN_PHILOX_CUH
#define MYELIN_PHILOX_CUH

#define MYELIN_PHILOX_M0 0xD2511F53u
#define MYELIN_PHILOX_M1 0xCD9E8D57u
#define MYELIN_PHILOX_W0 0x9E3779B9u
#define MYELIN_PHILOX_W1 0xBB67AE85u

// Philox4 is one block of four 32-bit words.
struct Philox4 {
    unsigned x0, x1, x2, x3;
};

// myelin_philox4x32 is rng.Philox4x32: the Philox4x32-10 block for counter
// (c0, c1, c2, c3) and key (k0, k1).
__device__ __forceinline__ Philox4 myelin_philox4x32(unsigned c0, unsigned c1, unsigned c2, unsigned c3,
                                                     unsigned k0, unsigned k1)
{
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += MYELIN_PHILOX_W0;
            k1 += MYELIN_PHILOX_W1;
        }
        unsigned hi0 = __umulhi(MYELIN_PHILOX_M0, c0), lo0 = MYELIN_PHILOX_M0 * c0;
        unsigned hi1 = __umulhi(MYELIN_PHILOX_M1, c2), lo1 = MYELIN_PHILOX_M1 * c2;
        unsigned n0 = hi1 ^ c1 ^ k0;
        unsigned n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    Philox4 b;
    b.x0 = c0;
    b.x1 = c1;
    b.x2 = c2;
    b.x3 = c3;
    return b;
}

// myelin_philox_word returns word i (0..3) of block b without indexing an
// array, which would put b in local memory.
__device__ __forceinline__ unsigned myelin_philox_word(Philox4 b, unsigned i)
{
    return i == 0 ? b.x0 : i == 1 ? b.x1 : i == 2 ? b.x2 : b.x3;
}

#endif // MYELIN_PHILOX_CUH
