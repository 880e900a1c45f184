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
// microkernel's outer products), the partial edges as dot products.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_DYNAMICSCORES_H
#define QOPT_LIB_CODEGEN_DYNAMICSCORES_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
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

} // namespace mlir::qopt

#endif // QOPT_LIB_CODEGEN_DYNAMICSCORES_H
