#!/usr/bin/env bash
# Compiles llama-tiny (static, and dynamic with a pinned shape) with qopt and
# checks the mean cross-entropy over the 64 eval windows against the FP32
# reference 0.942190 nats/byte (1.359293 bpb) within 1e-4.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
models=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ref=0.942190
for variant in llama-tiny llama-tiny-dyn; do
  shape=""
  [ "$variant" = llama-tiny-dyn ] && shape="--input-shape=input_ids:1x128"
  start=$(date +%s%N)
  "$build/bin/qopt-compile" "$models/$variant.onnx" --target=host -O3 $shape -o "$out/$variant.so"
  echo "$variant: compiled in $(( ($(date +%s%N) - start) / 1000000 )) ms"
  /usr/bin/python3 "$root/python/qopt/eval_lm.py" "$out/$variant.so" "$models/eval_tokens.bin" \
    --reference $ref --tol 1e-4
done
