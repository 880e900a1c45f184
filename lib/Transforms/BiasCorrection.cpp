//===- BiasCorrection.cpp - remove the mean output shift of quantization --===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// y = x Wq  ->  y - (E[x] Wq - E[x W]): quantization errors that do not
// average out over the calibration data shift every output channel's mean;
// subtracting the shift is a per-channel bias (Nagel et al. 2019, "empirical"
// bias correction with E[x] from the calibration inputs).
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTBIASCORRECTIONPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptBiasCorrectionPass
    : qopt::impl::QOptBiasCorrectionPassBase<QOptBiasCorrectionPass> {
  void runOnOperation() override {
    SmallVector<MatMulOp> todo;
    getOperation().walk([&](MatMulOp op) {
      if (op->hasAttr(kActMeanAttrName) && op->hasAttr(kOutMeanAttrName))
        todo.push_back(op);
    });
    MLIRContext *ctx = &getContext();
    for (MatMulOp op : todo) {
      auto mean = readF32(op->getAttr(kActMeanAttrName));
      auto outMean = readF32(op->getAttr(kOutMeanAttrName));
      op->removeAttr(kActMeanAttrName);
      op->removeAttr(kOutMeanAttrName);
      auto deq = op.getRhs().getDefiningOp<DequantizeOp>();
      auto wTy = dyn_cast<RankedTensorType>(op.getRhs().getType());
      auto yTy = dyn_cast<RankedTensorType>(op.getResult().getType());
      if (!deq || !wTy || wTy.getRank() != 2 || !yTy || !mean || !outMean)
        continue; // not quantized (f32 layer): nothing to correct
      int64_t K = wTy.getDimSize(0), N = wTy.getDimSize(1);
      if ((int64_t)mean->size() != K || (int64_t)outMean->size() != N) {
        op.emitError("qopt-bias-correction: ") << kActMeanAttrName << " / "
                                               << kOutMeanAttrName
                                               << " do not match the weight";
        return signalPassFailure();
      }
      auto wq = readDequantizedWeight(deq, K, N);
      if (!wq)
        continue;
      std::vector<double> shift(N, 0);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          shift[n] += (double)(*mean)[k] * (*wq)[k * N + n];
      std::vector<float> bias(N);
      for (int64_t n = 0; n < N; ++n)
        bias[n] = (float)((double)(*outMean)[n] - shift[n]);
      // y + bias, broadcast along the last dimension.
      OpBuilder b(op);
      b.setInsertionPointAfter(op);
      Location loc = op.getLoc();
      Value y = op.getResult();
      int64_t rank = yTy.getRank();
      Value c = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(RankedTensorType::get({N}, b.getF32Type()),
                                 ArrayRef<float>(bias)));
      SmallVector<Value> dyn;
      for (int64_t d = 0; d < rank; ++d)
        if (yTy.isDynamicDim(d))
          dyn.push_back(tensor::DimOp::create(b, loc, y, d));
      Value init = tensor::EmptyOp::create(b, loc, yTy, dyn);
      AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
      AffineMap last =
          AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
      SmallVector<utils::IteratorType> it(rank, utils::IteratorType::parallel);
      auto gen = linalg::GenericOp::create(
          b, loc, TypeRange{yTy}, ValueRange{y, c}, ValueRange{init},
          ArrayRef<AffineMap>{id, last, id}, it,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value s = arith::AddFOp::create(nb, l, args[0], args[1]);
            linalg::YieldOp::create(nb, l, s);
          });
      y.replaceAllUsesExcept(gen.getResult(0), gen);
    }
  }
};
} // namespace
