#!/usr/bin/env bash
# Compiles the bundled example model and runs it: the main job end to end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
out=${OUT_DIR:-$root/out/example}
mkdir -p "$out"
set -x
"$build/bin/qopt-compile" "$root/examples/models/tiny_cnn.onnx" --target=host -O3 -o "$out/tiny_cnn.so"
"$build/bin/qopt-run" "$out/tiny_cnn.so" --input image="$root/examples/models/tiny_cnn_image.npy" \
  --output-dir "$out" --bench 20
set +x
/usr/bin/python3 - "$out/probs.npy" <<'PY'
import sys, numpy as np
p = np.load(sys.argv[1])
print("probs:", np.array2string(p, precision=4))
print("class:", int(p.argmax()), " sum:", float(p.sum()))
PY
