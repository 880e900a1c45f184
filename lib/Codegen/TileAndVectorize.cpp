//===- TileAndVectorize.cpp - register-tile matmuls and vectorize ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTTILEANDVECTORIZEPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The largest of `candidates` (descending) that divides `dim`, or 0.
int64_t pickDivisor(int64_t dim, ArrayRef<int64_t> candidates) {
  for (int64_t c : candidates)
    if (c > 0 && dim % c == 0)
      return c;
  return 0;
}

SmallVector<OpFoldResult> asOFR(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> out;
  for (int64_t x : v)
    out.push_back(b.getIndexAttr(x));
  return out;
}

struct QOptTileAndVectorizePass
    : qopt::impl::QOptTileAndVectorizePassBase<QOptTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> targets;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          op.hasPureTensorSemantics() && op.hasDynamicShape() == false &&
          op->getResult(0).getType() == op.getDpsInits()[0].getType() &&
          (cast<ShapedType>(op->getResult(0).getType()).getElementType().isF32() ||
           cast<ShapedType>(op->getResult(0).getType()).getElementType().isInteger(32)))
        targets.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : targets)
      (void)tileAndVectorize(rewriter, op);
  }

  LogicalResult tileAndVectorize(IRRewriter &rewriter, linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    bool batched = ranges.size() == 4;
    int64_t M = ranges[batched ? 1 : 0], N = ranges[batched ? 2 : 1],
            K = ranges[batched ? 3 : 2];
    int64_t tm = pickDivisor(M, {tileM, 4, 2, 1});
    int64_t tn = pickDivisor(N, {tileN, 16, 8});
    int64_t tk = pickDivisor(K, {tileK, 2, 1});
    if (!tm || !tn || !tk)
      return failure(); // left to the scalar loops

    // Level 1: parallel register tiles (scf.forall -> OpenMP later).
    SmallVector<int64_t> outer = batched ? SmallVector<int64_t>{1, tm, tn, 0}
                                         : SmallVector<int64_t>{tm, tn, 0};
    scf::SCFTilingOptions o1;
    o1.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    o1.setTileSizes(asOFR(rewriter, outer));
    rewriter.setInsertionPoint(op);
    auto t1 = scf::tileUsingSCF(rewriter, cast<TilingInterface>(*op), o1);
    if (failed(t1))
      return failure();
    rewriter.replaceOp(op, t1->replacements);

    // Level 2: the reduction in steps of tk (scf.for with the accumulator
    // tile as iter_arg).
    auto inner = cast<TilingInterface>(t1->tiledOps.back());
    SmallVector<int64_t> red = batched ? SmallVector<int64_t>{0, 0, 0, tk}
                                       : SmallVector<int64_t>{0, 0, tk};
    scf::SCFTilingOptions o2;
    o2.setTileSizes(asOFR(rewriter, red));
    rewriter.setInsertionPoint(inner);
    auto t2 = scf::tileUsingSCF(rewriter, inner, o2);
    if (failed(t2))
      return failure();
    rewriter.replaceOp(inner, t2->replacements);

    Operation *tile = t2->tiledOps.back();
    rewriter.setInsertionPoint(tile);
    auto vec = linalg::vectorize(rewriter, tile, /*inputVectorSizes=*/{},
                                 /*inputScalableVecDims=*/{},
                                 /*vectorizeNDExtract=*/false,
                                 /*flatten1DDepthwiseConv=*/false,
                                 /*assumeDynamicDimsMatchVecSizes=*/false,
                                 /*createNamedContraction=*/true);
    if (failed(vec))
      return failure();
    rewriter.replaceOp(tile, vec->replacements);
    return success();
  }
};

} // namespace
