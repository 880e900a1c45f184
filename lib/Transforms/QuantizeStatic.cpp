//===- QuantizeStatic.cpp - w8a8 with calibrated activation scales ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
//   %y = qopt.matmul %x, %W {qopt.act_scale = s_x : f32, qopt.act_zp = z_x}
// ->
//   %xq  = qopt.quantize %x, s_x, z_x            (i8, or u8 with act-scheme=asym)
//   %acc = qopt.qmatmul %xq, %Wq, z_x, 0         (i32; Wq: i8 per output channel)
//   %y   = qopt.dequantize %acc, s_x * s_w[n], 0 {axis = last}   (f32 epilogue)
//
// The activation parameters are attributes (attached by the calibration
// driver from the statistics) so the rewrite replays from IR. Matmuls
// without them, or matched by `exclude`, stay f32. Weights: symmetric int8
// per output channel, zero point 0 (QuantMath::quantizeWeightKN).
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"
#include "qopt/Transforms/StaticQuant.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTQUANTIZESTATICPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptQuantizeStaticPass
    : qopt::impl::QOptQuantizeStaticPassBase<QOptQuantizeStaticPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (actScheme != "sym" && actScheme != "asym") {
      module.emitError("qopt-quantize-static: act-scheme must be sym or asym, "
                       "got '")
          << actScheme << "'";
      return signalPassFailure();
    }
    bool asym = actScheme == "asym";
    ExcludeFilter filter;
    std::string err;
    if (failed(filter.init(exclude, err))) {
      module.emitError("qopt-quantize-static: bad exclude regex '")
          << exclude << "': " << err;
      return signalPassFailure();
    }
    SmallVector<WeightMatMul> todo;
    module.walk([&](MatMulOp op) {
      if (!op->hasAttr(kActScaleAttrName))
        return;
      if (auto m = matchWeightMatMul(op))
        if (!filter.excludes(*m) && op.getLhs().getType().getRank() >= 2)
          todo.push_back(*m);
    });
    QRange ar = QRange::get(8, asym), wr = QRange::get(8, false);
    struct QW {
      Value wq;
      std::vector<float> scales;
    };
    llvm::DenseMap<Operation *, QW> weights;
    for (WeightMatMul &m : todo) {
      MatMulOp op = m.op;
      auto sAttr = op->getAttrOfType<FloatAttr>(kActScaleAttrName);
      auto zAttr = op->getAttrOfType<IntegerAttr>(kActZpAttrName);
      if (!sAttr) {
        op.emitError("qopt-quantize-static: ")
            << kActScaleAttrName << " must be a float attribute";
        return signalPassFailure();
      }
      float sx = (float)sAttr.getValueAsDouble();
      int64_t zx = zAttr ? zAttr.getInt() : 0;
      if (!(sx > 0.0f) || !std::isfinite(sx)) {
        op.emitError("qopt-quantize-static: layer '")
            << m.layer << "': activation scale must be finite and > 0, got "
            << sx;
        return signalPassFailure();
      }
      if (zx < ar.qmin || zx > ar.qmax || (!asym && zx != 0)) {
        op.emitError("qopt-quantize-static: layer '")
            << m.layer << "': activation zero point " << zx
            << " is not valid for act-scheme=" << actScheme;
        return signalPassFailure();
      }
      QW &qw = weights[m.weight];
      if (!qw.wq) {
        auto data = readF32(m.weight.getValue());
        if (!data) {
          m.weight.emitError("qopt-quantize-static: cannot read the data of "
                             "weight '")
              << m.weightName << "'";
          return signalPassFailure();
        }
        QuantizedWeight q = quantizeWeightKN(*data, m.K, m.N, 8,
                                             /*symmetric=*/true, 0);
        OpBuilder wb(m.weight);
        auto qTy = RankedTensorType::get({m.K, m.N}, wb.getI8Type());
        qw.wq = makeI8Constant(wb, m.weight.getLoc(), qTy, q.values,
                               m.weight.getValue(), ".q8");
        qw.wq.getDefiningOp()->setAttr("qopt.bits", wb.getI64IntegerAttr(8));
        qw.scales = std::move(q.scales);
      }
      (void)wr;
      OpBuilder b(op);
      Location loc = op.getLoc();
      auto lt = op.getLhs().getType();
      auto rt = op.getResult().getType();
      Value xs = makeF32Constant(b, loc, {}, {sx});
      Value xz = makeZpConstant(b, loc, {}, {(int32_t)zx});
      Value wz = makeZpConstant(b, loc, {}, {0});
      auto xqTy = RankedTensorType::get(lt.getShape(), b.getI8Type());
      Value xq = QuantizeOp::create(b, loc, xqTy, op.getLhs(), xs, xz,
                                    (uint64_t)1, (uint64_t)0, asym);
      auto accTy = RankedTensorType::get(rt.getShape(), b.getI32Type());
      auto qmm = QMatMulOp::create(b, loc, accTy, xq, qw.wq, xz, wz, asym,
                                   /*rhs_unsigned=*/false);
      std::vector<float> comb(m.N);
      for (int64_t n = 0; n < m.N; ++n)
        comb[n] = sx * qw.scales[n];
      Value cs = makeF32Constant(b, loc, {m.N}, comb);
      auto zTy = RankedTensorType::get({m.N}, b.getI32Type());
      Value cz = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(zTy, b.getI32IntegerAttr(0)));
      Value y = DequantizeOp::create(b, loc, rt, qmm.getResult(), cs, cz,
                                     (uint64_t)(rt.getRank() - 1), (uint64_t)0,
                                     false);
      for (NamedAttribute a : op->getDiscardableAttrs())
        qmm->setAttr(a.getName(), a.getValue());
      qmm->setAttr(kQuantAttrName, StringAttr::get(ctx, "w8a8"));
      op.getResult().replaceAllUsesWith(y);
      op.erase();
    }
    // Convs: x (after padding, which quantizes to z_x exactly) quantized
    // with the calibrated scale, int8 per-channel filter, integer conv.
    SmallVector<WeightConv> convs;
    module.walk([&](linalg::GenericOp op) {
      if (!op->hasAttr(kActScaleAttrName))
        return;
      if (auto c = matchWeightConv(op))
        if (!filter.excludes(c->layer, c->weightName))
          convs.push_back(*c);
    });
    for (WeightConv &c : convs) {
      Operation *op = c.op;
      auto sAttr = op->getAttrOfType<FloatAttr>(kActScaleAttrName);
      auto zAttr = op->getAttrOfType<IntegerAttr>(kActZpAttrName);
      float sx = sAttr ? (float)sAttr.getValueAsDouble() : 0.0f;
      int64_t zx = zAttr ? zAttr.getInt() : 0;
      if (!(sx > 0.0f) || !std::isfinite(sx) || zx < ar.qmin ||
          zx > ar.qmax || (!asym && zx != 0)) {
        op->emitError("qopt-quantize-static: layer '")
            << c.layer << "': invalid activation scale / zero point for "
            << "act-scheme=" << actScheme;
        return signalPassFailure();
      }
      auto data = readF32(c.weight.getValue());
      if (!data) {
        c.weight.emitError("qopt-quantize-static: cannot read the data of "
                           "filter '")
            << c.weightName << "'";
        return signalPassFailure();
      }
      QuantizedFilter q = quantizeFilter(*data, c.M, c.K, 8, true, 0);
      OpBuilder b(op);
      Location loc = op->getLoc();
      Value x = c.op.getDpsInputs()[0];
      auto xt = cast<RankedTensorType>(x.getType());
      Value xs = makeF32Constant(b, loc, {}, {sx});
      Value xz = makeZpConstant(b, loc, {}, {(int32_t)zx});
      Value xq = QuantizeOp::create(
          b, loc, RankedTensorType::get(xt.getShape(), b.getI8Type()), x, xs,
          xz, (uint64_t)1, (uint64_t)0, asym);
      Value wq = makeFilterConstant(b, c, q, 8);
      Operation *cst = c.weight;
      replaceWithIntegerConv(b, c, xq, xz, asym, xs, wq, q, "w8a8");
      if (cst->use_empty())
        cst->erase();
    }
    for (auto &[cst, qw] : weights)
      if (cst->use_empty())
        cst->erase();
  }
};
} // namespace
