//===- DynamicScores.h - attention scores on run-time lengths ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Attention scores S[b.., m, n] = sum_k Q[b.., m, k] * K[b.., n, k] over a
// run-time query count m and context n with a static head dim k (the
// N-D generic of convert-qopt-to-linalg's batchedContraction, K read in
// place from a KV cache) run as one dot product per score: a horizontal
// sum for every output. With many queries (prefill), qopt-tile-and-vectorize
// instead transposes K once per call and runs static register tiles
// S[m0:m0+tm, n0:n0+tn] = Q[m0:, :] @ Kᵀ[:, n0:] (linalg.matmul, the static
// microkernel's outer products), the partial edges as dot products. The
// p·v contraction that follows gets register tiles of several query rows
// the same way (each V row then read once per tile, not once per row).
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_DYNAMICSCORES_H
#define QOPT_LIB_CODEGEN_DYNAMICSCORES_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {

/// Marks generics that qopt-tile-and-vectorize tiles with serial loops
/// only (they already run inside a parallel work item).
inline constexpr llvm::StringLiteral kSerialTile = "qopt.serial_tile";

/// Whether `op` is the dot-per-score generic described above.
bool isDynamicScores(linalg::GenericOp op);

/// Rewrites `op` (isDynamicScores) into `scf.if (m >= tm) { transposed K,
/// tm x tn linalg.matmul tiles over a forall of the batch dims, edges as
/// kSerialTile dot generics } else { op }` and appends the matmul tiles
/// to `tiles` (static shapes, for the caller to vectorize).
LogicalResult splitDynamicScores(RewriterBase &rewriter, linalg::GenericOp op,
                                 int64_t tm, int64_t tn,
                                 SmallVectorImpl<linalg::MatmulOp> &tiles);

/// For O[b.., m, n] = sum_t P[b.., m, t] * V[b.., t, n] (attention's p·v
/// over a run-time query count m and context t, static n <= 64, f32): the
/// rows of its register tile (tm x n in 16 zmm), 0 when `op` is not one.
int64_t dynamicPVRows(linalg::GenericOp op);

/// Rewrites such an `op` into `scf.if (m >= tm) { forall over the batch
/// dims of tm x n accumulator tiles, one linalg.matmul outer product
/// (tm x 1 by 1 x n) per context position in an scf.for, the last m % tm
/// rows as a kSerialTile generic } else { op }` and appends each matmul
/// with its loop to `tiles` (for the caller to vectorize and keep the
/// accumulator in registers across the loop).
LogicalResult
splitDynamicPV(RewriterBase &rewriter, linalg::GenericOp op,
               SmallVectorImpl<std::pair<linalg::MatmulOp, scf::ForOp>> &tiles);

} // namespace mlir::qopt

#endif // QOPT_LIB_CODEGEN_DYNAMICSCORES_H
