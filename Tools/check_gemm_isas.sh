#!/usr/bin/env bash
# Checks the SGEMM kernels of Sources/CKernels on every path this host can reach:
#   1. natively: every path the CPU runs (portable, AVX2, AVX-512, NEON);
#   2. AVX-512 emulated: sgemm_avx512.c with its intrinsics renamed onto AVX2
#      versions (gemm-check/emu512.h, written from Intel's documented semantics),
#      so its macro mapping, masks and blend order are checked on hosts without AVX-512;
#   3. NEON under qemu-aarch64, when clang can cross-link (ld.lld) and the arm64 libc
#      is installed (Debian: qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross).
# Usage: Tools/check_gemm_isas.sh      (needs clang; about a minute, NEON a little more)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/Sources/CKernels
check=$root/Tools/gemm-check
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc=${CC:-clang}
flags=(-O2 -I"$src/include" -I"$src")

echo "== native"
"$cc" "${flags[@]}" "$check/check.c" "$src"/*.c -o "$out/native" -lm -lpthread
"$out/native"

if [[ $(uname -m) == x86_64 ]]; then
    echo "== AVX-512 emulated on AVX2"
    sed -e 's/_mm512_maskz_loadu_ps/emu_maskz_loadu/g; s/_mm512_mask_storeu_ps/emu_mask_storeu/g' \
        -e 's/_mm512_mask_blend_ps/emu_mask_blend/g; s/_mm512_cmp_ps_mask/emu_cmp_ps_mask/g' \
        -e 's/_mm512_setzero_ps/emu_setzero/g; s/_mm512_loadu_ps/emu_loadu/g; s/_mm512_storeu_ps/emu_storeu/g' \
        -e 's/_mm512_set1_ps/emu_set1/g; s/_mm512_fmadd_ps/emu_fmadd/g; s/_mm512_mul_ps/emu_mul/g' \
        -e 's/_mm512_add_ps/emu_add/g; s/_mm512_max_ps/emu_max/g; s/_mm512_min_ps/emu_min/g' \
        -e 's/__m512/emu_m512/g; s/__mmask16/emu_mask16/g; s/"avx512f,fma"/"avx2,fma"/' \
        -e 's/#include <immintrin.h>/#include "emu512.h"/' "$src/sgemm_avx512.c" > "$out/sgemm_avx512_emu.c"
    if grep -q '_mm512' "$out/sgemm_avx512_emu.c"; then
        echo "an AVX-512 intrinsic has no emulation:"; grep -n '_mm512' "$out/sgemm_avx512_emu.c"; exit 1
    fi
    # The emulated path runs wherever AVX2 does.
    sed -e 's/__builtin_cpu_supports("avx512f")/__builtin_cpu_supports("avx2")/' "$src/sgemm_driver.c" > "$out/sgemm_driver_emu.c"
    "$cc" "${flags[@]}" -I"$check" "$check/check.c" "$out/sgemm_avx512_emu.c" "$out/sgemm_driver_emu.c" \
        "$src/sgemm_avx2.c" "$src/sgemm_portable.c" "$src/sgemm_neon.c" -o "$out/emulated" -lm -lpthread
    "$out/emulated"
fi

if command -v qemu-aarch64 >/dev/null && [[ -d /usr/aarch64-linux-gnu/lib ]]; then
    echo "== NEON under qemu-aarch64"
    "$cc" --target=aarch64-linux-gnu -fuse-ld=lld "${flags[@]}" "$check/check.c" "$src"/*.c \
        -o "$out/arm64" -lm -lpthread
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/arm64"
else
    echo "== NEON skipped (no qemu-aarch64 or arm64 libc)"
fi
