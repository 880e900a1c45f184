#!/usr/bin/env bash
# qopt vs ONNX Runtime 1.30 on this machine, in one run (issue 4, item 7):
#   1. the machine's limits (bench/peak.c): vpdpbusd and FMA peak, DRAM read
#      bandwidth, per thread count;
#   2. int8 GEMM/GEMV y = A[M,K] x B[K,N] (B constant), K=N=2048 by default:
#      qopt on MatMulInteger (u8 x s8 -> i32), QLinearMatMul and an f32 MatMul
#      compiled with --quant=w8a8-dynamic; ONNX Runtime on MatMulInteger,
#      QLinearMatMul and com.microsoft DynamicQuantizeMatMul; and f32 GEMM
#      (MatMul) on both;
#      the same int8 and f32 rows for the wider K=2048 N=8192 weight (N2,
#      MS2: 64 MB of f32 weights, larger than every cache);
#   3. int4 GEMM/GEMV, group sizes 32 and 128: qopt --quant=w4a8 on the f32
#      MatMul against ONNX Runtime MatMulNBits (4-bit, same block size)
#      with accuracy_level 0 (f32 compute) and 4 (int8 compute);
#   4. llama-tiny end to end (1x128 tokens): qopt fp32 / w8a8-dynamic / w4a8
#      against ONNX Runtime fp32 / DynamicQuantizeMatMul (int8) /
#      MatMulNBits 4-bit (block 32, accuracy_level 0 and 4).
# Every configuration is timed ROUNDS times, interleaved (qopt, ORT, qopt...),
# RUNS runs each after warm-ups; the table shows the median of the per-round
# medians and the best single run, GOP/s (2*M*N*K / median time), % of the
# measured limit (int8: vpdpbusd peak; f32: FMA peak; threads x the 1-thread
# peak) and the ratio to ONNX Runtime's best configuration for the same work
# (>1: qopt faster), from the medians and from the best runs; with 1 thread
# also from the process CPU time per run, which on an oversubscribed machine
# is the run time without the waits for a core (with 2 threads it includes
# thread-pool spinning, so it is not compared).
#
#   bench/kernels.sh            env: ROUNDS=3 RUNS=10 THREADS="1 2"
#                                    MS="1 16 128 512" K=2048 N=2048
#                                    N2=8192 MS2="1 128" (N2= : skip)
#                                    INT4_MS="1 128" INT4_GROUPS="32 128"
#                                    QOPT_BUILD, LLAMA_TINY_DIR, NO_LLAMA=1,
#                                    LLAMA_ONLY=1 (only llama-tiny end to
#                                    end: no peaks, no GEMM/GEMV; ~3 min),
#                                    KEEP=DIR (keep the raw results)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
models=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}
rounds=${ROUNDS:-3}
runs=${RUNS:-10}
threads_list=${THREADS:-1 2}
ms=${MS:-1 16 128 512}
[ -n "${LLAMA_ONLY:-}" ] && ms=""
K=${K:-2048}
N=${N:-2048}
N2=${N2-8192}
ms2=${MS2:-1 128}
int4_ms=${INT4_MS-1 128}
int4_groups=${INT4_GROUPS:-32 128}
[ -n "${LLAMA_ONLY:-}" ] && N2="" && int4_ms=""
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
[ -d "$root/bench/node_modules/onnxruntime-node" ] ||
  (cd "$root/bench" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)

clang-22 -O2 -march=native -fopenmp "$root/bench/peak.c" -o "$work/peak"
touch "$work/peak.txt"
# Shapes: "dir:M:label" (label: the M column, M/KxN for the wide weight).
shapes=""
all_ms=$(echo $ms $int4_ms | tr ' ' '\n' | sort -nu | tr '\n' ,)
[ -n "${all_ms%,}" ] && $py "$root/bench/make_models.py" "$work" "${all_ms%,}" "$K" "$N"
for M in $ms; do shapes="$shapes $work:$M:$M"; done
if [ -n "$N2" ]; then
  mkdir -p "$work/wide"
  $py "$root/bench/make_models.py" "$work/wide" "$(echo $ms2 | tr ' ' ,)" "$K" "$N2"
  for M in $ms2; do shapes="$shapes $work/wide:$M:$M/${K}x$N2"; done
fi
echo "# compiling (qopt-compile --target=host -O3)" >&2
for s in $shapes; do
  d=${s%%:*}; M=$(echo "$s" | cut -d: -f2)
  "$build/bin/qopt-compile" "$d/mmi_$M.onnx" -o "$d/q_mmi_$M.so"
  "$build/bin/qopt-compile" "$d/qlmm_$M.onnx" -o "$d/q_qlmm_$M.so"
  "$build/bin/qopt-compile" "$d/fp_$M.onnx" --quant=w8a8-dynamic -o "$d/q_dyn_$M.so"
  "$build/bin/qopt-compile" "$d/fp_$M.onnx" -o "$d/q_fp_$M.so"
done
# int4: qopt w4a8 (weights int4 per group, activations int8 per token) and
# ONNX Runtime MatMulNBits, from the same f32 MatMul.
for M in $int4_ms; do
  for g in $int4_groups; do
    "$build/bin/qopt-compile" "$work/fp_$M.onnx" --quant=w4a8 --group-size="$g" -o "$work/q_w4_${g}_$M.so"
    for acc in 0 4; do
      $py "$root/bench/ort_quantize.py" "$work/fp_$M.onnx" "$work/nb4_${g}_${acc}_$M.onnx" nb4 "$g" "$acc"
    done
  done
done
if [ -z "${NO_LLAMA:-}" ]; then
  L="$models/llama-tiny.onnx"
  "$build/bin/qopt-compile" "$L" -o "$work/l_fp32.so"
  "$build/bin/qopt-compile" "$L" --quant=w8a8-dynamic -o "$work/l_w8a8.so"
  "$build/bin/qopt-compile" "$L" --quant=w4a8 --group-size=32 -o "$work/l_w4a8.so"
  $py "$root/bench/ort_quantize.py" "$L" "$work/o_dq8.onnx" dq8
  $py "$root/bench/ort_quantize.py" "$L" "$work/o_nb4_0.onnx" nb4 32 0
  $py "$root/bench/ort_quantize.py" "$L" "$work/o_nb4_4.onnx" nb4 32 4
  $py -c "import numpy as np,sys; np.save(sys.argv[1], (np.arange(128)*7919 % 256).astype(np.int64)[None])" "$work/ids.npy"
fi

qrun() { # model.so input-file threads -> "median_ms min_ms cpu_ms"
  "$build/bin/qopt-run" "$1" --input "$2" --threads "$3" --bench "$runs" |
    sed -n 's/.*median_ms=\([0-9.]*\) min_ms=\([0-9.]*\) cpu_ms=\([0-9.]*\).*/\1 \2 \3/p'
}
orun() { # model.onnx input threads -> "median_ms min_ms cpu_ms"
  node "$root/bench/ort_model.js" "$1" --input "$2" --threads "$3" --runs "$runs" |
    sed -n 's/.*"median_ms":\([0-9.]*\),"min_ms":\([0-9.]*\),"cpu_ms":\([0-9.]*\).*/\1 \2 \3/p'
}

res="$work/results.txt" # threads kind M config median_ms min_ms cpu_ms
for t in $threads_list; do
  [ -n "$ms" ] && "$work/peak" "$t" | sed "s/^/threads=$t /" >> "$work/peak.txt"
  for r in $(seq "$rounds"); do
    for s in $shapes; do
      d=${s%%:*}; M=$(echo "$s" | cut -d: -f2); l=${s##*:}
      a8="A=$d/a_u8_$M.npy"; af="A=$d/a_f32_$M.npy"
      echo "$t int8 $l qopt:MatMulInteger $(qrun "$d/q_mmi_$M.so" "$a8" "$t")" >> "$res"
      echo "$t int8 $l ort:MatMulInteger $(orun "$d/mmi_$M.onnx" "$a8" "$t")" >> "$res"
      echo "$t int8 $l qopt:QLinearMatMul $(qrun "$d/q_qlmm_$M.so" "$a8" "$t")" >> "$res"
      echo "$t int8 $l ort:QLinearMatMul $(orun "$d/qlmm_$M.onnx" "$a8" "$t")" >> "$res"
      echo "$t int8 $l qopt:w8a8-dynamic $(qrun "$d/q_dyn_$M.so" "$af" "$t")" >> "$res"
      echo "$t int8 $l ort:DynamicQuantizeMatMul $(orun "$d/dqmm_$M.onnx" "$af" "$t")" >> "$res"
      echo "$t f32 $l qopt:MatMul $(qrun "$d/q_fp_$M.so" "$af" "$t")" >> "$res"
      echo "$t f32 $l ort:MatMul $(orun "$d/fp_$M.onnx" "$af" "$t")" >> "$res"
    done
    for M in $int4_ms; do
      af="A=$work/a_f32_$M.npy"
      for g in $int4_groups; do
        echo "$t int4-g$g $M qopt:w4a8 $(qrun "$work/q_w4_${g}_$M.so" "$af" "$t")" >> "$res"
        for acc in 0 4; do
          echo "$t int4-g$g $M ort:MatMulNBits-acc$acc $(orun "$work/nb4_${g}_${acc}_$M.onnx" "$af" "$t")" >> "$res"
        done
      done
    done
    if [ -z "${NO_LLAMA:-}" ]; then
      ids="input_ids=$work/ids.npy"
      echo "$t llama fp32 qopt:fp32 $(qrun "$work/l_fp32.so" "$ids" "$t")" >> "$res"
      echo "$t llama fp32 ort:fp32 $(orun "$L" "$ids" "$t")" >> "$res"
      echo "$t llama int8 qopt:w8a8-dynamic $(qrun "$work/l_w8a8.so" "$ids" "$t")" >> "$res"
      echo "$t llama int8 ort:DynamicQuantizeMatMul $(orun "$work/o_dq8.onnx" "$ids" "$t")" >> "$res"
      echo "$t llama int4 qopt:w4a8-g32 $(qrun "$work/l_w4a8.so" "$ids" "$t")" >> "$res"
      echo "$t llama int4 ort:MatMulNBits-g32-acc0 $(orun "$work/o_nb4_0.onnx" "$ids" "$t")" >> "$res"
      echo "$t llama int4 ort:MatMulNBits-g32-acc4 $(orun "$work/o_nb4_4.onnx" "$ids" "$t")" >> "$res"
    fi
  done
done
[ -n "${KEEP:-}" ] && cp "$res" "$work/peak.txt" "$KEEP/"
$py "$root/bench/report.py" "$work/peak.txt" "$res" "$K" "$N" "$(uptime)"
