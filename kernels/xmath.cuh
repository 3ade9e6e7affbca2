// xmath.cuh: the CUDA twin of engine/xmath (Myelin's own exp and log, ports
// of Go's pure-Go math.Exp and math.Log). The kernels are compiled with
// -fmad=false (and the host emulation without contraction), so every
// product is rounded before it is added, as the Go code's explicit
// float64 conversions make it; ldexp and frexp are exact. The host
// emulation compares these with the Go functions bit for bit.
#ifndef MYELIN_XMATH_CUH
#define MYELIN_XMATH_CUH

// myelin_exp is xmath.Exp.
__device__ __forceinline__ double myelin_exp(double x)
{
    const double ln2Hi = 6.93147180369123816490e-01;
    const double ln2Lo = 1.90821492927058770002e-10;
    const double log2e = 1.44269504088896338700e+00;
    const double overflow = 7.09782712893383973096e+02;
    const double underflow = -7.45133219101941108420e+02;
    const double nearZero = 1.0 / (1 << 28);
    const double p1 = 1.66666666666666657415e-01;
    const double p2 = -2.77777777770155933842e-03;
    const double p3 = 6.61375632143793436117e-05;
    const double p4 = -1.65339022054652515390e-06;
    const double p5 = 4.13813679705723846039e-08;
    if (x != x) {
        return x;
    }
    if (x > overflow) {
        return __longlong_as_double(0x7FF0000000000000ll);
    }
    if (x < underflow) {
        return 0.0;
    }
    if (-nearZero < x && x < nearZero) {
        return 1.0 + x;
    }
    int k = 0;
    if (x < 0) {
        k = (int)(log2e * x - 0.5);
    } else if (x > 0) {
        k = (int)(log2e * x + 0.5);
    }
    double hi = x - (double)k * ln2Hi;
    double lo = (double)k * ln2Lo;
    double r = hi - lo;
    double t = r * r;
    double c = r - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))));
    double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    return ldexp(y, k);
}

// myelin_log is xmath.Log.
__device__ __forceinline__ double myelin_log(double x)
{
    const double ln2Hi = 6.93147180369123816490e-01;
    const double ln2Lo = 1.90821492927058770002e-10;
    const double l1 = 6.666666666666735130e-01;
    const double l2 = 3.999999999940941908e-01;
    const double l3 = 2.857142874366239149e-01;
    const double l4 = 2.222219843214978396e-01;
    const double l5 = 1.818357216161805012e-01;
    const double l6 = 1.531383769920937332e-01;
    const double l7 = 1.479819860511658591e-01;
    if (x != x || x == __longlong_as_double(0x7FF0000000000000ll)) {
        return x;
    }
    if (x < 0) {
        return __longlong_as_double(0x7FF8000000000001ll); // math.NaN()
    }
    if (x == 0) {
        return __longlong_as_double((long long)0xFFF0000000000000ull);
    }
    int ki;
    double f1 = frexp(x, &ki);
    if (f1 < 0.70710678118654752440084436210484903928) { // math.Sqrt2/2
        f1 *= 2;
        ki--;
    }
    double f = f1 - 1.0;
    double k = (double)ki;
    double s = f / (2.0 + f);
    double s2 = s * s;
    double s4 = s2 * s2;
    double t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)));
    double t2 = s4 * (l2 + s4 * (l4 + s4 * l6));
    double rr = t1 + t2;
    double hfsq = 0.5 * f * f;
    return k * ln2Hi - ((hfsq - (s * (hfsq + rr) + k * ln2Lo)) - f);
}

#endif // MYELIN_XMATH_CUH
