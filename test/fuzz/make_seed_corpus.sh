#!/usr/bin/env bash
# Copies the ONNX backend node-test models into DIR (default
# build-fuzz/seed-corpus) as the fuzzer's seed corpus.
set -euo pipefail
out=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build-fuzz/seed-corpus}
data=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
mkdir -p "$out"
n=0
for m in "$data"/node/*/model.onnx; do
  [ -f "$m" ] || continue
  cp "$m" "$out/$(basename "$(dirname "$m")").onnx"
  n=$((n + 1))
done
echo "$n seed models in $out"
