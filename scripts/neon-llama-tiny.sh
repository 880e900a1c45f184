#!/usr/bin/env bash
# llama-tiny w8a8-dynamic (NEON_QUANT=w4a8: the grouped int4 kernel) on
# NEON (aarch64 sdot microkernel) under
# qemu-aarch64 against the same model on this x86 host (--target=host):
# prints the largest absolute logit difference over N eval windows
# (default 1) and fails if it exceeds 1e-5 (docs/performance.md).
#   scripts/neon-llama-tiny.sh [N]     (NEON_TARGET=neon-i8mm: the smmla kernel)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QOPT_BUILD:-${BUILD_DIR:-$root/build}}
models=${LLAMA_TINY_DIR:-$root/../shared/models/llama-tiny}
n=${1:-1}
quant=${NEON_QUANT:-w8a8-dynamic}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
qc="$build/bin/qopt-compile"
"$qc" "$models/llama-tiny.onnx" --quant="$quant" --target="${NEON_TARGET:-neon}" --emit=obj \
  -o "$out/l.o"  # + l.weights
"$root/scripts/aarch64-link.sh" "$out/l.o" "$out/l.arm"
"$qc" "$models/llama-tiny.onnx" --quant="$quant" --target=host -o "$out/x86.so"
/usr/bin/python3 - "$models/eval_tokens.bin" "$out" "$n" <<'PY'
import sys, numpy as np
w = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(-1, 129)
for i in range(int(sys.argv[3])):
    np.save(f"{sys.argv[2]}/ids{i}.npy", w[i, :128].astype(np.int64)[None, :])
PY
worst=0
for ((i = 0; i < n; i++)); do
  mkdir -p "$out/arm$i" "$out/x86$i"
  start=$(date +%s%N)
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/l.arm" -w "$out/l.weights" "$out/arm$i" input_ids="$out/ids$i.npy"
  echo "window $i: qemu-aarch64 run $(( ($(date +%s%N) - start) / 1000000 )) ms"
  "$build/bin/qopt-run" "$out/x86.so" --input input_ids="$out/ids$i.npy" --output-dir "$out/x86$i" >/dev/null
done
/usr/bin/python3 - "$out" "$n" <<'PY'
import os, sys, numpy as np
d, n = sys.argv[1], int(sys.argv[2])
worst = rel = 0.0
same = True
for i in range(n):
    a = np.load(f"{d}/arm{i}/logits.npy").astype(np.float64)
    b = np.load(f"{d}/x86{i}/logits.npy").astype(np.float64)
    worst = max(worst, np.abs(a - b).max())
    rel = max(rel, np.linalg.norm(a - b) / np.linalg.norm(b))
    same &= bool((a == b).all())
print(f"llama-tiny {os.environ.get('NEON_QUANT', 'w8a8-dynamic')} {os.environ.get('NEON_TARGET', 'neon')} (qemu) vs x86: {n} window(s), max |dlogit| = {worst:.3e}, "
      f"rel L2 = {rel:.3e}, bit-identical = {same}")
sys.exit(0 if worst <= 1e-5 else 1)
PY
