//===- QuantizeDynamic.cpp - w8a8-dynamic and w4a8 ------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.matmul(x: f32 [..., M0, K], W: f32 [K, N] constant) becomes
//
//   x2           = collapse x to [M, K]
//   xq, sx, zx   = qopt.dynamic_quantize x2 {per_row}       (run time)
//   per channel: acc = qopt.qmatmul xq, Wq[K, N], zx, zw  -> i32 [M, N]
//                y   = f32(acc) * sx[m] * sw[n]
//   per group:   xg  = transpose(expand(xq) [M, G, gs]) -> [G, M, gs]
//                acc = qopt.qmatmul xg, Wq[G, gs, N], zx, 0 -> i32 [G, M, N]
//                y   = sum_g f32(acc[g]) * sx[m] * sw[g, n]
//   expand y to [..., M0, N]
//
// Integer products stay integer (qmatmul, i32 accumulation); only the
// epilogue is f32.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEDYNAMICPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

Value zeroI8Scalar(OpBuilder &b, Location loc) {
  auto ty = RankedTensorType::get({}, b.getI8Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(ty, ArrayRef<int8_t>{0}));
}

struct QOptQuantizeDynamicPass
    : qopt::impl::QOptQuantizeDynamicPassBase<QOptQuantizeDynamicPass> {
  using Base::Base;

  LogicalResult check(ModuleOp module) {
    auto bad = [&](const Twine &msg) {
      module.emitError("qopt-quantize-dynamic: ") << msg;
      return failure();
    };
    if (weightBits != 8 && weightBits != 4)
      return bad("weight-bits must be 8 or 4, got " + Twine((int64_t)weightBits));
    if (weightScheme != "sym" && weightScheme != "asym")
      return bad("weight-scheme must be sym or asym, got '" + weightScheme +
                 "'");
    if (actScheme != "sym" && actScheme != "asym")
      return bad("act-scheme must be sym or asym, got '" + actScheme + "'");
    if (groupSize < 0)
      return bad("group-size must be >= 0");
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(check(module)))
      return signalPassFailure();
    ExcludeFilter filter;
    std::string err;
    if (failed(filter.init(exclude, err))) {
      module.emitError("qopt-quantize-dynamic: bad exclude regex '")
          << exclude << "': " << err;
      return signalPassFailure();
    }
    SmallVector<WeightMatMul> todo;
    module.walk([&](MatMulOp op) {
      auto m = matchWeightMatMul(op);
      if (!m || filter.excludes(*m))
        return;
      auto lt = op.getLhs().getType();
      if (lt.getRank() < 2 || !lt.hasStaticShape() ||
          !op.getType().hasStaticShape())
        return; // vectors and dynamic shapes stay f32
      todo.push_back(*m);
    });
    SmallVector<WeightConv> convs;
    module.walk([&](linalg::GenericOp op) {
      if (auto c = matchWeightConv(op))
        if (!filter.excludes(c->layer, c->weightName))
          convs.push_back(*c);
    });
    for (WeightMatMul &m : todo)
      if (failed(rewrite(m)))
        return signalPassFailure();
    for (WeightConv &c : convs)
      if (failed(rewriteConv(c)))
        return signalPassFailure();
    llvm::SmallPtrSet<Operation *, 16> weights;
    for (WeightMatMul &m : todo)
      weights.insert(m.weight);
    for (WeightConv &c : convs)
      weights.insert(c.weight);
    for (Operation *op : weights)
      if (op->use_empty())
        op->erase();
  }

  /// Quantized weight constants, shared by the matmuls of one constant.
  struct QW {
    Value wq, sw, zw;
    int64_t G = 1, gs = 0;
  };
  llvm::DenseMap<Operation *, QW> cache;
  /// One dynamic_quantize per activation (q/k/v and gate/up share theirs).
  struct DQ {
    Value xq, sx, zx;
    Block *block;
  };
  llvm::DenseMap<Value, DQ> actCache;

  FailureOr<QW> weightFor(WeightMatMul &m) {
    auto it = cache.find(m.weight);
    if (it != cache.end())
      return it->second;
    auto data = readF32(m.weight.getValue());
    if (!data) {
      m.weight.emitError("qopt-quantize-dynamic: cannot read the data of "
                         "weight '")
          << m.weightName << "'";
      return failure();
    }
    int64_t gs = weightBits == 4 ? groupSize : 0;
    if (gs >= m.K)
      gs = 0;
    if (gs > 0 && m.K % gs) {
      m.op.emitError("qopt-quantize-dynamic: K = ")
          << m.K << " of layer '" << m.layer
          << "' is not a multiple of group-size " << gs;
      return failure();
    }
    bool sym = weightScheme == "sym";
    QuantizedWeight q = quantizeWeightKN(*data, m.K, m.N, weightBits, sym, gs);
    OpBuilder b(m.weight);
    Location loc = m.weight.getLoc();
    QW r;
    r.G = q.numGroups;
    r.gs = q.groupSize;
    if (r.G > 1 && !sym) {
      // Fold the int4 zero points into the weight: q - zp is in [-15, 15],
      // exact in i8, so qmatmul needs no per-group rhs zero point.
      for (int64_t k = 0; k < m.K; ++k)
        for (int64_t n = 0; n < m.N; ++n)
          q.values[k * m.N + n] = (int8_t)(q.values[k * m.N + n] -
                                           q.zeroPoints[(k / r.gs) * m.N + n]);
    }
    SmallVector<int64_t> shape = {m.K, m.N};
    if (r.G > 1)
      shape = {r.G, r.gs, m.N};
    auto qTy = RankedTensorType::get(shape, b.getI8Type());
    r.wq = makeWeightConstant(b, loc, qTy, q.values, m.weight.getValue(),
                              weightBits, packInt4);
    if (r.G > 1) {
      r.sw = makeF32Constant(b, loc, {r.G, m.N}, q.scales);
      r.zw = zeroI8Scalar(b, loc);
    } else {
      r.sw = makeF32Constant(b, loc, {m.N}, q.scales);
      r.zw = sym ? zeroI8Scalar(b, loc)
                 : makeZpConstant(b, loc, {m.N}, q.zeroPoints);
    }
    cache[m.weight] = r;
    return r;
  }

  /// Conv: the activation is quantized per tensor at run time (a conv has
  /// no token rows; per image would equal per tensor at batch 1), after the
  /// padding, which quantizes exactly to the zero point. The filter is int8
  /// or int4 per output channel (no groups: one i32 accumulator per output).
  LogicalResult rewriteConv(WeightConv &c) {
    auto data = readF32(c.weight.getValue());
    if (!data) {
      c.weight.emitError("qopt-quantize-dynamic: cannot read the data of "
                         "filter '")
          << c.weightName << "'";
      return failure();
    }
    bool asymAct = actScheme == "asym";
    QuantizedFilter q = quantizeFilter(*data, c.M, c.K, weightBits,
                                       weightScheme == "sym", 0);
    OpBuilder b(c.op);
    Location loc = c.op.getLoc();
    Value x = c.op.getDpsInputs()[0];
    auto xt = cast<RankedTensorType>(x.getType());
    std::string tag = weightBits == 8 ? "w8a8-dynamic" : "w4a8";
    auto dq = DynamicQuantizeOp::create(
        b, loc, RankedTensorType::get(xt.getShape(), b.getI8Type()),
        RankedTensorType::get({}, b.getF32Type()),
        RankedTensorType::get({}, b.getI8Type()), x, /*per_row=*/false,
        /*symmetric=*/!asymAct, /*is_unsigned=*/asymAct);
    dq->setAttr(kQuantAttrName, StringAttr::get(b.getContext(), tag));
    Value zx = asymAct ? dq.getZeroPoint() : zeroI8Scalar(b, loc);
    Value wq = makeFilterConstant(b, c, q, weightBits, packInt4);
    replaceWithIntegerConv(b, c, dq.getResult(), zx, asymAct, dq.getScale(),
                           wq, q, tag);
    return success();
  }

  LogicalResult rewrite(WeightMatMul &m) {
    FailureOr<QW> qw = weightFor(m);
    if (failed(qw))
      return failure();
    MatMulOp op = m.op;
    OpBuilder b(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
    auto lt = op.getLhs().getType();
    auto ot = op.getType();
    int64_t K = m.K, N = m.N, M = lt.getNumElements() / K;
    bool asymAct = actScheme == "asym";
    auto cached = actCache.find(op.getLhs());
    if (cached == actCache.end() || cached->second.block != op->getBlock()) {
      // x -> [M, K], quantized at run time (walk order is program order, so
      // later matmuls of the same activation in this block are dominated).
      Value x = op.getLhs();
      if (lt.getRank() != 2) {
        ReassociationIndices lead =
            llvm::to_vector(llvm::seq<int64_t>(0, lt.getRank() - 1));
        x = tensor::CollapseShapeOp::create(
            b, loc, RankedTensorType::get({M, K}, f32), x,
            ArrayRef<ReassociationIndices>{lead, {lt.getRank() - 1}});
      }
      SmallVector<int64_t> pshape;
      if (perToken)
        pshape.push_back(M);
      auto dq = DynamicQuantizeOp::create(
          b, loc, RankedTensorType::get({M, K}, i8),
          RankedTensorType::get(pshape, f32), RankedTensorType::get(pshape, i8),
          x, (bool)perToken, /*symmetric=*/!asymAct, /*is_unsigned=*/asymAct);
      dq->setAttr(kQuantAttrName, StringAttr::get(
                                      ctx, weightBits == 8 ? "w8a8-dynamic"
                                                           : "w4a8"));
      DQ e{dq.getResult(), dq.getScale(),
           asymAct ? dq.getZeroPoint() : zeroI8Scalar(b, loc), op->getBlock()};
      cached = actCache.insert_or_assign(op.getLhs(), e).first;
    }
    Value xq = cached->second.xq, sx = cached->second.sx,
          zx = cached->second.zx;

    int64_t R = qw->G > 1 ? 3 : 2;
    Value acc;
    if (qw->G == 1) {
      acc = QMatMulOp::create(b, loc, RankedTensorType::get({M, N}, i32), xq,
                              qw->wq, zx, qw->zw, asymAct, false);
    } else {
      int64_t G = qw->G, gs = qw->gs;
      Value x3 = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({M, G, gs}, i8), xq,
          ArrayRef<ReassociationIndices>{{0}, {1, 2}});
      Value init = tensor::EmptyOp::create(b, loc, {G, M, gs}, i8);
      Value xg = linalg::TransposeOp::create(b, loc, x3, init,
                                             ArrayRef<int64_t>{1, 0, 2})
                     .getResult()[0];
      acc = QMatMulOp::create(b, loc, RankedTensorType::get({G, M, N}, i32),
                              xg, qw->wq, zx, qw->zw, asymAct, false);
    }
    // Epilogue: y[m, n] = sum_g f32(acc[g, m, n]) * sx[m] * sw[g, n].
    // Loop dims: d0 = m, d1 = n (parallel), d2 = g (reduction, grouped only).
    AffineExpr d0 = b.getAffineDimExpr(0), d1 = b.getAffineDimExpr(1);
    AffineExpr d2 = b.getAffineDimExpr(2);
    SmallVector<AffineMap> maps;
    if (R == 3) {
      maps.push_back(AffineMap::get(3, 0, {d2, d0, d1}, ctx));
      maps.push_back(AffineMap::get(3, 0, perToken ? ArrayRef<AffineExpr>{d0}
                                                   : ArrayRef<AffineExpr>{},
                                    ctx));
      maps.push_back(AffineMap::get(3, 0, {d2, d1}, ctx));
      maps.push_back(AffineMap::get(3, 0, {d0, d1}, ctx));
    } else {
      maps.push_back(AffineMap::get(2, 0, {d0, d1}, ctx));
      maps.push_back(AffineMap::get(2, 0, perToken ? ArrayRef<AffineExpr>{d0}
                                                   : ArrayRef<AffineExpr>{},
                                    ctx));
      maps.push_back(AffineMap::get(2, 0, {d1}, ctx));
      maps.push_back(AffineMap::get(2, 0, {d0, d1}, ctx));
    }
    SmallVector<utils::IteratorType> its(2, utils::IteratorType::parallel);
    if (R == 3)
      its.push_back(utils::IteratorType::reduction);
    Value init = tensor::EmptyOp::create(b, loc, {M, N}, f32);
    if (R == 3) {
      Value zero = arith::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(0));
      init = linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{init})
                 .getResult(0);
    }
    bool grouped = R == 3;
    Value y = linalg::GenericOp::create(
                  b, loc, TypeRange{init.getType()},
                  ValueRange{acc, sx, qw->sw}, ValueRange{init}, maps, its,
                  [&](OpBuilder &nb, Location l, ValueRange a) {
                    Value v = arith::SIToFPOp::create(nb, l, f32, a[0]);
                    v = arith::MulFOp::create(nb, l, v, a[1]);
                    v = arith::MulFOp::create(nb, l, v, a[2]);
                    if (grouped)
                      v = arith::AddFOp::create(nb, l, a[3], v);
                    linalg::YieldOp::create(nb, l, v);
                  })
                  .getResult(0);
    if (ot.getRank() != 2) {
      ReassociationIndices lead =
          llvm::to_vector(llvm::seq<int64_t>(0, ot.getRank() - 1));
      y = tensor::ExpandShapeOp::create(
          b, loc, ot, y,
          ArrayRef<ReassociationIndices>{lead, {ot.getRank() - 1}});
    }
    std::string tag = weightBits == 8 ? "w8a8-dynamic" : "w4a8";
    Operation *qm = acc.getDefiningOp();
    qm->setAttr(kQuantAttrName, StringAttr::get(ctx, tag));
    if (!m.layer.empty())
      qm->setAttr(kLayerAttrName, StringAttr::get(ctx, m.layer));
    op.replaceAllUsesWith(y);
    op.erase();
    return success();
  }
};
} // namespace
