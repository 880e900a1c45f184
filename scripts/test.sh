#!/usr/bin/env bash
# Builds qopt and runs every test: lit (dialects, passes, importer, tools,
# plugin), the ONNX conformance regression check, and llama-tiny end to end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
echo "== lit"
/usr/lib/llvm-22/bin/lit -sv "$build/test"
echo "== ONNX conformance, run-time operands (regression check against test/conformance/passing.txt)"
QOPT_BUILD=$build /usr/bin/python3 "$root/test/conformance/run.py" --check
echo "== ONNX conformance, specialized shape operands (test/conformance/passing-specialized.txt)"
QOPT_BUILD=$build /usr/bin/python3 "$root/test/conformance/run.py" --specialize --only-listed --check
if [ -f "$root/../shared/models/llama-tiny/llama-tiny.onnx" ] || [ -n "${LLAMA_TINY_DIR:-}" ]; then
  echo "== llama-tiny end to end (FP32 cross-entropy vs the reference)"
  QOPT_BUILD=$build "$root/scripts/llama-tiny-e2e.sh"
else
  echo "== llama-tiny not found (set LLAMA_TINY_DIR): skipped"
fi
