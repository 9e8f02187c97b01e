// Stand-alone check of every SGEMM path this binary can run (see check_gemm_isas.sh):
// a grid over tile remainders, K blocks, epilogues, thread splits and both B modes
// (in place, packed) against a double-precision triple loop; then NaN and -0
// handling, and bit equality of the fused-multiply-add paths.
#include "CKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float next_value(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

// C = epilogue(A B) on `isa`, split in `parts` unit ranges run one after another.
static void run(convrt_isa isa, size_t m, size_t n, size_t k, const float *a, const float *b,
                size_t ldb, float *c, const convrt_sgemm_epilogue *e, size_t parts) {
    float *pa = malloc((convrt_sgemm_packed_a_count(isa, m, k) + 16) * sizeof(float));
    convrt_sgemm_pack_a(isa, m, k, a, k, pa);
    convrt_sgemm_plan plan;
    convrt_sgemm_plan_make(isa, m, n, k, parts, &plan);
    for (size_t part = 0; part < parts; part++) {
        size_t u0, u1;
        convrt_sgemm_plan_partition(&plan, part, parts, &u0, &u1);
        convrt_sgemm_compute(&plan, pa, b, ldb, c, n, e, u0, u1);
    }
    free(pa);
}

static int check(convrt_isa isa, size_t m, size_t n, size_t k, size_t ldb, int act, int flags) {
    unsigned s = (unsigned)(m * 131 + n * 7 + k);
    float *a = malloc((m * k + 1) * 4), *b = malloc((k * ldb + 1) * 4), *c0 = malloc((m * n + 1) * 4);
    float *c = malloc((m * n + 1) * 4), *r = malloc((m * n + 1) * 4), *bias = malloc((m + 1) * 4);
    for (size_t i = 0; i < m * k; i++) a[i] = next_value(&s);
    for (size_t i = 0; i < k * ldb; i++) b[i] = next_value(&s);
    for (size_t i = 0; i < m * n; i++) c0[i] = next_value(&s), r[i] = next_value(&s);
    for (size_t i = 0; i < m; i++) bias[i] = next_value(&s);
    const int acc = flags & 1, use_bias = flags & 2, res = flags & 4;
    const float alpha = flags & 8 ? -0.75f : 1.0f;
    const convrt_sgemm_epilogue e = {alpha, acc, use_bias ? bias : NULL, res ? r : NULL, n, act, -0.5f, 0.5f, 0.1f};
    int bad = 0;
    for (size_t parts = 1; parts <= 3 && !bad; parts++) {
        memcpy(c, c0, m * n * 4);
        run(isa, m, n, k, a, b, ldb, c, &e, parts);
        for (size_t i = 0; i < m && !bad; i++) {
            for (size_t j = 0; j < n && !bad; j++) {
                double sum = 0, mag = 0;
                for (size_t p = 0; p < k; p++) {
                    sum += (double)a[i * k + p] * b[p * ldb + j];
                    mag += fabs((double)a[i * k + p] * b[p * ldb + j]);
                }
                double v = alpha * sum + (acc ? c0[i * n + j] : 0) + (use_bias ? bias[i] : 0) + (res ? r[i * n + j] : 0);
                if (act == CONVRT_ACT_RELU) v = v > 0 ? v : 0;
                if (act == CONVRT_ACT_CLAMP) v = v < -0.5 ? -0.5 : v > 0.5 ? 0.5 : v;
                if (act == CONVRT_ACT_LEAKY_RELU) v = v > 0 ? v : v * 0.1;
                if (fabs(c[i * n + j] - v) > 1e-6 * (k + 4) * (mag + 4)) {
                    printf("FAIL %s m=%zu n=%zu k=%zu ldb=%zu act=%d flags=%d parts=%zu at (%zu,%zu): %g vs %g\n",
                           convrt_sgemm_kernel_name(isa), m, n, k, ldb, act, flags, parts, i, j, c[i * n + j], v);
                    bad = 1;
                }
            }
        }
    }
    free(a), free(b), free(c0), free(c), free(r), free(bias);
    return bad;
}

static int grid(convrt_isa isa) {
    const size_t mr = convrt_sgemm_mr(isa), nr = convrt_sgemm_nr(isa);
    int fails = 0;
    for (size_t m = 1; m <= 2 * mr + 1; m++)
        for (size_t n = 1; n <= 2 * nr + 1; n++)
            for (size_t k = 1; k <= 40; k += 13) fails += check(isa, m, n, k, n, 0, 0);
    const size_t ks[] = {0, 1, 255, 256, 257, 600};
    for (int ki = 0; ki < 6; ki++)
        for (int act = 0; act < 4; act++)
            for (int flags = 0; flags < 16; flags++) fails += check(isa, 13, 3 * nr + 5, ks[ki], 3 * nr + 5, act, flags);
    fails += check(isa, 200, 1000, 300, 1000, 1, 7);
    // ldb 1024 (4 KiB rows) takes the packed-B path.
    for (size_t n = 1; n <= 2 * nr + 1; n++) fails += check(isa, 2 * mr + 1, n, 300, 1024, 2, 7);
    fails += check(isa, 50, 1000, 600, 1024, 3, 15);
    return fails;
}

static int edges(const convrt_isa *fused, int count) {
    int fails = 0;
    const size_t m = 13, n = 77, k = 300;
    float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c1 = malloc(m * n * 4), *c2 = malloc(m * n * 4);
    float bias[13];
    unsigned s = 5;
    for (size_t i = 0; i < m * k; i++) a[i] = next_value(&s);
    for (size_t i = 0; i < k * n; i++) b[i] = next_value(&s);
    for (size_t i = 0; i < m; i++) bias[i] = i * 0.1f - 0.5f;
    for (int i = 1; i < count; i++) {
        for (int act = 0; act < 4; act++) {
            const convrt_sgemm_epilogue e = {0.5f, 1, bias, NULL, 0, act, -0.2f, 0.3f, 0.2f};
            for (size_t x = 0; x < m * n; x++) c1[x] = c2[x] = x * 0.001f;
            run(fused[0], m, n, k, a, b, n, c1, &e, 1);
            run(fused[i], m, n, k, a, b, n, c2, &e, 2);
            if (memcmp(c1, c2, m * n * 4)) {
                printf("FAIL %s and %s differ (activation %d)\n", convrt_sgemm_kernel_name(fused[0]),
                       convrt_sgemm_kernel_name(fused[i]), act);
                fails++;
            }
        }
    }
    b[1 * n + 7] = NAN;
    for (int isa = CONVRT_ISA_PORTABLE; isa <= CONVRT_ISA_NEON; isa++) {
        if (!convrt_isa_supported(isa)) continue;
        for (int act = 1; act < 4; act++) {
            const convrt_sgemm_epilogue e = {1, 0, NULL, NULL, 0, act, 0, 6, 0.1f};
            run(isa, m, n, k, a, b, n, c1, &e, 1);
            for (size_t i = 0; i < m; i++)
                if (!isnan(c1[i * n + 7])) { printf("FAIL %s activation %d loses NaN\n", convrt_sgemm_kernel_name(isa), act); fails++; break; }
        }
        // K = 0, alpha = -1: every value is -0; relu makes it +0.
        convrt_sgemm_epilogue e = {-1, 0, NULL, NULL, 0, 0, 0, 0, 0};
        run(isa, 3, 20, 0, a, b, 20, c1, &e, 1);
        for (int i = 0; i < 60; i++) if (c1[i] != 0 || !signbit(c1[i])) { printf("FAIL %s -0\n", convrt_sgemm_kernel_name(isa)); fails++; break; }
        e.activation = CONVRT_ACT_RELU;
        run(isa, 3, 20, 0, a, b, 20, c1, &e, 1);
        for (int i = 0; i < 60; i++) if (c1[i] != 0 || signbit(c1[i])) { printf("FAIL %s relu(-0)\n", convrt_sgemm_kernel_name(isa)); fails++; break; }
    }
    free(a), free(b), free(c1), free(c2);
    return fails;
}

int main(void) {
    int fails = 0, count = 0;
    convrt_isa fused[4];
    for (int isa = CONVRT_ISA_PORTABLE; isa <= CONVRT_ISA_NEON; isa++) {
        if (!convrt_isa_supported(isa)) continue;
        printf("checking %s\n", convrt_sgemm_kernel_name(isa));
        fails += grid(isa);
        if (isa != CONVRT_ISA_PORTABLE) fused[count++] = isa;
    }
    fails += edges(fused, count);
    printf("%s: %d failures\n", fails ? "FAILED" : "ok", fails);
    return fails != 0;
}
