//===- AmxKernel.h - the int8 dot on AMX tiles ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_AMXKERNEL_H
#define QOPT_LIB_CODEGEN_AMXKERNEL_H

#include "mlir/IR/Builders.h"

#include <functional>

namespace mlir::qopt {

/// out[M, N] (i32) = init + a[M, K] (u8, or s8 with lhsZext false) x the
/// packed weights w [N/P, K/4, P*4] (s8, P a multiple of 16, the VNNI
/// layout of qopt-pack-qmatmul collapsed), on AMX tiles (upstream `amx`
/// dialect: tileloadd, tdpbusd/tdpbssd, tilestored).
struct AmxKernelSpec {
  Value a, w, out;
  int64_t M, N, K, P;
  bool lhsZext;
  /// Writes out's initial value at [m, n .. n+16) (vector code), or null:
  /// out is zero-filled (zeroInit) or already holds it.
  std::function<void(OpBuilder &, Location, Value m, Value n)> initVec;
  bool zeroInit = false;
  /// Applies the epilogue to out[m, n .. n+16) once the sums are final
  /// (null: none).
  std::function<void(OpBuilder &, Location, Value m, Value n)> epiVec;
  int64_t l2Bytes;
};

/// Emits the kernel at b's insertion point: an scf.parallel over groups of
/// up to 8 32-column blocks and M blocks; per 32-row block and K block of
/// 8 x 64 bytes (unrolled: tiles are never loop-carried) the group's
/// column blocks in turn, each a 2x2 grid of 16x16 i32 tiles loaded from
/// and stored to `out`.
void emitAmxKernel(OpBuilder &b, Location loc, const AmxKernelSpec &s);

} // namespace mlir::qopt

#endif
