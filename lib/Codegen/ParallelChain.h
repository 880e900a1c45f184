//===- ParallelChain.h - a chain of ops run one tile of a dim at a time -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Shared by qopt-parallelize-heads and qopt-parallelize-rows. A chain is a
// set of ops of one block that are independent along one dim of extent N
// (attention's heads, a matrix's rows): each value the chain touches has
// that dim at a known position, or is used whole (a broadcast operand).
// outlineChain() replaces the chain by one scf.forall over N / T tiles:
// every op is cloned with that dim of its tensors shrunk to T (indexing
// maps and bodies unchanged), inputs from outside are sliced at the tile,
// tensor.empty inputs and fills of them are recreated per tile, and each
// value used after the chain is written back with
// tensor.parallel_insert_slice. The same scalar operations run in the same
// order: results are bit-identical.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_PARALLELCHAIN_H
#define QOPT_LIB_CODEGEN_PARALLELCHAIN_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <optional>

namespace mlir::qopt {

/// The position of the chain's dim in each operand and result of an op
/// (-1: the value is used whole).
struct ChainPositions {
  SmallVector<int64_t> operands, results;
};

struct Chain {
  int64_t extent = 0; ///< N
  int64_t tile = 1;   ///< T (divides N)
  llvm::SetVector<Operation *> ops;
  DenseMap<Value, int64_t> pos;
  DenseMap<Operation *, ChainPositions> opPos;
  /// Ops the chain must not take (e.g. matmuls), beyond those it cannot.
  std::function<bool(Operation *)> accept = [](Operation *) { return true; };

  /// Adds `op`, reached through `known` whose dim is at `p`, and grows
  /// through producers and users in `block`.
  void grow(Operation *op, Value known, int64_t p, Block *block);
};

/// How `op` runs one tile at a time given `known` at `p`, or nullopt.
std::optional<ChainPositions> chainPositions(Operation *op, Value known,
                                             int64_t p, int64_t extent);

/// The chain as one scf.forall after its last op; failure (nothing
/// changed) when a value of the chain is used by an op placed before the
/// chain's last op, or nothing of it is used after it.
LogicalResult outlineChain(Chain &c);

} // namespace mlir::qopt

#endif // QOPT_LIB_CODEGEN_PARALLELCHAIN_H
