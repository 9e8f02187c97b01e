// Portable scalar SGEMM kernels, for CPUs with none of the SIMD paths. The tile
// is 8 x 48 in 16-float "vectors", the AVX-512 geometry, so the driver's tiling
// for that path is exercised on any machine.
#include "sgemm_internal.h"

#define P_MR 8
#define P_NR 48
#define P_W 16

static inline void portable_body(size_t kc, const float *a, const float *b, size_t ldb, float *c,
                                 size_t ldc, size_t nr, const sgemm_tile_epilogue *e, int mr) {
    float acc[P_MR][P_NR] = {{0.0f}};
    const size_t cols = (nr + P_W - 1) / P_W * P_W;  // whole "vectors", as the SIMD kernels read
    for (size_t p = 0; p < kc; p++) {
        for (int r = 0; r < mr; r++) {
            const float ar = a[p * P_MR + r];
            for (size_t j = 0; j < cols; j++) acc[r][j] += ar * b[p * ldb + j];
        }
    }
    for (int r = 0; r < mr; r++) {
        for (size_t j = 0; j < nr; j++) {
            float x = e->alpha * acc[r][j];
            if (e->load_c) x += c[r * ldc + j];
            if (e->last) {
                if (e->bias) x += e->bias[r];
                if (e->residual) x += e->residual[r * e->ldr + j];
                x = sgemm_scalar_activation(x, e);
            }
            c[r * ldc + j] = x;
        }
    }
}

static void portable_pack_b(size_t kc, size_t ncols, const float *b, size_t ldb, float *dst) {
    const size_t panels = (ncols + P_NR - 1) / P_NR;
    for (size_t p = 0; p < kc; p++) {
        for (size_t q = 0; q < panels; q++) {
            float *o = dst + q * kc * P_NR + p * P_NR;
            const float *s = b + p * ldb + q * P_NR;
            const size_t cols = ncols - q * P_NR < P_NR ? ncols - q * P_NR : P_NR;
            size_t j = 0;
            for (; j < cols; j++) o[j] = s[j];
            for (; j < P_NR; j++) o[j] = 0.0f;
        }
    }
}

#define P_DEFINE(mr)                                                                          \
    static void sgemm_portable_mr##mr(size_t kc, const float *a, const float *b, size_t ldb,  \
                                      float *c, size_t ldc, size_t nr,                       \
                                      const sgemm_tile_epilogue *e) {                        \
        portable_body(kc, a, b, ldb, c, ldc, nr, e, mr);                                       \
    }
P_DEFINE(1) P_DEFINE(2) P_DEFINE(3) P_DEFINE(4) P_DEFINE(5) P_DEFINE(6) P_DEFINE(7) P_DEFINE(8)
#define ROW(mr) {sgemm_portable_mr##mr, sgemm_portable_mr##mr, sgemm_portable_mr##mr}

static const sgemm_kernel_set set = {
    .name = "sgemm_8x48_portable",
    .isa = CONVRT_ISA_PORTABLE,
    .mr = P_MR, .nr = P_NR, .w = P_W,
    .kc_max = 256, .mc_max = 256, .nc_max = 384,
    .pack_b = portable_pack_b,
    .kernels = {ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8)},
};

const sgemm_kernel_set *sgemm_kernels_portable(void) { return &set; }
