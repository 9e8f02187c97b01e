#!/usr/bin/env bash
# Regenerates the Swift code for Protos/onnx.proto (the ONNX schema, copied verbatim
# from the onnx Python package: onnx/onnx.proto) into
# Sources/ConvRT/ONNX/Generated/onnx.pb.swift (internal types, prefixed `Onnx_`
# by the proto's `package onnx`, so they never clash with convrt.proto's PB* types).
#
# Usage: Tools/regen-onnx-proto.sh [--check]
#   --check  regenerate into a temporary directory and diff against the
#            committed file; exit 1 if they differ (for CI).
#
# To update the schema: cp "$(python -c 'import onnx,os;print(os.path.dirname(onnx.__file__))')/onnx.proto" Protos/
# then run this script. Plugin selection is as in Tools/regen-proto.sh:
#   PROTOC_GEN_SWIFT        use this plugin binary instead of building one
#   CONVRT_PROTOC_SCRATCH   SwiftPM scratch path for building the plugin
#                           (default: .build/protoc-gen-swift)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROTO_DIR="$ROOT/Protos"
DEST="$ROOT/Sources/ConvRT/ONNX/Generated"
SCRATCH=${CONVRT_PROTOC_SCRATCH:-$ROOT/.build/protoc-gen-swift}

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v protoc >/dev/null || { echo "error: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

plugin=${PROTOC_GEN_SWIFT:-}
if [[ -z $plugin ]]; then
  # Incremental: a no-op when the plugin is already built.
  build=(swift build -c release --product protoc-gen-swift --scratch-path "$SCRATCH" --package-path "$ROOT")
  "${build[@]}" >&2
  plugin="$("${build[@]}" --show-bin-path)/protoc-gen-swift"
fi

generate() {
  protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
    -I "$PROTO_DIR" --swift_out="$1" "$PROTO_DIR/onnx.proto"
}

if (( check )); then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -u "$DEST/onnx.pb.swift" "$tmp/onnx.pb.swift"; then
    echo "error: $DEST/onnx.pb.swift is stale; run Tools/regen-onnx-proto.sh" >&2
    exit 1
  fi
  echo "onnx.pb.swift is up to date"
else
  mkdir -p "$DEST"
  generate "$DEST"
  echo "regenerated $DEST/onnx.pb.swift"
fi
