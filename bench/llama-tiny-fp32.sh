#!/usr/bin/env bash
# FP32 llama-tiny latency (1x128 tokens): qopt next to ONNX Runtime 1.30, same
# machine and thread counts, interleaved rounds, medians of medians.
#   bench/llama-tiny-fp32.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
models=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}
rounds=${1:-5}
runs=${RUNS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$root/bench/node_modules/onnxruntime-node" ] ||
  (cd "$root/bench" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)
"$build/bin/qopt-compile" "$models/llama-tiny.onnx" --target=host -O3 -o "$work/llama.so"
/usr/bin/python3 -c "import numpy as np,sys; np.save(sys.argv[1], (np.arange(128)*7919 % 256).astype(np.int64)[None])" "$work/ids.npy"
printf "%-8s %-8s %12s %12s\n" threads round qopt_ms ort_ms
for threads in 1 2; do
  q=(); o=()
  for r in $(seq "$rounds"); do
    qm=$("$build/bin/qopt-run" "$work/llama.so" --input input_ids="$work/ids.npy" --output-dir "$work/out" \
         --threads "$threads" --bench "$runs" | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
    om=$(node "$root/bench/ort_latency.js" "$models/llama-tiny.onnx" --threads "$threads" --runs "$runs" |
         sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p')
    printf "%-8s %-8s %12.3f %12.3f\n" "$threads" "$r" "$qm" "$om"
    q+=("$qm"); o+=("$om")
  done
  /usr/bin/python3 - "$threads" "${q[*]}" "${o[*]}" <<'PY'
import sys, statistics as s
t, q, o = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
mq, mo = s.median(q), s.median(o)
flops = 2 * 128 * 3541248  # ~2 FLOP per parameter per token (matmuls dominate)
print(f"threads={t} qopt_median_ms={mq:.3f} ort_median_ms={mo:.3f} qopt/ort_time={mq/mo:.2f} "
      f"qopt_GFLOP/s={flops/mq/1e6:.2f} ort_GFLOP/s={flops/mo/1e6:.2f}")
PY
done
