#!/usr/bin/env bash
# Generation speed of a KV-cache decoder, qopt against ONNX Runtime 1.30
# (onnxruntime-node) on the same model and thread counts, in one run:
# prefill tok/s at 128 tokens, decode tok/s at context 128 and 1024, and
# decode as a fraction of the DRAM roofline ((weight + KV bytes per token) /
# measured bandwidth). qopt runs from C (bench/decode_bench.c, the runtime's
# qopt_decoder); ORT through onnxruntime-node (bench/ort_generate.js --bench).
# Rounds interleave qopt and ORT; medians are reported.
#
#   bench/generation.sh [MODEL.onnx] [ROUNDS=3] [THREADS="1 2"] [QUANT="fp32 w8a8-dynamic w4a8"]
#
# Default model: ../shared/models/llama-tiny/llama-tiny-kv.onnx. Results go
# to ${OUT:-/tmp/qopt-generation}/results.jsonl and a table on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
model=${1:-$root/../shared/models/llama-tiny/llama-tiny-kv.onnx}
rounds=${2:-3}
threads=${THREADS:-1 2}
quants=${QUANT:-fp32 w8a8-dynamic w4a8}
out=${OUT:-/tmp/qopt-generation}
mkdir -p "$out"
: > "$out/results.jsonl"
[ -d "$root/bench/node_modules/onnxruntime-node" ] ||
  (cd "$root/bench" && npm install --ignore-scripts --silent)
for q in $quants; do
  "$build/bin/qopt-compile" "$model" -O3 --quant=$q -o "$out/kv-$q.so"
done
clang-22 -O2 -march=native -fopenmp "$root/bench/peak.c" -o "$out/peak" 2>/dev/null
clang-22 -O2 "$root/bench/decode_bench.c" -ldl -o "$out/decode_bench"
for t in $threads; do
  echo "{\"bench\":\"peak\",\"threads\":$t,$(OMP_NUM_THREADS=$t "$out/peak" $t |
    sed 's/\([a-z_]*\)=\([0-9.]*\)/"\1":\2/g; s/ /,/g')}" >> "$out/results.jsonl"
done
for r in $(seq "$rounds"); do
  for t in $threads; do
    for q in $quants; do
      "$out/decode_bench" "$out/kv-$q.so" $t 3 |
        sed "s/^{/{\"impl\": \"qopt-$q\", /" >> "$out/results.jsonl"
    done
    (cd "$root/bench" && node ort_generate.js "$model" --bench --threads $t --reps 3) |
      sed 's/^{/{"impl": "ort-fp32", /; s/"impl": "ort-fp32", \("bench":"decode_logits_only"\)/"impl": "ort-fp32-logits-only", "bench":"decode"/' \
      >> "$out/results.jsonl"
  done
done
/usr/bin/python3 - "$out" "$model" <<'PY'
import json, os, statistics, sys
out, model = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(os.path.join(out, "results.jsonl"))]
peak = {r["threads"]: r for r in rows if r.get("bench") == "peak"}
import onnx
m = onnx.load(model, load_external_data=False)
kv = [i for i in m.graph.input if i.name.startswith("past_key_values.")]
dims = [d.dim_value for d in kv[0].type.tensor_type.shape.dim]
kv_row = len(kv) * dims[1] * dims[3] * 4  # bytes per position, all caches
def wbytes(impl):
    if impl.startswith("qopt-"):
        return os.path.getsize(os.path.join(out, "kv-%s.weights" % impl[5:]))
    return os.path.getsize(model)
key = lambda r: (r["impl"], r["threads"], r["bench"], r.get("context", r.get("tokens")))
groups = {}
for r in rows:
    if "impl" in r:
        groups.setdefault(key(r), []).append(r["tok_s"])
# ORT's decode rows: onnxruntime-node as a user runs it (present copied
# into JS and fed back), and one logits-only step repeated (no copy: the
# bound for a C caller with I/O binding); ratios are to the latter.
print("| impl | threads | prefill@128 tok/s | decode@128 tok/s | decode@1024 tok/s | decode@128 / ORT | decode@1024 / ORT | roofline@1024 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
impls = sorted({k[0] for k in groups}, key=lambda s: (not s.startswith("ort"), s))
med = lambda i, t, b, c: statistics.median(groups.get((i, t, b, c), [0]))
for t in sorted({k[1] for k in groups}):
    o1 = med("ort-fp32-logits-only", t, "decode", 128)
    o2 = med("ort-fp32-logits-only", t, "decode", 1024)
    for i in impls:
        p, d1, d2 = med(i, t, "prefill", 128), med(i, t, "decode", 128), med(i, t, "decode", 1024)
        bw = peak.get(t, {}).get("dram_gbs", 0) * 1e9
        roof = bw / (wbytes(i.replace("-logits-only", "")) + 1024 * kv_row) if bw else 0
        print("| %s | %d | %s | %.0f | %.0f | %.2fx | %.2fx | %.0f%% |" % (
            i, t, "%.0f" % p if p else "", d1, d2, d1 / o1 if o1 else 0,
            d2 / o2 if o2 else 0, 100 * d2 / roof if roof else 0))
PY
