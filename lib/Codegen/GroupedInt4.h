//===- GroupedInt4.h - the grouped int4 (w4a8) microkernel -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The grouped w4a8 matmul of qopt-quantize-dynamic
//
//   acc[g, m, n] = qopt.qmatmul(transpose(expand(xq)) [G, M, gs],
//                               W [G, gs, N] int4, za, 0)
//   y[m, n]      = sum_g f32(acc[g, m, n]) * sx[m] * sw[g, n]   (g in order)
//
// on a target with a 4-byte int8 dot (TargetDesc::int4DotIntrinsic: x86
// vpdpbusd on zmm or ymm, AArch64 sdot): qopt-pack-qmatmul packs W two
// nibbles per byte into the dot's K-quad layout and emits the pair (int4 dot generic ->
// i32 [G, M, N], grouped epilogue generic -> y) whose loops are the exact
// reference; qopt-lower-ukernels replaces the pair by one register-tiled
// kernel that keeps each group's i32 sums and y in registers (no [G, M, N]
// buffer), computing the same f32 operations in the same order.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_GROUPEDINT4_H
#define QOPT_LIB_CODEGEN_GROUPEDINT4_H

#include "qopt/Codegen/Passes.h"
#include "qopt/Codegen/TargetDesc.h"

#include <vector>

namespace mlir::qopt {

/// qopt-pack-qmatmul: rewrites `op` and its epilogue into the packed pair;
/// failure (nothing changed) when the pattern or the target does not fit.
LogicalResult packGroupedInt4(QMatMulOp op, const TargetDesc &t);

/// Whether `v` is a constant whose integer elements are all zero.
bool isZeroIntConstant(Value v);

/// The `n` int8 values of a constant weight: one per byte, or int4 two per
/// byte behind qopt.unpack_int4 (docs/semantics.md §10); empty if `rhs` is
/// neither.
std::vector<int8_t> int8WeightValues(Value rhs, int64_t n);

/// qopt-lower-ukernels: lowers every packed pair (on buffers) in `root`.
void lowerGroupedInt4(Operation *root, const TargetDesc &t);

} // namespace mlir::qopt

#endif
