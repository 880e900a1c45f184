//===- TargetDesc.h - CPU targets as data -----------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// One table entry per --target: the LLVM triple/CPU/features, the vector
// width, the int8 dot instruction and the microkernel's register tile and
// weight pack layout. Codegen passes (qopt-pack-qmatmul,
// qopt-lower-ukernels) and the object emitter read only this description,
// so a target is added here without touching the passes.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_CODEGEN_TARGETDESC_H
#define QOPT_CODEGEN_TARGETDESC_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::qopt {

/// The int8 dot-product instruction a target's microkernel is built on.
enum class Int8Dot {
  None,      ///< no exact int8 dot: the portable i32 matmul path
  VpdpbusdZ, ///< AVX-512 VNNI vpdpbusd on zmm: u8 x s8, 4-byte K groups
  VpdpbusdY, ///< AVX-VNNI / AVX512VL vpdpbusd on ymm
  /// AVX2 vpmaddwd on ymm: i16 pairs (activations zero- or sign-extended
  /// from u8/s8 into a packed copy, weights sign-extended from the s8
  /// pack) summed exactly into i32, then vpaddd; 2-byte K groups.
  /// (vpmaddubsw is not used for int8: its i16 pair sums saturate.)
  Pmaddwd,
  Sdot,      ///< AArch64 dotprod sdot: s8 x s8, 4-byte K groups
  Smmla,     ///< AArch64 i8mm smmla: 2x8 by 8x2 s8 blocks
};

struct TargetDesc {
  std::string name;     ///< --target= spelling
  std::string arch;     ///< llvm::Triple arch name: x86_64 | aarch64
  std::string cpu;      ///< LLVM CPU ("" with name == host: detected)
  std::string features; ///< LLVM feature string
  unsigned vectorBits;  ///< widest vector register
  Int8Dot dot;          ///< int8 dot instruction (None: portable path)
  bool dotUnsignedLhs;  ///< the dot reads activations as u8 (x86) or s8
  std::string dotIntrinsic; ///< LLVM intrinsic name for llvm.call_intrinsic
  unsigned kGroup;      ///< K bytes interleaved per i32 lane (pack layout)
  unsigned mr;          ///< microkernel rows (register tile M)
  unsigned nrVectors;   ///< microkernel accumulator vectors per row (tile N)
  /// The grouped int4 (w4a8) kernel (GroupedInt4.cpp): the 4-byte dot
  /// intrinsic it runs on the two nibble halves ("": no kernel, w4a8 takes
  /// the int8 kernel's batched form or the portable path), reading the
  /// activations as u8 or s8 like the int8 dot (dotUnsignedLhs).
  std::string int4DotIntrinsic;
  /// Vector registers of the ISA: the int4 kernel's register tiles (i32
  /// sums, f32 outputs, unpacked weights) are sized to fit them.
  unsigned vectorRegs;
  /// When set, int4DotIntrinsic is a non-accumulating u8 x s8 -> i16 pair
  /// product (x86 pmaddubsw, exact for int4 weights) and this intrinsic
  /// widens i16 pairs to i32 (pmaddwd against ones) before the i32 add.
  std::string int4WidenIntrinsic = "";
  /// AMX tiles (amx-int8): u8-activation int8 dots run as tdpbusd on
  /// 16x16 i32 tiles (AmxKernel.cpp) instead of the register-tile kernel,
  /// which still takes the rest (s8 activations, batched).
  bool amxTiles = false;
  /// Per-core data cache sizes the int8 kernel's K and M blocks are sized
  /// for (qopt-lower-ukernels); the defaults fit current x86 and Arm cores.
  unsigned l1dBytes = 32 * 1024;
  unsigned l2Bytes = 1024 * 1024;
  /// Estimated work (vector ops, see qopt-serialize-small-loops) below which
  /// a parallel loop runs serially. An OpenMP fork/join costs about 1 us on
  /// an idle machine (far more when the threads wait for a core). Decode
  /// steps of llama-tiny-kv fp32, 2 threads, idle 2-core Zen 4 VM, tok/s:
  /// 131072: ~4,000 (every GEMV serial), 16384: ~4,800, 8192: ~5,000,
  /// 4096: ~4,650.
  int64_t minParallelWork = 8192;
  /// Below this, a loop also has a serial copy that runs when OpenMP has one
  /// thread: a one-thread region still costs its entry (the same decode
  /// steps at 1 thread lost ~7 % with 8192 alone).
  int64_t minParallelWorkOneThread = 131072;

  /// i32 lanes of one vector register (the N block of the pack layout).
  unsigned lanes() const { return vectorBits / 32; }
  bool hasInt4Microkernel() const { return !int4DotIntrinsic.empty(); }
  bool hasInt8Microkernel() const {
    return dot == Int8Dot::VpdpbusdZ || dot == Int8Dot::VpdpbusdY ||
           dot == Int8Dot::Sdot || dot == Int8Dot::Smmla ||
           dot == Int8Dot::Pmaddwd;
  }
  /// The int8 dot reads activations of either signedness as they are
  /// (widened to i16): no u8 <-> s8 flip.
  bool dotTakesEitherSign() const { return dot == Int8Dot::Pmaddwd; }
};

/// All known targets except `host`.
llvm::ArrayRef<TargetDesc> getTargetDescs();

/// The description of `name` ("host" is resolved by CPU feature detection
/// to the closest table entry, with the host's own CPU and features), or
/// nullptr for an unknown name.
const TargetDesc *lookupTargetDesc(llvm::StringRef name);

/// "host, avx512, avx2, ..." for error messages and --help.
std::string targetNames();

} // namespace mlir::qopt

#endif
