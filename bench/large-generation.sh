#!/usr/bin/env bash
# Decode speed of the 1.1B TinyLlama-shaped KV decoder (random weights,
# python/qopt/make_llama_large.py --kv: 22 layers, d_model 2048, 32 query /
# 4 KV heads of 64, SwiGLU 5632, vocab 32000, 4.4 GB of f32 external data)
# compiled once with no --input-shape (in-place caches), qopt against ONNX
# Runtime 1.30 (onnxruntime-node, the same fp32 model) in one run, and as a
# fraction of the DRAM roofline:
#   roofline tok/s = DRAM GB/s (bench/peak.c, same thread count, same run)
#                    / (weight bytes read per token + KV bytes read per token)
# weight bytes per token = the artifact's weights (qopt: OUT.weights; ORT: the
# external data) minus the f32 embedding table, of which a step reads one row
# (w4a8: minus the two int4 copies that the M == 1 path does not read);
# KV bytes at context C = layers x 2 x kv_heads x C x head_dim x 4.
# qopt runs from C (bench/decode_bench.c with ONE_PREFILL: one prefill of C
# tokens, then REPS + 1 runs of N single-token steps, the first a warm-up);
# ORT through bench/ort_generate.js --bench --logits-only (one decode step at
# past C, fetching only logits, repeated REPS x N times: no copy of present
# into JS). Rounds interleave qopt and ORT; medians are reported.
#
#   bench/large-generation.sh [ROUNDS=1]
# env: LARGE_DIR (default /tmp/qopt-llama-1b-kv: keeps the model and the
# artifacts), LAYERS (22), THREADS ("1 2"), QUANT ("w8a8-dynamic w4a8"; add
# fp32 if memory allows), CONTEXTS (128,1024), N (16 decode tokens), REPS (3),
# ORT (1: run ONNX Runtime), REUSE (1: keep artifacts newer than
# qopt-compile; a QUANT name that is no scheme, e.g. w8a8-dynamic-nofold,
# must be such an artifact kv-NAME.so already in LARGE_DIR, and is benched as
# it is). Results: $LARGE_DIR/results.jsonl and a table on stdout. Compiling
# takes about 11 CPU-minutes and 5.5 GB per scheme (docs/performance.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
dir=${LARGE_DIR:-/tmp/qopt-llama-1b-kv}
layers=${LAYERS:-22}
rounds=${1:-1}
threads=${THREADS:-1 2}
quants=${QUANT:-w8a8-dynamic w4a8}
contexts=${CONTEXTS:-128,1024}
n=${N:-16}
reps=${REPS:-3}
model=$dir/llama-1b-kv.onnx
mkdir -p "$dir"
if [ ! -f "$model" ] || [ "$(cat "$dir/layers" 2>/dev/null)" != "$layers" ]; then
  rm -f "$dir"/llama-1b-kv.* "$dir"/kv-*
  /usr/bin/python3 "$root/python/qopt/make_llama_large.py" "$dir" --kv --layers "$layers" 2>/dev/null
  echo "$layers" > "$dir/layers"
fi
[ "${ORT:-1}" = 0 ] || [ -d "$root/bench/node_modules/onnxruntime-node" ] ||
  (cd "$root/bench" && npm install --ignore-scripts --silent)
res=$dir/results.jsonl
: > "$res"
for q in $quants; do
  so=$dir/kv-$q.so
  if [ "${REUSE:-1}" = 1 ] && [ "$so" -nt "$build/bin/qopt-compile" ] && [ "$so" -nt "$model" ]; then
    continue
  fi
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$build/bin/qopt-compile" "$model" -O3 --quant=$q -o "$so"
  read -r secs kb < "$dir/time.txt"
  echo "{\"bench\":\"compile\",\"impl\":\"qopt-$q\",\"seconds\":$secs,\"peak_rss_mb\":$((kb / 1024))}" >> "$res"
done
clang-22 -O2 -march=native -fopenmp "$root/bench/peak.c" -o "$dir/peak" 2>/dev/null
clang-22 -O2 "$root/bench/decode_bench.c" -ldl -o "$dir/decode_bench"
peak() {
  for t in $threads; do
    echo "{\"bench\":\"peak\",\"threads\":$t,$(OMP_NUM_THREADS=$t "$dir/peak" $t |
      sed 's/\([a-z_]*\)=\([0-9.]*\)/"\1":\2/g; s/ /,/g')}" >> "$res"
  done
}
peak
for r in $(seq "$rounds"); do
  for t in $threads; do
    for q in $quants; do
      "$dir/decode_bench" "$dir/kv-$q.so" $t "$reps" 128 "$contexts" "$n" 1 |
        sed "s/^{/{\"impl\": \"qopt-$q\", /" >> "$res"
    done
    if [ "${ORT:-1}" = 1 ]; then
      (cd "$root/bench" && node ort_generate.js "$model" --bench --threads $t --reps "$reps" \
         --decode-tokens "$n" --contexts "$contexts" --warmup 1 --logits-only 2>/dev/null) |
        sed 's/^{/{"impl": "ort-fp32", /; s/"bench":"decode_logits_only"/"bench":"decode"/' >> "$res"
    fi
  done
done
peak # the bandwidth after the runs too: the table takes the larger
/usr/bin/python3 - "$dir" "$model" "$layers" <<'PY'
import json, os, statistics, sys
d, model, layers = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(os.path.join(d, "results.jsonl"))]
peak = {}
for r in rows:
    if r.get("bench") == "peak":
        peak[r["threads"]] = max(peak.get(r["threads"], 0), r["dram_gbs"])
V, D, KVH, HD = 32000, 2048, 4, 64
embed = V * D * 4
kv_pos = layers * 2 * KVH * HD * 4  # bytes per cached position, all layers
# Parameters of the linear layers (MatMul weights): 22 x 44,040,192 + lm_head.
linear = layers * (2 * D * D + 2 * D * KVH * HD + 3 * D * 5632) + D * V
def wbytes(impl):
    if impl.startswith("qopt-"):
        q = impl[5:]
        b = os.path.getsize(os.path.join(d, "kv-%s.weights" % q)) - embed
        # w4a8's file holds the packed int4 values three times (one copy per
        # row path of qopt-specialize-dynamic-rows: M == 1, full chunks,
        # remainder; scales and column sums shared): decode reads one.
        if q.startswith("w4a8"):
            b -= 2 * linear // 2
        return b
    return os.path.getsize(model[:-5] + ".weights.bin") - embed
groups = {}
for r in rows:
    if r.get("bench") in ("prefill", "decode"):
        k = (r["impl"], r["threads"], r["bench"], r.get("context", r.get("tokens")))
        groups.setdefault(k, []).append(r["tokens"] * 1e3 / r["median_ms"])
for r in rows:
    if r.get("bench") == "compile":
        print("compile %s: %.0f s, peak RSS %d MB" % (r["impl"], r["seconds"], r["peak_rss_mb"]))
ctxs = sorted({k[3] for k in groups if k[2] == "decode"})
print("DRAM GB/s (bench/peak.c): " + ", ".join("%d thread(s) %.1f" % kv for kv in sorted(peak.items())))
print("weight bytes per token: " + ", ".join("%s %.3f GB" % (i, wbytes(i) / 1e9) for i in
      sorted({k[0] for k in groups})) + "; KV bytes per token: %.1f MB per 1024 positions" % (kv_pos * 1024 / 1e6))
hdr = "| impl | threads | prefill@128 tok/s |" + "".join(" decode@%d tok/s |" % c for c in ctxs) + \
      "".join(" @%d / ORT |" % c for c in ctxs) + "".join(" roofline@%d tok/s | fraction@%d |" % (c, c) for c in ctxs)
print(hdr)
print("|---|---:|" + "---:|" * (1 + 4 * len(ctxs)))
med = lambda i, t, b, c: statistics.median(groups.get((i, t, b, c), [0]))
impls = sorted({k[0] for k in groups}, key=lambda s: (not s.startswith("ort"), s))
for t in sorted({k[1] for k in groups}):
    for i in impls:
        p = med(i, t, "prefill", 128)
        dec = [med(i, t, "decode", c) for c in ctxs]
        ort = [med("ort-fp32", t, "decode", c) for c in ctxs]
        bw = peak.get(t, 0) * 1e9
        roof = [bw / (wbytes(i) + c * kv_pos) for c in ctxs]
        print("| %s | %d | %.1f |" % (i, t, p) + "".join(" %.2f |" % x for x in dec) +
              "".join(" %.2fx |" % (x / o if o else 0) for x, o in zip(dec, ort)) +
              "".join(" %.2f | %.0f%% |" % (rf, 100 * x / rf) for x, rf in zip(dec, roof)))
PY
