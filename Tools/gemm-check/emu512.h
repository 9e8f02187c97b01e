// AVX-512F intrinsics used by sgemm_avx512.c, emulated with AVX2 halves / scalar
// lanes following Intel's documented semantics (for checking the macro mapping only).
#include <immintrin.h>
typedef struct { __m256 lo, hi; } emu_m512;
typedef unsigned short emu_mask16;
#define E static inline __attribute__((always_inline, target("avx2,fma")))
E emu_m512 emu_setzero(void) { emu_m512 r = {_mm256_setzero_ps(), _mm256_setzero_ps()}; return r; }
E emu_m512 emu_loadu(const float *p) { emu_m512 r = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; return r; }
E void emu_storeu(float *p, emu_m512 x) { _mm256_storeu_ps(p, x.lo); _mm256_storeu_ps(p + 8, x.hi); }
E emu_m512 emu_set1(float f) { emu_m512 r = {_mm256_set1_ps(f), _mm256_set1_ps(f)}; return r; }
E emu_m512 emu_fmadd(emu_m512 a, emu_m512 b, emu_m512 c) { emu_m512 r = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; return r; }
E emu_m512 emu_mul(emu_m512 a, emu_m512 b) { emu_m512 r = {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; return r; }
E emu_m512 emu_add(emu_m512 a, emu_m512 b) { emu_m512 r = {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; return r; }
// VMAXPS/VMINPS: the second operand when either is NaN or both are zero.
E emu_m512 emu_max(emu_m512 a, emu_m512 b) { emu_m512 r = {_mm256_max_ps(a.lo, b.lo), _mm256_max_ps(a.hi, b.hi)}; return r; }
E emu_m512 emu_min(emu_m512 a, emu_m512 b) { emu_m512 r = {_mm256_min_ps(a.lo, b.lo), _mm256_min_ps(a.hi, b.hi)}; return r; }
E emu_mask16 emu_cmp_ps_mask(emu_m512 a, emu_m512 b, int pred) {
    float x[16], y[16]; emu_storeu(x, a); emu_storeu(y, b);
    if (pred != _CMP_GT_OQ) __builtin_trap();
    emu_mask16 m = 0; for (int i = 0; i < 16; i++) if (x[i] > y[i]) m |= (emu_mask16)(1u << i);
    return m;
}
// result[i] = k[i] ? b[i] : a[i]
E emu_m512 emu_mask_blend(emu_mask16 k, emu_m512 a, emu_m512 b) {
    float x[16], y[16], z[16]; emu_storeu(x, a); emu_storeu(y, b);
    for (int i = 0; i < 16; i++) z[i] = (k >> i) & 1 ? y[i] : x[i];
    return emu_loadu(z);
}
E emu_m512 emu_maskz_loadu(emu_mask16 k, const float *p) {
    float z[16]; for (int i = 0; i < 16; i++) z[i] = (k >> i) & 1 ? p[i] : 0.0f;
    return emu_loadu(z);
}
E void emu_mask_storeu(float *p, emu_mask16 k, emu_m512 x) {
    float z[16]; emu_storeu(z, x);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) p[i] = z[i];
}
