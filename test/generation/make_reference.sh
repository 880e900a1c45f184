#!/bin/sh
# Regenerates the ONNX Runtime greedy-generation references in this folder
# (README.md here says what they are). Needs node + onnxruntime-node 1.30.0
# (cd bench && npm install --ignore-scripts), /usr/bin/python3 with numpy and
# onnx, and llama-tiny in ../shared/models/llama-tiny or $LLAMA_TINY_DIR.
#   test/generation/make_reference.sh
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M=${LLAMA_TINY_DIR:-$ROOT/../shared/models/llama-tiny}
OUT=$ROOT/test/generation
PY=${PYTHON:-/usr/bin/python3}
GEN="node $ROOT/bench/ort_generate.js"
if [ ! -d "$ROOT/bench/node_modules/onnxruntime-node" ]; then
  echo "make_reference.sh: no onnxruntime-node; run: cd bench && npm install --ignore-scripts" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# llama-tiny-kv: prompt = the first 64 bytes of eval windows 0..7, 64 new
# bytes, greedy, 1 thread; logits for windows 0 and 1; greedy checked against
# recomputing the whole prefix each step on llama-tiny-dyn.onnx.
EVAL="--prompt-bin $M/eval_tokens.bin --row-len 129 --prompt-len 64 --rows 8"
$GEN "$M/llama-tiny-kv.onnx" $EVAL --max-new-tokens 64 --threads 1 \
  --output-ids "$OUT/llama-tiny-kv-greedy.npy" \
  --output-logits "$OUT/llama-tiny-kv-logits.npy" --logits-rows 2 \
  --check-nocache "$M/llama-tiny-dyn.onnx"
# ... and on the KV model itself, whole prefix with empty past.
$GEN "$M/llama-tiny-kv.onnx" $EVAL --max-new-tokens 64 --threads 1 --quiet --check-nocache
# Prefill (past 0) logits of the KV model against the static llama-tiny.onnx
# on the 128-byte windows 0..7.
$GEN "$M/llama-tiny-kv.onnx" --prompt-bin "$M/eval_tokens.bin" --row-len 129 --prompt-len 128 --rows 8 \
  --max-new-tokens 1 --threads 1 --quiet --compare-logits "$M/llama-tiny.onnx" --tol 1e-4

# gpt2-kv (python/qopt/make_gpt2_kv.py, default sizes: 2 layers, d 64, 4 heads,
# 128 positions, seed 0): 4 prompts of 32 random bytes (default_rng(seed + 1)),
# 32 new bytes, greedy, 1 thread; checked against recomputation without the
# cache, and its prefill logits against make_gpt2_tiny.py's model (same
# sizes and seed) on that script's random [1, 128] input.
"$PY" "$ROOT/python/qopt/make_gpt2_kv.py" "$TMP/gpt2-kv.onnx" --prompts "$TMP/gpt2-prompts.npy" \
  --prompt-count 4 --prompt-len 32
"$PY" "$ROOT/python/qopt/make_gpt2_tiny.py" "$TMP/gpt2-tiny.onnx" --input "$TMP/gpt2-tiny-input.npy"
$GEN "$TMP/gpt2-kv.onnx" --prompt-ids "$TMP/gpt2-tiny-input.npy" --max-new-tokens 1 --threads 1 --quiet \
  --compare-logits "$TMP/gpt2-tiny.onnx" --tol 1e-4
$GEN "$TMP/gpt2-kv.onnx" --prompt-ids "$TMP/gpt2-prompts.npy" --max-new-tokens 32 --threads 1 \
  --output-ids "$OUT/gpt2-kv-greedy.npy" --check-nocache

# llama-gqa-kv (python/qopt/make_llama_large.py --kv at a tiny size: 2 layers,
# d 64, 8 query / 2 KV heads, vocab 256, 256 positions, weights N(0, 0.2)):
# the same 4 prompts as gpt2-kv (default_rng(1), 32 bytes), 32 new bytes,
# greedy, 1 thread, logits of prompts 0 and 1; checked against recomputation
# without the cache, and its prefill logits against the static model of the
# same script and sizes.
LG="--layers 2 --d-model 64 --heads 8 --kv-heads 2 --ff 160 --vocab 256 --init-std 0.2"
"$PY" "$ROOT/python/qopt/make_llama_large.py" "$TMP" --kv $LG --max-positions 256 --name llama-gqa-kv 2>/dev/null
"$PY" "$ROOT/python/qopt/make_llama_large.py" "$TMP" $LG --seq 32 --name llama-gqa 2>/dev/null
$GEN "$TMP/llama-gqa-kv.onnx" --prompt-ids "$TMP/gpt2-prompts.npy" --max-new-tokens 1 --threads 1 --quiet \
  --compare-logits "$TMP/llama-gqa.onnx" --tol 1e-4
$GEN "$TMP/llama-gqa-kv.onnx" --prompt-ids "$TMP/gpt2-prompts.npy" --max-new-tokens 32 --threads 1 \
  --output-ids "$OUT/llama-gqa-kv-greedy.npy" --output-logits "$OUT/llama-gqa-kv-logits.npy" \
  --logits-rows 2 --check-nocache
