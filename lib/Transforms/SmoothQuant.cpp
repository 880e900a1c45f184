//===- SmoothQuant.cpp - migrate activation outliers into the weights -----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// SmoothQuant (Xiao et al. 2023): Y = X W = (X diag(1/s)) (diag(s) W) with
// s_k = max|X_k|^a / max|W_k|^(1-a), so the per-tensor activation scale no
// longer has to cover a few outlier channels. Matmuls sharing an input
// (q/k/v, gate/up) share s (max|W_k| over all their weights).
//
// X / s is folded into the op producing X when that op is the channel-wise
// affine tail of a norm (RMSNorm: x * gamma; LayerNorm: x * gamma + beta,
// as linalg.generic with constant [K] vectors) and X feeds only the
// group: gamma / s, beta / s. Otherwise an explicit x / s (elementwise,
// fused into the following activation quantization by the lowering) is
// inserted. W * s replaces each weight.
//
// The statistics come from calibration as qopt.act_absmax on each matmul;
// the attribute is consumed, so the pass is idempotent.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "LLMQuantUtils.h"
#include "qopt/Transforms/OutlierQuant.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSMOOTHQUANTPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// `g` is `x * c` or `x + c` (elementwise, all parallel) with c an f32
/// constant of K elements broadcast along the last dimension. Returns the
/// index of c's operand and whether it is a multiply.
std::optional<std::pair<unsigned, bool>> channelAffine(linalg::GenericOp g,
                                                       int64_t K) {
  if (g.getNumDpsInputs() != 2 || g.getNumDpsInits() != 1 ||
      g->getNumResults() != 1 ||
      llvm::any_of(g.getIteratorTypesArray(), [](utils::IteratorType t) {
        return t != utils::IteratorType::parallel;
      }))
    return std::nullopt;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return std::nullopt;
  Operation &op = body.front();
  bool isMul = isa<arith::MulFOp>(op);
  if (!isMul && !isa<arith::AddFOp>(op))
    return std::nullopt;
  if (body.getTerminator()->getOperand(0) != op.getResult(0))
    return std::nullopt;
  auto a0 = dyn_cast<BlockArgument>(op.getOperand(0));
  auto a1 = dyn_cast<BlockArgument>(op.getOperand(1));
  if (!a0 || !a1 || a0.getOwner() != &body || a1.getOwner() != &body ||
      a0.getArgNumber() + a1.getArgNumber() != 1)
    return std::nullopt;
  auto rt = cast<RankedTensorType>(g->getResult(0).getType());
  int64_t R = rt.getRank();
  if (R < 1 || rt.getDimSize(R - 1) != K ||
      !g.getIndexingMapsArray()[2].isIdentity())
    return std::nullopt;
  for (unsigned c = 0; c < 2; ++c) {
    auto cst = g.getDpsInputs()[c].getDefiningOp<arith::ConstantOp>();
    Value other = g.getDpsInputs()[1 - c];
    if (!cst || other.getType() != rt ||
        !g.getIndexingMapsArray()[1 - c].isIdentity())
      continue;
    auto ct = dyn_cast<RankedTensorType>(cst.getType());
    if (!ct || !ct.getElementType().isF32() || ct.getNumElements() != K)
      continue;
    AffineMap m = g.getIndexingMapsArray()[c];
    if (m.getNumResults() != (unsigned)ct.getRank() || ct.getRank() < 1)
      continue;
    bool ok = m.getResult(ct.getRank() - 1) ==
              getAffineDimExpr(R - 1, g.getContext());
    for (int64_t i = 0; i + 1 < ct.getRank(); ++i) {
      auto e = dyn_cast<AffineConstantExpr>(m.getResult(i));
      ok &= ct.getDimSize(i) == 1 && ((e && e.getValue() == 0) ||
                                      m.getResult(i) ==
                                          getAffineDimExpr(i, g.getContext()));
    }
    if (ok)
      return std::make_pair(c, isMul);
  }
  return std::nullopt;
}

/// Replaces the constant operand `idx` of `g` by its values divided by s.
bool divideConstant(linalg::GenericOp g, unsigned idx, ArrayRef<float> s) {
  auto cst = g.getDpsInputs()[idx].getDefiningOp<arith::ConstantOp>();
  auto vals = readF32(cst.getValue());
  if (!vals)
    return false;
  for (size_t k = 0; k < vals->size(); ++k)
    (*vals)[k] /= s[k];
  OpBuilder b(g);
  Value nc = makeF32Weight(b, cst.getLoc(),
                           cast<RankedTensorType>(cst.getType()), *vals,
                           cst.getValue(), ".smooth");
  g->setOperand(idx, nc);
  if (cst->use_empty())
    cst->erase();
  return true;
}

/// Folds x / s into the norm producing x; false if there is none.
bool foldIntoNorm(ActGroup &g, ArrayRef<float> s) {
  auto gen = g.x.getDefiningOp<linalg::GenericOp>();
  if (!gen)
    return false;
  int64_t K = (int64_t)s.size();
  for (OpOperand &u : g.x.getUses())
    if (!llvm::any_of(g.members, [&](WeightMatMul &m) {
          return u.getOwner() == m.op.getOperation() &&
                 u.getOperandNumber() == 0;
        }))
      return false;
  auto aff = channelAffine(gen, K);
  if (!aff)
    return false;
  if (aff->second) // x * gamma
    return divideConstant(gen, aff->first, s);
  // x * gamma + beta: both must be scaled, and x * gamma must feed only the add.
  Value v = gen.getDpsInputs()[1 - aff->first];
  auto mul = v.getDefiningOp<linalg::GenericOp>();
  if (!mul || !v.hasOneUse())
    return false;
  auto maff = channelAffine(mul, K);
  if (!maff || !maff->second)
    return false;
  return divideConstant(mul, maff->first, s) &&
         divideConstant(gen, aff->first, s);
}

struct QOptSmoothQuantPass
    : qopt::impl::QOptSmoothQuantPassBase<QOptSmoothQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      module.emitError("qopt-smoothquant: alpha must be in [0, 1], got ")
          << alpha;
      return signalPassFailure();
    }
    ExcludeFilter filter;
    std::string err;
    if (failed(filter.init(exclude, err))) {
      module.emitError("qopt-smoothquant: bad exclude regex '")
          << exclude << "': " << err;
      return signalPassFailure();
    }
    llvm::MapVector<Value, ActGroup> groups;
    if (failed(collectActGroups(module, filter, "qopt-smoothquant", groups)))
      return signalPassFailure();
    for (auto &[x, g] : groups) {
      int64_t K = (int64_t)g.actMax.size();
      double a = alpha;
      for (WeightMatMul &m : g.members)
        if (auto f = m.op->getAttrOfType<FloatAttr>(kSmoothAlphaAttrName))
          a = f.getValueAsDouble();
      // Read every weight first: nothing changes unless all are readable.
      std::vector<std::vector<float>> ws;
      std::vector<float> wMax(K, 0.0f);
      for (WeightMatMul &m : g.members) {
        auto d = readF32(m.weight.getValue());
        if (!d) {
          m.weight.emitError("qopt-smoothquant: cannot read the data of "
                             "weight '")
              << m.weightName << "'";
          return signalPassFailure();
        }
        for (int64_t k = 0; k < K; ++k)
          for (int64_t n = 0; n < m.N; ++n)
            wMax[k] = std::max(wMax[k], std::fabs((*d)[k * m.N + n]));
        ws.push_back(std::move(*d));
      }
      std::vector<float> s = smoothQuantFactors(g.actMax, wMax, a);
      auto xt = cast<RankedTensorType>(x.getType());
      bool folded = foldIntoNorm(g, s);
      if (!folded) {
        if (!xt.hasStaticShape())
          continue; // no place for x / s: leave the group unsmoothed
        OpBuilder b(ctx);
        b.setInsertionPointAfterValue(x);
        Value xs = channelwise(b, x.getLoc(), x, s, ChannelOp::Div);
        for (WeightMatMul &m : g.members)
          m.op.getLhsMutable().assign(xs);
      }
      for (size_t i = 0; i < g.members.size(); ++i) {
        WeightMatMul &m = g.members[i];
        std::vector<float> &w = ws[i];
        for (int64_t k = 0; k < K; ++k)
          for (int64_t n = 0; n < m.N; ++n)
            w[k * m.N + n] *= s[k];
        OpBuilder b(m.weight);
        Value nw = makeF32Weight(b, m.weight.getLoc(),
                                 cast<RankedTensorType>(m.weight.getType()), w,
                                 m.weight.getValue(), ".smooth");
        m.op.getRhsMutable().assign(nw);
        if (m.weight->use_empty())
          m.weight->erase();
        m.op->setAttr(kSmoothAlphaAttrName, FloatAttr::get(
                                                Float64Type::get(ctx), a));
        m.op->setAttr("qopt.smooth_fold",
                      StringAttr::get(ctx, folded ? "norm" : "input"));
      }
    }
  }
};
} // namespace
