#!/usr/bin/env bash
# Cross-checks the model format with an independent reader: for every
# Models/*.pb, the nodes that Tools/pbreader (C, libprotobuf-c) lists must equal
# the nodes `convrt inspect MODEL --format json` reports, as `<name> <op>` lines.
#
# Usage: Tools/check_pbreader.sh [CONVRT]   (default: .build/debug/convrt)
# Needs protoc-c, libprotobuf-c, make, a C compiler and python3.
# Exit status: 0 if every model matches, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONVRT=${1:-$ROOT/.build/debug/convrt}
READER="$ROOT/Tools/pbreader/build/pbreader"

[[ -x $CONVRT ]] || { echo "error: convrt binary not found at $CONVRT (run swift build)" >&2; exit 1; }
make -s -C "$ROOT/Tools/pbreader" >&2

shopt -s nullglob
models=("$ROOT"/Models/*.pb)
(( ${#models[@]} > 0 )) || { echo "error: no Models/*.pb to check" >&2; exit 1; }

# `<name> <op>` per node, from convrt's JSON.
from_convrt() {
  "$CONVRT" inspect "$1" --format json | python3 -c '
import json, sys
for node in json.load(sys.stdin)["nodes"]:
    print(node["name"], node["op"])'
}

status=0
for model in "${models[@]}"; do
  name=${model#"$ROOT"/}
  if ! expected=$(from_convrt "$model"); then
    echo "FAIL $name: convrt inspect failed"; status=1; continue
  fi
  if ! actual=$("$READER" "$model"); then
    echo "FAIL $name: pbreader failed"; status=1; continue
  fi
  if [[ $expected == "$actual" ]]; then
    echo "ok   $name ($(grep -c . <<<"$actual") nodes)"
  else
    echo "FAIL $name: pbreader and convrt disagree (< convrt, > pbreader)"
    diff <(echo "$expected") <(echo "$actual") || true
    status=1
  fi
done
exit $status
