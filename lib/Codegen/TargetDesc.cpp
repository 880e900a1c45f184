//===- TargetDesc.cpp - the CPU target table ------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/TargetDesc.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>
#include <vector>

#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace mlir::qopt;

// Register tiles: on AVX-512 6 rows x 4 zmm = 24 accumulators + 4 weight
// vectors + 1 broadcast of the 32 zmm registers; 4 dot instructions per 4+1
// loads keep one vpdpbusd per cycle fed from L1.
static const TargetDesc kTargets[] = {
    {"avx512", "x86_64", "skylake-avx512",
     "+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512cd,+avx512vnni", 512,
     Int8Dot::VpdpbusdZ, true, "llvm.x86.avx512.vpdpbusd.512", 4, 6, 4,
     "llvm.x86.avx512.vpdpbusd.512", 32},
    // Sapphire Rapids and later: the avx512 description plus AMX tiles for
    // the int8 GEMMs.
    {"avx512-amx", "x86_64", "sapphirerapids",
     "+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512cd,+avx512vnni,"
     "+amx-tile,+amx-int8",
     512, Int8Dot::VpdpbusdZ, true, "llvm.x86.avx512.vpdpbusd.512", 4, 6, 4,
     "llvm.x86.avx512.vpdpbusd.512", 32, "", true},
    // AVX2 machines without AVX-VNNI only have vpmaddubsw, whose i16
    // saturation is not exact for u8 x s8: int8 widens both operands to
    // i16 and uses vpmaddwd (exact i32 pair sums; 6x2 ymm tile: 12
    // accumulators + 2 weight vectors + 1 broadcast of 16 registers).
    // For int4 weights (|w| <= 8; asymmetric q - zp: <= 15) a pair sums to
    // at most 2 * 255 * 15 = 7650 and the two nibble halves' pairs to
    // 15300: exact in i16, so the int4 kernel uses vpmaddubsw, adds the
    // halves in i16 and widens with vpmaddwd.
    {"avx2", "x86_64", "haswell", "+avx2,+fma", 256, Int8Dot::Pmaddwd, true,
     "llvm.x86.avx2.pmadd.wd", 2, 6, 2, "llvm.x86.avx2.pmadd.ub.sw", 16,
     "llvm.x86.avx2.pmadd.wd"},
    {"avx2-vnni", "x86_64", "alderlake", "+avx2,+fma,+avxvnni", 256,
     Int8Dot::VpdpbusdY, true, "llvm.x86.avx512.vpdpbusd.256", 4, 4, 2,
     "llvm.x86.avx512.vpdpbusd.256", 16},
    {"x86-64", "x86_64", "x86-64", "", 128, Int8Dot::None, false, "", 1, 1, 1,
     "", 16},
    {"neon", "aarch64", "generic", "+neon,+dotprod", 128, Int8Dot::Sdot, false,
     "llvm.aarch64.neon.sdot.v4i32.v16i8", 4, 8, 2,
     "llvm.aarch64.neon.sdot.v4i32.v16i8", 32},
    {"neon-i8mm", "aarch64", "generic", "+neon,+dotprod,+i8mm", 128,
     Int8Dot::Smmla, false, "llvm.aarch64.neon.smmla.v4i32.v16i8", 8, 8, 2,
     // The int4 kernel's 4-byte K quads are sdot's (dotprod is part of
     // the target); smmla's 8-byte blocks would need another nibble layout.
     "llvm.aarch64.neon.sdot.v4i32.v16i8", 32},
};

llvm::ArrayRef<TargetDesc> mlir::qopt::getTargetDescs() { return kTargets; }

static const TargetDesc *byName(llvm::StringRef name) {
  for (const TargetDesc &t : kTargets)
    if (t.name == name)
      return &t;
  return nullptr;
}

/// The host: the richest table entry of the host's architecture whose
/// features the CPU has, with the detected CPU name and feature string.
/// Whether this process may use AMX tiles: the CPU has them and Linux
/// grants the tile state (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA; the
/// model runtime asks the same way before running).
static bool amxUsable(bool cpuHas) {
#if defined(__linux__) && defined(__x86_64__)
  return cpuHas && syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
  return false;
#endif
}

static TargetDesc detectHost() {
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  auto has = [&](const char *n) { return f.lookup(n); };
  const TargetDesc *base = byName("x86-64");
#if defined(__aarch64__)
  base = byName(has("i8mm") ? "neon-i8mm" : "neon");
#else
  if (has("avx512vnni") && has("avx512bw"))
    base = byName(amxUsable(has("amx-int8") && has("amx-tile")) ? "avx512-amx"
                                                                 : "avx512");
  else if (has("avxvnni") && has("avx2"))
    base = byName("avx2-vnni");
  else if (has("avx2") && has("fma"))
    base = byName("avx2");
#endif
  TargetDesc d = *base;
  d.name = "host";
  d.cpu = llvm::sys::getHostCPUName().str();
  std::vector<std::string> fs;
  for (auto &e : f)
    fs.push_back((e.second ? "+" : "-") + e.first().str());
  d.features = llvm::join(fs, ",");
  return d;
}

const TargetDesc *mlir::qopt::lookupTargetDesc(llvm::StringRef name) {
  if (name == "host") {
    static TargetDesc host;
    static std::once_flag once;
    std::call_once(once, [] { host = detectHost(); });
    return &host;
  }
  return byName(name);
}

std::string mlir::qopt::targetNames() {
  std::string s = "host";
  for (const TargetDesc &t : kTargets)
    s += ", " + t.name;
  return s;
}
