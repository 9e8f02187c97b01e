#!/usr/bin/env bash
# Builds and runs one libFuzzer target for SECONDS (default 60):
#
#   Tools/fuzz.sh NAME [SECONDS] [libFuzzer flags...]      NAME: dsl, pb, npy, npz, onnx (Fuzz/Sources/fuzz-NAME)
#
# Targets live in the separate package Fuzz/ (built with -sanitize=fuzzer,address, so the main
# package needs no flags). The committed seed corpus Fuzz/corpus/NAME is only read; inputs the
# fuzzer finds go to .fuzz/NAME/corpus, crashes, hangs and over-limit allocations to
# .fuzz/NAME/crash-* (timeout-*, oom-*). Reproduce one: Fuzz/.build/release/fuzz-NAME FILE.
# New target: add Fuzz/Sources/fuzz-NAME/main.swift (see fuzz-npz) and Fuzz/corpus/NAME/.
set -euo pipefail
cd "$(dirname "$0")/.."
available=$(ls Fuzz/Sources | sed -n 's/^fuzz-//p' | tr '\n' ' ')
name=${1:-}
if [[ -z "$name" || ! -d "Fuzz/Sources/fuzz-$name" ]]; then
    echo "usage: Tools/fuzz.sh NAME [SECONDS] [libFuzzer flags...]; NAME is one of: $available" >&2
    exit 2
fi
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))

# SwiftPM caches the file list of a path dependency: when convrt's source files were added or
# removed since the last build, drop the cached build plan so it is made again.
mkdir -p .fuzz
fingerprint=$(find Sources -type f | sort | cksum)
if [[ "$(cat .fuzz/sources.cksum 2>/dev/null)" != "$fingerprint" ]]; then
    rm -f Fuzz/.build/release.yaml Fuzz/.build/*/release/description.json
fi
# All targets at once: building one product and then another rebuilds every dependency.
swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -g

echo "$fingerprint" > .fuzz/sources.cksum
work=".fuzz/$name"
mkdir -p "$work/corpus"
seeds="Fuzz/corpus/$name"
[[ -d "$seeds" ]] || seeds=""
# -timeout: an input taking over 10 s is a hang. -malloc_limit_mb: one allocation over 1 GiB is a
# finding (the targets run under a 64 MiB MemoryLimit). -rss_limit_mb: the whole process.
exec "Fuzz/.build/release/fuzz-$name" "$work/corpus" $seeds \
    -max_total_time="$seconds" -timeout=10 -malloc_limit_mb=1024 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" -print_final_stats=1 "$@"
