#!/usr/bin/env bash
# Builds qopt with AddressSanitizer + UndefinedBehaviorSanitizer (and the
# libFuzzer target) into ${SAN_BUILD_DIR:-build-asan}, then runs the lit
# suite and the ONNX conformance regression check with it (any sanitizer
# report fails the run: -fno-sanitize-recover, halt_on_error) and a short fuzz
# run of the importer + legalization (${FUZZ_SECONDS:-60} s, 0 to skip).
# Compiled model .so files and the runtime archive are not instrumented.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${SAN_BUILD_DIR:-$root/build-asan}
export BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
export CMAKE_ARGS="-DQOPT_ENABLE_SANITIZERS=ON -DQOPT_ENABLE_FUZZER=ON ${CMAKE_ARGS:-}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$root/scripts/build.sh"
"$root/scripts/build.sh" qopt-fuzz-import
echo "== lit (ASan + UBSan)"
/usr/lib/llvm-22/bin/lit -s "$BUILD_DIR/test"
echo "== ONNX conformance (ASan + UBSan)"
QOPT_BUILD=$BUILD_DIR /usr/bin/python3 "$root/test/conformance/run.py" --check
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then
  echo "== fuzz ${FUZZ_SECONDS:-60} s"
  FUZZ_BUILD_DIR=$BUILD_DIR "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}" 2>&1 | tail -15
fi
