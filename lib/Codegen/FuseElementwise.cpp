//===- FuseElementwise.cpp - guarded elementwise fusion -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFUSEELEMENTWISEPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
struct QOptFuseElementwisePass
    : qopt::impl::QOptFuseElementwisePassBase<QOptFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::ControlFusionFn control = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
      if (!producer || !producer->hasOneUse() || !consumer)
        return false;
      if (consumer.getNumReductionLoops() == 0)
        return true;
      // Into a reduction only where each producer element is read once
      // (a permutation map, e.g. RMSNorm's x*x into its sum): otherwise the
      // producer would be recomputed per reduction step (RoPE into QK^T).
      return isa<linalg::GenericOp>(consumer.getOperation()) &&
             consumer.getMatchingIndexingMap(operand).isPermutation();
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
