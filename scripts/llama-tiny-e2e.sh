#!/usr/bin/env bash
# Compiles llama-tiny (static, dynamic with a pinned shape, and dynamic
# compiled once with no shape) with qopt and checks the mean cross-entropy
# over the 64 eval windows against the FP32 reference 0.942190 nats/byte
# (1.359293 bpb) within 1e-4; runs the unpinned build at lengths 1, 17, 64
# and 256 (a causal LM: each run's logits equal the first rows of the
# 256-token run); and generates greedily with the KV-cache decoder
# llama-tiny-kv, checking the ids and logits against ONNX Runtime's
# (test/generation/), with in-place caches (the default) and with
# --kv-cache=copy (the ONNX past/present signature); and w8a8-dynamic
# in place must still generate (ids not compared: quantized).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
models=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ref=0.942190
for variant in llama-tiny llama-tiny-dyn llama-tiny-dyn-any; do
  shape=""
  [ "$variant" = llama-tiny-dyn ] && shape="--input-shape=input_ids:1x128"
  src=${variant%-any}
  start=$(date +%s%N)
  "$build/bin/qopt-compile" "$models/$src.onnx" --target=host -O3 $shape -o "$out/$variant.so"
  echo "$variant: compiled in $(( ($(date +%s%N) - start) / 1000000 )) ms"
  /usr/bin/python3 "$root/python/qopt/eval_lm.py" "$out/$variant.so" "$models/eval_tokens.bin" \
    --reference $ref --tol 1e-4
done
echo "llama-tiny-dyn-any: lengths 1, 17, 64, 256 from one .so"
/usr/bin/python3 - "$out/llama-tiny-dyn-any.so" "$models/eval_tokens.bin" "$root/python" <<'PY'
import sys
import numpy as np
sys.path.insert(0, sys.argv[3])
from qopt.runtime import Model
m = Model(sys.argv[1])
tok = np.fromfile(sys.argv[2], np.uint8).reshape(64, 129)
ids = tok[:2, :128].reshape(1, 256).astype(np.int64)
full = m.run({"input_ids": ids})["logits"]
assert full.shape == (1, 256, 256), full.shape
worst = 0.0
for n in (1, 17, 64):
    part = m.run({"input_ids": ids[:, :n]})["logits"]
    assert part.shape == (1, n, 256), part.shape
    worst = max(worst, float(np.abs(part - full[:, :n]).max()))
print("max |logits(L) - logits(256)[:L]| = %.2e" % worst)
sys.exit(0 if worst < 1e-4 else 1)
PY
for mode in inplace copy; do
  echo "llama-tiny-kv ($mode caches): greedy generation against ONNX Runtime"
  "$build/bin/qopt-compile" "$models/llama-tiny-kv.onnx" --target=host -O3 \
    --kv-cache=$mode -o "$out/kv-$mode.so"
  /usr/bin/python3 "$root/python/qopt/generate.py" "$out/kv-$mode.so" \
    --check-ids "$root/test/generation/llama-tiny-kv-greedy.npy" \
    --check-logits "$root/test/generation/llama-tiny-kv-logits.npy" --rows 8
done
echo "llama-tiny-kv w8a8-dynamic (in place): generates"
"$build/bin/qopt-compile" "$models/llama-tiny-kv.onnx" --target=host -O3 \
  --quant=w8a8-dynamic -o "$out/kv-w8a8d.so"
/usr/bin/python3 "$root/python/qopt/generate.py" "$out/kv-w8a8d.so" \
  --prompt "The option" --max-new-tokens 32 | tail -1
