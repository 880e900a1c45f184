//===- SplitFillInits.cpp - one filled init tensor per destination use ----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Before bufferization: a `linalg.fill` of a `tensor.empty` that is the
// destination of several ops (CSE merges the zero inits of matmuls that
// share a shape), one of whose results is inserted into a slice of another
// tensor, gets a fresh empty + fill per destination use.
//
// Why: eliminate-empty-tensors rewrites such an empty into a slice of the
// first destination it reaches through a parallel_insert_slice, and
// one-shot bufferization then lets another consumer compute in place in
// that slice, which the first result's insertion overwrites before the
// second is read (LLVM 22; seen on the q/k/v matmuls of 32-row chunks in
// an scf.forall: v came out equal to q). With one init per consumer every
// chain is eliminated into its own destination: no copies, and correct.
// A fill costs no more than the copy of the filled buffer bufferization
// would make for each extra consumer.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSPLITFILLINITSPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
/// Whether `use` may be updated in place by its owner.
bool isDestination(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(owner))
    return dps.isDpsInit(&use);
  if (auto forall = dyn_cast<scf::ForallOp>(owner))
    return llvm::is_contained(forall.getOutputsMutable(), use);
  return false;
}

/// Whether the op updating `use` in place has a result that is inserted
/// into a slice of another tensor (what eliminate-empty-tensors follows).
bool feedsInsertion(OpOperand &use) {
  for (Value r : use.getOwner()->getResults())
    for (Operation *user : r.getUsers())
      if (isa<tensor::ParallelInsertSliceOp, tensor::InsertSliceOp>(user))
        return true;
  return false;
}

struct QOptSplitFillInitsPass
    : impl::QOptSplitFillInitsPassBase<QOptSplitFillInitsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse() &&
          fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      Value result = fill->getResult(0);
      SmallVector<OpOperand *> dests;
      bool allDests = true;
      for (OpOperand &use : result.getUses()) {
        if (isDestination(use))
          dests.push_back(&use);
        else
          allDests = false;
      }
      // Only where a consumer's result is inserted into a slice: elsewhere
      // bufferization copies the filled buffer correctly (and static
      // models keep their code).
      if (dests.size() < 2 || !llvm::any_of(dests, [](OpOperand *u) {
            return feedsInsertion(*u);
          }))
        continue;
      // The original stays with the readers, or with one destination.
      if (allDests)
        dests.erase(dests.begin());
      auto empty = fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();
      for (OpOperand *use : dests) {
        OpBuilder b(use->getOwner());
        IRMapping map;
        map.map(empty.getResult(), b.clone(*empty)->getResult(0));
        use->set(b.clone(*fill, map)->getResult(0));
      }
    }
  }
};
} // namespace
} // namespace mlir::qopt
