#!/usr/bin/env bash
# qopt's x86 CPU artifacts on another machine (one that only receives them:
# no qopt build there), against ONNX Runtime's Python package on the same
# CPU. Used to time --target=avx2-vnni and avx2 on a CPU that has AVX-VNNI
# (this development machine, a Zen 4, has AVX-512 VNNI but not AVX-VNNI).
#
#   bench/device-cpu.sh prepare DIR   here: compiles int8 GEMM (M=128,
#       K=N=2048, MatMulInteger), w4a8 g32 GEMM (same shape) and llama-tiny
#       w8a8-dynamic for --target=avx512, avx2-vnni and avx2, the ONNX
#       Runtime peers (MatMulInteger, MatMulNBits g32 accuracy_level 4,
#       DynamicQuantizeMatMul llama-tiny), inputs, and reference outputs
#       (avx512, run here); copies libomp and bench/peak.c.
#   bench/device-cpu.sh run DIR OUT   there: the CPU's flags, the vpdpbusd
#       zmm/ymm peaks, then ROUNDS interleaved rounds (qopt targets the CPU
#       has, then ONNX Runtime) of RUNS runs on 1 thread; checks every qopt
#       output against the reference bit for bit; OUT/results.txt and a
#       table (bench/report.py's columns: medians, best run, ratio).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=$1 dir=$2
py=${PY:-/usr/bin/python3}
targets="avx512 avx512-amx avx2-vnni avx2"
# NO_W4=1 leaves out the int4 GEMM (what travels to a remote machine may be
# size-limited).
w4=1; [ -n "${NO_W4:-}" ] && w4=""

if [ "$mode" = prepare ]; then
  build=${QOPT_BUILD:-$root/build}
  L=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}/llama-tiny.onnx
  mkdir -p "$dir"
  $py "$root/bench/make_models.py" "$dir" 128 2048 2048
  rm -f "$dir"/*_512* "$dir"/qlmm_* "$dir"/dqmm_*
  [ -n "$w4" ] && $py "$root/bench/ort_quantize.py" "$dir/fp_128.onnx" "$dir/nb4_128.onnx" nb4 32 4
  $py "$root/bench/ort_quantize.py" "$L" "$dir/llama_dq8.onnx" dq8
  $py -c "import numpy as np,sys; np.save(sys.argv[1], (np.arange(128)*7919 % 256).astype(np.int64)[None])" "$dir/ids.npy"
  # The exactness model of test/tools/qopt-ukernel-int8.test (remainder
  # rows, columns and K; s8 and batched dots; panels).
  $py "$root/test/tools/Inputs/qmatmul_ukernel.py" "$dir/exact.mlir" "$dir/exact_in"
  for t in $targets; do
    "$build/bin/qopt-compile" "$dir/exact.mlir" --target=$t -o "$dir/exact_$t.so"
    "$build/bin/qopt-compile" "$dir/mmi_128.onnx" --target=$t -o "$dir/mmi_$t.so"
    [ -n "$w4" ] && "$build/bin/qopt-compile" "$dir/fp_128.onnx" --target=$t --quant=w4a8 --group-size=32 -o "$dir/w4_$t.so"
    "$build/bin/qopt-compile" "$L" --target=$t --quant=w8a8-dynamic -o "$dir/llama_$t.so"
  done
  rm -f "$dir"/fp_128.onnx "$dir"/*.h "$dir/exact.mlir"
  "$build/bin/qopt-run" "$dir/mmi_avx512.so" --input "A=$dir/a_u8_128.npy" --output-dir "$dir/ref_mmi"
  [ -n "$w4" ] && "$build/bin/qopt-run" "$dir/w4_avx512.so" --input "A=$dir/a_f32_128.npy" --output-dir "$dir/ref_w4"
  [ -z "$w4" ] && rm -f "$dir/a_f32_128.npy"
  "$build/bin/qopt-run" "$dir/llama_avx512.so" --input "input_ids=$dir/ids.npy" --output-dir "$dir/ref_llama"
  cp "$(readlink -f /usr/lib/llvm-22/lib/libomp.so.5)" "$dir/libomp.so.5"
  cp "$root/bench/peak.c" "$dir/"
  du -sh "$dir"
  exit 0
fi

out=$3
rounds=${ROUNDS:-5}
runs=${RUNS:-20}
mkdir -p "$out"
export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
flags=$(grep -m1 '^flags' /proc/cpuinfo)
{ grep -m1 'model name' /proc/cpuinfo; nproc; } | tee "$out/cpu.txt"
have=""
for t in $targets; do
  case $t in
    avx512) f=avx512_vnni ;; avx512-amx) f=amx_int8 ;;
    avx2-vnni) f=avx_vnni ;; avx2) f=avx2 ;;
  esac
  if [[ " $flags " == *" $f "* ]]; then have="$have $t"; fi
done
echo "targets this CPU runs:$have" | tee -a "$out/cpu.txt"
cc=$(command -v clang || command -v gcc || true)
if [ -n "$cc" ] && [[ "$have" == *avx512* ]]; then
  $cc -O2 -march=native -fopenmp "$dir/peak.c" -o "$out/peak" 2>/dev/null &&
    OMP_NUM_THREADS=1 "$out/peak" 1 | tee -a "$out/cpu.txt" || true
fi
qrun() { # so input -> "median min cpu"
  $py "$root/bench/run_so.py" "$1" --input "$2" --threads 1 --bench "$runs" |
    sed -n 's/.*median_ms=\([0-9.]*\) min_ms=\([0-9.]*\) cpu_ms=\([0-9.]*\).*/\1 \2 \3/p'
}
orun() { # onnx input -> "median min cpu"
  $py - "$1" "$2" "$runs" <<'EOF'
import sys, time, statistics
import numpy as np, onnxruntime as ort
path, inp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
name, f = inp.split("=", 1)
o = ort.SessionOptions(); o.intra_op_num_threads = 1; o.inter_op_num_threads = 1
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
feed = {name: np.load(f)}
for _ in range(3): s.run(None, feed)
ts = []; c0 = time.process_time()
for _ in range(runs):
    t0 = time.perf_counter(); s.run(None, feed); ts.append((time.perf_counter() - t0) * 1e3)
print(f"{statistics.median(ts):.4f} {min(ts):.4f} {(time.process_time() - c0) * 1e3 / runs:.4f}")
EOF
}
# Exactness: the int8 kernel model against numpy; every target's outputs
# against the avx512 reference.
for t in $have; do
  e="$dir/exact_in"
  $py "$root/bench/run_so.py" "$dir/exact_$t.so" --input x=$e/x.npy --input zx=$e/zx.npy \
    --input s=$e/s.npy --input xg=$e/xg.npy --input xb=$e/xb.npy --output-dir "$out/o_exact_$t" >/dev/null
  echo "exact int8-kernel-vs-numpy $t $($py "$root/test/tools/Inputs/qmatmul_ukernel.py" check "$out/o_exact_$t" 2>&1 | tail -1)" | tee -a "$out/cpu.txt"
  $py "$root/bench/run_so.py" "$dir/mmi_$t.so" --input "A=$dir/a_u8_128.npy" --output-dir "$out/o_mmi_$t" >/dev/null
  [ -f "$dir/w4_$t.so" ] && $py "$root/bench/run_so.py" "$dir/w4_$t.so" --input "A=$dir/a_f32_128.npy" --output-dir "$out/o_w4_$t" >/dev/null
  $py "$root/bench/run_so.py" "$dir/llama_$t.so" --input "input_ids=$dir/ids.npy" --output-dir "$out/o_llama_$t" >/dev/null
  for m in mmi w4 llama; do
    [ -d "$dir/ref_$m" ] || continue
    for f in "$dir/ref_$m"/*.npy; do
      if cmp -s "$f" "$out/o_${m}_$t/$(basename "$f")"; then r=identical; else r=DIFFERENT; fi
      echo "exact $m $t $(basename "$f") $r" | tee -a "$out/cpu.txt"
    done
  done
  rm -rf "$out/o_"*"_$t"
done
res="$out/results.txt"
: > "$res"
for r in $(seq "$rounds"); do
  for t in $have; do
    echo "1 int8 128 qopt:MatMulInteger-$t $(qrun "$dir/mmi_$t.so" "A=$dir/a_u8_128.npy")" >> "$res"
  done
  echo "1 int8 128 ort:MatMulInteger $(orun "$dir/mmi_128.onnx" "A=$dir/a_u8_128.npy")" >> "$res"
  if [ -f "$dir/nb4_128.onnx" ]; then
    for t in $have; do
      echo "1 int4-g32 128 qopt:w4a8-$t $(qrun "$dir/w4_$t.so" "A=$dir/a_f32_128.npy")" >> "$res"
    done
    echo "1 int4-g32 128 ort:MatMulNBits-acc4 $(orun "$dir/nb4_128.onnx" "A=$dir/a_f32_128.npy")" >> "$res"
  fi
  for t in $have; do
    echo "1 llama int8 qopt:w8a8-dynamic-$t $(qrun "$dir/llama_$t.so" "input_ids=$dir/ids.npy")" >> "$res"
  done
  echo "1 llama int8 ort:DynamicQuantizeMatMul $(orun "$dir/llama_dq8.onnx" "input_ids=$dir/ids.npy")" >> "$res"
done
$py - "$res" <<'EOF' | tee "$out/table.md"
import sys, statistics, collections
rows = collections.defaultdict(list)
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) == 7:
        rows[(p[1] + " " + p[2], p[3])].append(tuple(map(float, p[4:])))
print("| work | config | ms median | ms best | CPU ms | vs ORT (median) | vs ORT (best) |")
print("|---|---|---|---|---|---|---|")
for work in dict.fromkeys(w for w, _ in rows):
    cfg = {c: v for (w, c), v in rows.items() if w == work}
    med = {c: statistics.median(x[0] for x in v) for c, v in cfg.items()}
    best = {c: min(x[1] for x in v) for c, v in cfg.items()}
    cpu = {c: statistics.median(x[2] for x in v) for c, v in cfg.items()}
    ort = [c for c in cfg if c.startswith("ort:")]
    for c in cfg:
        r = ("", "")
        if ort and not c.startswith("ort:"):
            o = ort[0]
            r = (f"{med[o] / med[c]:.2f}x", f"{best[o] / best[c]:.2f}x")
        print(f"| {work} | {c} | {med[c]:.3f} | {best[c]:.3f} | {cpu[c]:.3f} | {r[0]} | {r[1]} |")
EOF
