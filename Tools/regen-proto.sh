#!/usr/bin/env bash
# Regenerates the Swift code for Protos/convrt.proto into
# Sources/ConvRT/Serialization/Generated/convrt.pb.swift (internal types).
#
# Usage: Tools/regen-proto.sh [--check]
#   --check  regenerate into a temporary directory and diff against the
#            committed file; exit 1 if they differ (for CI).
#
# protoc comes from the system (Debian: protobuf-compiler). protoc-gen-swift is
# built from the swift-protobuf version this package resolves, so generated code
# always matches the runtime library. Environment:
#   PROTOC_GEN_SWIFT        use this plugin binary instead of building one
#   CONVRT_PROTOC_SCRATCH   SwiftPM scratch path for building the plugin
#                           (default: .build/protoc-gen-swift)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROTO_DIR="$ROOT/Protos"
DEST="$ROOT/Sources/ConvRT/Serialization/Generated"
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

# Warn when the plugin and the resolved runtime library disagree.
resolved="$ROOT/Package.resolved"
if [[ -f $resolved ]] && command -v python3 >/dev/null; then
  want=$(python3 -c 'import json,sys
pins=json.load(open(sys.argv[1])).get("pins",[])
print(next((p["state"].get("version","") for p in pins if p["identity"]=="swift-protobuf"),""))' "$resolved")
  have=$("$plugin" --version | awk '{print $NF}')
  if [[ -n $want && $want != "$have" ]]; then
    echo "warning: protoc-gen-swift $have but Package.resolved pins swift-protobuf $want" >&2
  fi
fi

generate() {
  protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
    -I "$PROTO_DIR" --swift_out="$1" "$PROTO_DIR/convrt.proto"
}

if (( check )); then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -u "$DEST/convrt.pb.swift" "$tmp/convrt.pb.swift"; then
    echo "error: $DEST/convrt.pb.swift is stale; run Tools/regen-proto.sh" >&2
    exit 1
  fi
  echo "convrt.pb.swift is up to date"
else
  mkdir -p "$DEST"
  generate "$DEST"
  echo "regenerated $DEST/convrt.pb.swift"
fi
