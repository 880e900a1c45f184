#!/usr/bin/env bash
# Scale test (issue 6): a Llama-shaped model of 1.1 B parameters with random
# weights in external data (4.4 GB, python/qopt/make_llama_large.py) compiled
# with --quant=w4 and --quant=w8a8-dynamic; prints wall time and peak RSS of
# qopt-compile (/usr/bin/time), the artifact sizes and, with RUN=1, one
# forward pass of 128 tokens through the compiled model (qopt-run --bench 1).
#   bench/large-model.sh [SCHEME...]          (default: w4 w8a8-dynamic)
# LARGE_DIR (default /tmp/qopt-llama-1b) keeps the generated model between
# runs; LAYERS=N makes a smaller one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
dir=${LARGE_DIR:-/tmp/qopt-llama-1b}
layers=${LAYERS:-22}
schemes=("$@")
[ ${#schemes[@]} -gt 0 ] || schemes=(w4 w8a8-dynamic)
model=$dir/llama-1b.onnx
if [ ! -f "$model" ] || [ "$(cat "$dir/layers" 2>/dev/null)" != "$layers" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  /usr/bin/python3 "$root/python/qopt/make_llama_large.py" "$dir" --layers "$layers" 2>/dev/null
  echo "$layers" > "$dir/layers"
fi
/usr/bin/python3 -c "import numpy as np,sys; np.save(sys.argv[1], (np.arange(128)*7919 % 256).astype(np.int64)[None])" "$dir/ids.npy"
echo "model: $model ($(du -b "$dir/llama-1b.weights.bin" | cut -f1) bytes of external f32 weights), $(nproc) cores"
printf "%-14s %10s %12s %16s %12s\n" scheme compile_s peak_rss_MB weights_bytes run_ms
for s in "${schemes[@]}"; do
  out=$dir/$s
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" \
    "$build/bin/qopt-compile" "$model" --quant="$s" -O3 -o "$out.so"
  read -r secs kb < "$dir/time.txt"
  ms=-
  if [ "${RUN:-0}" = 1 ]; then
    ms=$("$build/bin/qopt-run" "$out.so" --input input_ids="$dir/ids.npy" \
         --output-dir "$dir/out-$s" --bench 1 | sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
  fi
  printf "%-14s %10.1f %12.0f %16s %12s\n" "$s" "$secs" "$((kb / 1024))" \
    "$(stat -c %s "$out.weights")" "$ms"
done
