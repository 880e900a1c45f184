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

#include "QuantUtils.h"

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
    // Gemm transB: rhs = transpose(DQ(w [N, K])), per row of w = per column.
    auto tr = op.getRhs().getDefiningOp<linalg::TransposeOp>();
    if (!dw && tr && tr.getPermutation() == ArrayRef<int64_t>{1, 0})
      dw = tr.getInput().getDefiningOp<DequantizeOp>();
    else
      tr = nullptr;
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
    if (swt.getRank() == 1 && wAxis != (tr ? 0 : wt.getRank() - 1))
      return b.notifyMatchFailure(op, "weight not per output column");
    Location loc = op.getLoc();
    Value wq = dw.getInput();
    if (tr) {
      Value init = tensor::EmptyOp::create(
          b, loc, {wt.getDimSize(1), wt.getDimSize(0)}, wt.getElementType());
      wq = linalg::TransposeOp::create(b, loc, wq, init,
                                       ArrayRef<int64_t>{1, 0})
               .getResult()[0];
    }
    auto accTy = RankedTensorType::get(ot.getShape(), b.getI32Type());
    Value acc = QMatMulOp::create(b, loc, accTy, dx.getInput(), wq,
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

/// Follows reshapes (and, for x, a zero tensor.pad) from a conv operand
/// back to a qopt.dequantize; `chain` gets the ops, last applied first.
DequantizeOp traceToDequantize(Value v, SmallVectorImpl<Operation *> &chain,
                               bool allowPad) {
  while (Operation *d = v.getDefiningOp()) {
    if (auto dq = dyn_cast<DequantizeOp>(d))
      return dq;
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(d)) {
      chain.push_back(d);
      v = d->getOperand(0);
      continue;
    }
    auto pad = dyn_cast<tensor::PadOp>(d);
    FloatAttr pv;
    if (allowPad && pad && pad.getConstantPaddingValue() &&
        matchPattern(pad.getConstantPaddingValue(), m_Constant(&pv)) &&
        pv.getValue().isZero() && pad.getLow().empty() &&
        pad.getHigh().empty()) {
      chain.push_back(d);
      v = pad.getSource();
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

/// Replays `chain` (last applied first) on the integer value `v`; a pad
/// pads with `padValue` (the zero point, which dequantizes to 0).
Value replayChain(PatternRewriter &b, Location loc, Value v,
                  ArrayRef<Operation *> chain, Value padValue) {
  for (Operation *op : llvm::reverse(chain)) {
    auto et = cast<RankedTensorType>(v.getType()).getElementType();
    auto rt = RankedTensorType::get(
        cast<RankedTensorType>(op->getResult(0).getType()).getShape(), et);
    if (auto e = dyn_cast<tensor::ExpandShapeOp>(op)) {
      v = tensor::ExpandShapeOp::create(b, loc, rt, v,
                                        e.getReassociationIndices());
    } else if (auto c = dyn_cast<tensor::CollapseShapeOp>(op)) {
      v = tensor::CollapseShapeOp::create(b, loc, rt, v,
                                          c.getReassociationIndices());
    } else {
      auto p = cast<tensor::PadOp>(op);
      v = tensor::PadOp::create(b, loc, rt, v, p.getMixedLowPad(),
                                p.getMixedHighPad(), padValue);
    }
  }
  return v;
}

/// conv(DQ(xq, sx, zx) [padded], DQ(wq, sw, zw)) with x per tensor and w per
/// tensor or per output channel (axis 0 of the ONNX filter) ->
/// integer conv (i32) with epilogue f32(acc) * f32(sx * sw[m]).
struct FoldQDQConv : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &b) const override {
    if (!op->hasAttr(kConvAttrName) || op.getNumDpsInputs() != 2)
      return b.notifyMatchFailure(op, "not an importer conv");
    SmallVector<Operation *> xc, wc;
    DequantizeOp dx = traceToDequantize(op.getDpsInputs()[0], xc, true);
    DequantizeOp dw = traceToDequantize(op.getDpsInputs()[1], wc, false);
    if (!dx || !dw)
      return b.notifyMatchFailure(op, "operands are not dequantized");
    auto xt = dx.getInput().getType(), wt = dw.getInput().getType();
    auto ft = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    if (!narrowInt(xt) || !narrowInt(wt) || dx.getBlockSize() != 0 ||
        dw.getBlockSize() != 0 || !dx.getType().getElementType().isF32() ||
        !dw.getType().getElementType().isF32() || !ft.hasStaticShape())
      return b.notifyMatchFailure(op, "not 8-bit f32 QDQ");
    auto sxt = dx.getScale().getType(), swt = dw.getScale().getType();
    int64_t wAxis = dw.getAxis() < 0 ? dw.getAxis() + wt.getRank()
                                     : dw.getAxis();
    if (sxt.getRank() != 0 || (swt.getRank() == 1 && wAxis != 0) ||
        swt.getRank() > 1)
      return b.notifyMatchFailure(op, "x not per tensor or w not per channel");
    Location loc = op.getLoc();
    int64_t G = ft.getDimSize(0), Mg = ft.getDimSize(1);
    // The zero point as the padding value of the integer input.
    Value zxScalar = tensor::ExtractOp::create(b, loc, dx.getZeroPoint(),
                                               ValueRange{});
    Value xq = replayChain(b, loc, dx.getInput(), xc, zxScalar);
    Value wq = replayChain(b, loc, dw.getInput(), wc, Value());
    // Per channel [M] -> [G, M/G].
    auto perChannel = [&](Value v) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      if (t.getRank() == 0)
        return v;
      return tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({G, Mg}, t.getElementType()), v,
          ArrayRef<ReassociationIndices>{{0, 1}});
    };
    Value scale = perChannel(combinedScale(b, loc, dx.getScale(),
                                           dw.getScale()));
    Value y = buildIntegerConv(b, op, xq, dx.getZeroPoint(),
                               dx.getIsUnsigned(), wq,
                               perChannel(dw.getZeroPoint()),
                               dw.getIsUnsigned(), ValueRange{scale}, "qdq");
    b.replaceOp(op, y);
    return success();
  }
};

struct QOptFoldQDQPass : qopt::impl::QOptFoldQDQPassBase<QOptFoldQDQPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldQDQMatMul, FoldQDQConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
