//===- LLMQuantUtils.cpp - helpers of qopt-smoothquant / qopt-llm-int8 ----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "LLMQuantUtils.h"
#include "qopt/Support/DerivedConstant.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "qopt/Transforms/OutlierQuant.h"

using namespace mlir;
using namespace mlir::qopt;

LogicalResult mlir::qopt::collectActGroups(
    ModuleOp module, const ExcludeFilter &filter, StringRef passName,
    llvm::MapVector<Value, ActGroup> &groups) {
  LogicalResult result = success();
  module.walk([&](MatMulOp op) {
    Attribute a = op->getAttr(kActAbsMaxAttrName);
    if (!a)
      return WalkResult::advance();
    op->removeAttr(kActAbsMaxAttrName);
    auto m = matchWeightMatMul(op);
    if (!m || filter.excludes(*m))
      return WalkResult::advance();
    auto vals = readF32(a);
    if (!vals || (int64_t)vals->size() != m->K) {
      op.emitError(passName) << ": layer '" << m->layer << "': "
                             << kActAbsMaxAttrName
                             << " must be an f32 tensor of " << m->K
                             << " elements (one per input channel)";
      result = failure();
      return WalkResult::interrupt();
    }
    ActGroup &g = groups[op.getLhs()];
    g.x = op.getLhs();
    if (g.actMax.empty())
      g.actMax.assign(m->K, 0.0f);
    for (int64_t k = 0; k < m->K; ++k)
      g.actMax[k] = std::max(g.actMax[k], std::fabs((*vals)[k]));
    g.members.push_back(*m);
    return WalkResult::advance();
  });
  return result;
}

Value mlir::qopt::makeF32Weight(OpBuilder &b, Location loc,
                                RankedTensorType type, ArrayRef<float> values,
                                Attribute like, StringRef suffix) {
  return arith::ConstantOp::create(
      b, loc, cast<TypedAttr>(derivedConstantAttr(type, values, like, suffix)));
}

Value mlir::qopt::channelwise(OpBuilder &b, Location loc, Value x,
                              ArrayRef<float> v, ChannelOp kind) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t R = xt.getRank();
  Value vec = makeF32Constant(b, loc, {(int64_t)v.size()}, v);
  Value init = tensor::EmptyOp::create(b, loc, xt.getShape(),
                                       xt.getElementType());
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(R),
      AffineMap::get(R, 0, {getAffineDimExpr(R - 1, ctx)}, ctx),
      b.getMultiDimIdentityMap(R)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{xt}, ValueRange{x, vec}, ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(R, utils::IteratorType::parallel),
             [kind](OpBuilder &nb, Location l, ValueRange a) {
               Value r = kind == ChannelOp::Mul
                             ? (Value)arith::MulFOp::create(nb, l, a[0], a[1])
                             : (Value)arith::DivFOp::create(nb, l, a[0], a[1]);
               linalg::YieldOp::create(nb, l, r);
             })
      .getResult(0);
}

std::vector<float> mlir::qopt::smoothQuantFactors(ArrayRef<float> actMax,
                                                  ArrayRef<float> weightMax,
                                                  double alpha) {
  std::vector<float> s(actMax.size(), 1.0f);
  for (size_t k = 0; k < s.size(); ++k) {
    double a = std::fabs(actMax[k]), w = std::fabs(weightMax[k]);
    if (!(a > 0) || !(w > 0) || !std::isfinite(a) || !std::isfinite(w))
      continue;
    double v = std::pow(a, alpha) / std::pow(w, 1.0 - alpha);
    // Keep the factors in a range where x / s and w * s stay normal floats.
    s[k] = (float)std::clamp(v, 1e-6, 1e6);
  }
  return s;
}
