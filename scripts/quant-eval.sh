#!/usr/bin/env bash
# Data-free quantization schemes on llama-tiny: compiles the model once per
# scheme, evaluates the mean cross-entropy over eval_tokens.bin (64 windows of
# 128 targets), times one forward pass (qopt-run --bench) and reports the size
# of the weights file, as a markdown table (docs/quantization.md).
#
#   scripts/quant-eval.sh [SCHEME ...]      (default: all below)
#
# A scheme is NAME or NAME:extra-flags, e.g. 'w4:--group-size=64'.
# Env: QOPT_BUILD / BUILD_DIR (build dir), LLAMA_TINY_DIR, BENCH (iterations,
# default 50), THREADS (qopt-run --threads, default: runtime default).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
models=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}
bench=${BENCH:-50}
ref_bpb=1.359293
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

schemes=("$@")
if [ ${#schemes[@]} -eq 0 ]; then
  schemes=(fp32 w8 "w8:--weight-scheme=asym" w4 "w4:--weight-scheme=asym"
           w8a8-dynamic "w8a8-dynamic:--act-scheme=sym"
           "w8a8-dynamic:--act-granularity=tensor" w4a8)
fi

# Bench input: the first evaluation window.
/usr/bin/python3 - "$models/eval_tokens.bin" "$out/ids.npy" <<'PY'
import sys, numpy as np
w = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(-1, 129)[0, :128]
np.save(sys.argv[2], w.astype(np.int64)[None, :])
PY

threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
rows=()
for s in "${schemes[@]}"; do
  name=${s%%:*}
  extra=""
  [ "$s" != "$name" ] && extra=${s#*:}
  label="$name${extra:+ $extra}"
  so="$out/m.so"
  rm -f "$out"/m.*
  # shellcheck disable=SC2086
  if ! "$build/bin/qopt-compile" "$models/llama-tiny.onnx" --target=host -O3 \
        --quant="$name" $extra -o "$so" 2> "$out/err.txt"; then
    echo "$label: compile failed: $(head -c 400 "$out/err.txt")" >&2
    rows+=("| $label | compile failed | | | | | |")
    continue
  fi
  ev=$(/usr/bin/python3 "$root/python/qopt/eval_lm.py" "$so" "$models/eval_tokens.bin")
  nats=$(sed -n 's/.*nats=\([0-9.]*\).*/\1/p' <<< "$ev")
  bpb=$(sed -n 's/.*bpb=\([0-9.]*\).*/\1/p' <<< "$ev")
  lat=$("$build/bin/qopt-run" "$so" --input "input_ids=$out/ids.npy" \
          --output-dir "$out/o" --bench "$bench" "${threads[@]}" |
        sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p')
  wbytes=$(stat -c %s "$out/m.weights")
  read -r d dp < <(/usr/bin/python3 -c "
b=$bpb; r=$ref_bpb
print(f'{b-r:+.6f} {100*(b-r)/r:+.3f}%')")
  echo "$label: nats=$nats bpb=$bpb d=$d ($dp) weights=$wbytes latency_ms=$lat" >&2
  rows+=("| $label | $nats | $bpb | $d | $dp | $wbytes | $lat |")
done

echo "| scheme | nats/byte | bits/byte | Δbpb | Δbpb % | weights bytes | latency ms (median, --bench $bench) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
