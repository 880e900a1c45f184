#!/usr/bin/env bash
# Links a `qopt-compile --target=neon --emit=obj` model with the runtime and
# the .npy driver (runtime/tools/npy_main.c) into an aarch64 Linux executable,
# cross-built on x86 with clang-22 + ld.lld against Debian's
# libc6-dev-arm64-cross (no aarch64 gcc needed). Run it under qemu:
#   scripts/aarch64-link.sh model.o model-arm
#   qemu-aarch64 -L /usr/aarch64-linux-gnu ./model-arm OUTDIR x=x.npy ...
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 MODEL.o OUT" >&2; exit 2; }
src="$(cd "$(dirname "$0")/.." && pwd)"
sys=/usr/aarch64-linux-gnu
[ -f $sys/lib/crt1.o ] || { echo "error: $sys missing (apt-get install libc6-dev-arm64-cross)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# -mno-outline-atomics: the outlined atomics helpers live in libgcc, which
# the cross libc package does not bring.
cc=(clang-22 --target=aarch64-linux-gnu -O2 -mno-outline-atomics
    -isystem $sys/include -I"$src/runtime/include")
rt=()
for f in Runtime ABI Dynamic; do
  "${cc[@]}" -c "$src/runtime/lib/$f.c" -o "$tmp/rt-$f.o"
  rt+=("$tmp/rt-$f.o")
done
"${cc[@]}" -c "$src/runtime/tools/npy_main.c" -o "$tmp/main.o"
ld.lld-22 -o "$2" -dynamic-linker /lib/ld-linux-aarch64.so.1 \
  $sys/lib/crt1.o $sys/lib/crti.o "$tmp/main.o" "${rt[@]}" "$1" \
  -L$sys/lib -lm -lc $sys/lib/crtn.o
