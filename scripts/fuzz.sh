#!/usr/bin/env bash
# Fuzzes the ONNX importer + convert-onnx-to-qopt (test/fuzz/qopt-fuzz-import)
# for SECONDS (default 60). Configures ${FUZZ_BUILD_DIR:-build-asan} with
# -DQOPT_ENABLE_FUZZER=ON -DQOPT_ENABLE_SANITIZERS=ON (clang-22, libFuzzer + ASan + UBSan; Debian package
# libclang-rt-22-dev), seeds from the ONNX backend node-test models, and keeps
# crashing / leaking / slow inputs in test/fuzz/crashers/ (commit them: they
# are regression inputs that test/robustness/run_negative.py replays).
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
# Shares the ASan + UBSan build of scripts/test-sanitizers.sh by default.
build=${FUZZ_BUILD_DIR:-$root/build-asan}
export CCACHE_BASEDIR=$root
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQOPT_ENABLE_FUZZER=ON \
    -DQOPT_ENABLE_SANITIZERS=ON \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit ${CMAKE_ARGS:-}
fi
ninja -C "$build" -j${JOBS:-2} qopt-fuzz-import
"$root/test/fuzz/make_seed_corpus.sh" "$build/seed-corpus"
mkdir -p "$build/corpus" "$root/test/fuzz/crashers"
# The first directory receives new coverage-increasing inputs.
exec "$build/bin/qopt-fuzz-import" \
  -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=262144 \
  -artifact_prefix="$root/test/fuzz/crashers/" -print_final_stats=1 "$@" \
  "$build/corpus" "$build/seed-corpus"
