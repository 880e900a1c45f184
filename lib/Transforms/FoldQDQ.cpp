//===- FoldQDQ.cpp - QDQ graphs to integer kernels -------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.matmul(qopt.dequantize(xq, sx, zx), qopt.dequantize(wq, sw, zw))
//   -> qopt.dequantize(qopt.qmatmul(xq, wq, zx, zw), sx * sw, 0)
// (docs/semantics.md §5 and §9). A following qopt.quantize (the output's Q
// parameters) stays and consumes the new f32 value.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFOLDQDQPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

bool narrowInt(Type t) {
  auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return it && it.getWidth() <= 8;
}

/// sx (0-D) * sw (0-D or 1-D): folded on the host when both are dense
/// constants, else a linalg.generic. f32 multiply either way.
Value combinedScale(PatternRewriter &b, Location loc, Value sx, Value sw) {
  auto swt = cast<RankedTensorType>(sw.getType());
  DenseFPElementsAttr ax, aw;
  if (matchPattern(sx, m_Constant(&ax)) && matchPattern(sw, m_Constant(&aw))) {
    float x = ax.getSplatValue<APFloat>().convertToFloat();
    SmallVector<float> v;
    for (APFloat f : aw.getValues<APFloat>())
      v.push_back(x * f.convertToFloat());
    auto attr = DenseElementsAttr::get(swt, ArrayRef<float>(v));
    return arith::ConstantOp::create(b, loc, swt, attr);
  }
  int64_t R = swt.getRank();
  Value init = tensor::EmptyOp::create(b, loc, swt.getShape(),
                                       swt.getElementType());
  SmallVector<AffineMap> maps = {AffineMap::get(R, 0, {}, b.getContext()),
                                 b.getMultiDimIdentityMap(R),
                                 b.getMultiDimIdentityMap(R)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{swt}, ValueRange{sx, sw}, ValueRange{init},
             maps,
             SmallVector<utils::IteratorType>(R, utils::IteratorType::parallel),
             [](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(
                   nb, l, (Value)arith::MulFOp::create(nb, l, a[0], a[1]));
             })
      .getResult(0);
}

struct FoldQDQMatMul : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &b) const override {
    auto dx = op.getLhs().getDefiningOp<DequantizeOp>();
    auto dw = op.getRhs().getDefiningOp<DequantizeOp>();
    if (!dx || !dw)
      return b.notifyMatchFailure(op, "operands are not dequantized");
    auto ot = op.getResult().getType();
    auto xt = dx.getInput().getType(), wt = dw.getInput().getType();
    if (!ot.getElementType().isF32() || !ot.hasStaticShape() ||
        xt.getRank() < 2 || wt.getRank() < 2)
      return b.notifyMatchFailure(op, "f32 static matrices only");
    if (!narrowInt(xt) || !narrowInt(wt))
      return b.notifyMatchFailure(op, "storage wider than 8 bits");
    if (dx.getBlockSize() != 0 || dw.getBlockSize() != 0)
      return b.notifyMatchFailure(op, "blocked quantization");
    // x per tensor; w per tensor or per output column (axis = last dim).
    auto sxt = dx.getScale().getType(), swt = dw.getScale().getType();
    if (sxt.getRank() != 0)
      return b.notifyMatchFailure(op, "per-axis activation");
    int64_t wAxis = dw.getAxis() < 0 ? dw.getAxis() + wt.getRank()
                                     : dw.getAxis();
    if (swt.getRank() == 1 && wAxis != wt.getRank() - 1)
      return b.notifyMatchFailure(op, "weight not per output column");
    Location loc = op.getLoc();
    auto accTy = RankedTensorType::get(ot.getShape(), b.getI32Type());
    Value acc = QMatMulOp::create(b, loc, accTy, dx.getInput(), dw.getInput(),
                                  dx.getZeroPoint(), dw.getZeroPoint(),
                                  dx.getIsUnsigned(), dw.getIsUnsigned());
    Value scale = combinedScale(b, loc, dx.getScale(), dw.getScale());
    auto zt = RankedTensorType::get(swt.getShape(), b.getI32Type());
    Value zero = arith::ConstantOp::create(
        b, loc, zt, DenseElementsAttr::get(zt, b.getI32IntegerAttr(0)));
    b.replaceOpWithNewOp<DequantizeOp>(op, ot, acc, scale, zero,
                                       (uint64_t)(ot.getRank() - 1),
                                       /*block_size=*/0, /*is_unsigned=*/false);
    return success();
  }
};

struct QOptFoldQDQPass : qopt::impl::QOptFoldQDQPassBase<QOptFoldQDQPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldQDQMatMul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
