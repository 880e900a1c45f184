//===- LLMInt8.cpp - LLM.int8() mixed-precision decomposition -------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// LLM.int8() (Dettmers et al. 2022): the few input channels whose
// activations exceed a threshold (from calibration: qopt.act_absmax) go
// through a floating-point product, the rest through int8:
//
//   y = qopt.matmul(x * mask, W_in)             (quantized later: w8a8 ...)
//     + qopt.matmul(qopt.matmul(x, P), W_out)   (f32, qopt.keep_f32)
//
// mask is 0 on the outlier channels O and 1 elsewhere, W_in is W with the
// rows O zeroed, P [K, |O|] selects the outlier columns of x (one 1.0 per
// column: exact) and W_out [|O|, N] holds W's rows O. The masked input is
// what the activation quantizer sees, so its scale no longer covers the
// outliers. Matmuls sharing an input share the mask and the selection.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "LLMQuantUtils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "qopt/Transforms/OutlierQuant.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTLLMINT8PASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptLLMInt8Pass : qopt::impl::QOptLLMInt8PassBase<QOptLLMInt8Pass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (!(threshold > 0.0)) {
      module.emitError("qopt-llm-int8: threshold must be > 0, got ")
          << threshold;
      return signalPassFailure();
    }
    ExcludeFilter filter;
    std::string err;
    if (failed(filter.init(exclude, err))) {
      module.emitError("qopt-llm-int8: bad exclude regex '")
          << exclude << "': " << err;
      return signalPassFailure();
    }
    llvm::MapVector<Value, ActGroup> groups;
    if (failed(collectActGroups(module, filter, "qopt-llm-int8", groups)))
      return signalPassFailure();
    for (auto &[x, g] : groups) {
      int64_t K = (int64_t)g.actMax.size();
      std::vector<int64_t> outl;
      for (int64_t k = 0; k < K; ++k)
        if (g.actMax[k] > threshold)
          outl.push_back(k);
      auto xt = cast<RankedTensorType>(x.getType());
      for (WeightMatMul &m : g.members)
        m.op->setAttr(kOutlierChannelsAttrName,
                      IntegerAttr::get(IntegerType::get(ctx, 64),
                                       xt.hasStaticShape() ? outl.size() : 0));
      if (outl.empty() || !xt.hasStaticShape())
        continue;
      int64_t O = (int64_t)outl.size();
      OpBuilder b(ctx);
      b.setInsertionPointAfterValue(x);
      Location loc = x.getLoc();
      std::vector<float> mask(K, 1.0f), sel(K * O, 0.0f);
      for (int64_t j = 0; j < O; ++j) {
        mask[outl[j]] = 0.0f;
        sel[outl[j] * O + j] = 1.0f;
      }
      Value xin = channelwise(b, loc, x, mask, ChannelOp::Mul);
      Value p = makeF32Constant(b, loc, {K, O}, sel);
      SmallVector<int64_t> xoShape(xt.getShape());
      xoShape.back() = O;
      auto xoTy = RankedTensorType::get(xoShape, b.getF32Type());
      auto xo = MatMulOp::create(b, loc, xoTy, x, p);
      xo->setAttr(kKeepF32AttrName, UnitAttr::get(ctx));
      for (WeightMatMul &m : g.members) {
        auto w = readF32(m.weight.getValue());
        if (!w) {
          m.weight.emitError("qopt-llm-int8: cannot read the data of weight '")
              << m.weightName << "'";
          return signalPassFailure();
        }
        std::vector<float> wout(O * m.N);
        for (int64_t j = 0; j < O; ++j)
          for (int64_t n = 0; n < m.N; ++n) {
            float &v = (*w)[outl[j] * m.N + n];
            wout[j * m.N + n] = v;
            v = 0.0f;
          }
        OpBuilder wb(m.weight);
        Value win = makeF32Weight(wb, m.weight.getLoc(),
                                  cast<RankedTensorType>(m.weight.getType()),
                                  *w, m.weight.getValue(), ".int8part");
        Value wo = makeF32Weight(
            wb, m.weight.getLoc(),
            RankedTensorType::get({O, m.N}, wb.getF32Type()), wout,
            m.weight.getValue(), ".outliers");
        MatMulOp op = m.op;
        op.getLhsMutable().assign(xin);
        op.getRhsMutable().assign(win);
        if (m.weight->use_empty())
          m.weight->erase();
        OpBuilder ob(op);
        ob.setInsertionPointAfter(op);
        auto rt = op.getResult().getType();
        auto yo = MatMulOp::create(ob, op.getLoc(), rt, xo.getResult(), wo);
        yo->setAttr(kKeepF32AttrName, UnitAttr::get(ctx));
        int64_t R = rt.getRank();
        Value init = tensor::EmptyOp::create(ob, op.getLoc(), rt.getShape(),
                                             rt.getElementType());
        auto id = ob.getMultiDimIdentityMap(R);
        auto sum = linalg::GenericOp::create(
            ob, op.getLoc(), TypeRange{rt}, ValueRange{op.getResult(), yo},
            ValueRange{init}, SmallVector<AffineMap>{id, id, id},
            SmallVector<utils::IteratorType>(R, utils::IteratorType::parallel),
            [](OpBuilder &nb, Location l, ValueRange a) {
              linalg::YieldOp::create(
                  nb, l, (Value)arith::AddFOp::create(nb, l, a[0], a[1]));
            });
        op.getResult().replaceAllUsesExcept(sum.getResult(0), sum);
      }
    }
  }
};
} // namespace
