//===- AWQ.cpp - activation-aware weight scaling + clipping ---------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Layers sharing an input x: x W_i = (x / s) (diag(s) W_i). s comes from
// the search in lib/Transforms/LLMQuant.cpp (awqSearchScales); 1/s goes
// into the input (a norm weight when possible), diag(s) W_i is quantized
// with a searched clipping ratio (or left f32 for qopt-gptq).
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"
#include "qopt/Support/DerivedConstant.h"

#include "QuantUtils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "qopt/Transforms/LLMQuant.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTAWQPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// A [K, N] f32 weight constant named after the original (".awq").
Value makeWeight(OpBuilder &b, WeightMatMul m, ArrayRef<float> v) {
  auto ty = cast<RankedTensorType>(m.weight.getType());
  return arith::ConstantOp::create(
      b, m.weight.getLoc(),
      cast<TypedAttr>(derivedConstantAttr(ty, v, m.weight.getValue(), ".awq")));
}

/// If `x` is `linalg.generic(a * c)` with c a constant [K] broadcast along
/// the last dimension and all users of x are in `group`, multiplies c by
/// `f` in place of a new op and returns true.
bool foldIntoProducer(Value x, ArrayRef<float> f,
                      const SmallVector<WeightMatMul> &group) {
  auto gen = x.getDefiningOp<linalg::GenericOp>();
  if (!gen || gen->getNumResults() != 1 || gen.getNumDpsInputs() != 2)
    return false;
  for (Operation *u : x.getUsers())
    if (!llvm::any_of(group, [&](WeightMatMul m) {
          return m.op.getOperation() == u;
        }))
      return false;
  Block &body = gen.getRegion().front();
  if (body.getOperations().size() != 2)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  if (!mul || body.getTerminator()->getOperand(0) != mul.getResult())
    return false;
  int64_t K = (int64_t)f.size();
  for (unsigned i = 0; i < 2; ++i) {
    Value in = gen.getDpsInputOperand(i)->get();
    auto cst = in.getDefiningOp<arith::ConstantOp>();
    auto ty = dyn_cast<RankedTensorType>(in.getType());
    if (!cst || !ty || ty.getShape() != ArrayRef<int64_t>{K})
      continue;
    AffineMap map = gen.getIndexingMapsArray()[i];
    unsigned rank = map.getNumDims();
    if (map.getNumResults() != 1 ||
        map.getResult(0) != getAffineDimExpr(rank - 1, gen.getContext()))
      continue;
    auto vals = readF32(cst.getValue());
    if (!vals)
      continue;
    for (int64_t k = 0; k < K; ++k)
      (*vals)[k] *= f[k];
    OpBuilder b(gen);
    Value nc = arith::ConstantOp::create(
        b, cst.getLoc(), DenseElementsAttr::get(ty, ArrayRef<float>(*vals)));
    gen->setOperand(i, nc);
    if (cst->use_empty())
      cst->erase();
    return true;
  }
  return false;
}

/// x * f (f broadcast along the last dimension) as a new linalg.generic.
Value scaleInput(Value x, ArrayRef<float> f) {
  auto ty = cast<RankedTensorType>(x.getType());
  OpBuilder b(x.getContext());
  b.setInsertionPointAfterValue(x);
  Location loc = x.getLoc();
  int64_t K = (int64_t)f.size(), rank = ty.getRank();
  Value c = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({K}, b.getF32Type()), f));
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < rank; ++d)
    if (ty.isDynamicDim(d))
      dyn.push_back(tensor::DimOp::create(b, loc, x, d));
  Value init = tensor::EmptyOp::create(b, loc, ty, dyn);
  MLIRContext *ctx = x.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap last = AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
  SmallVector<utils::IteratorType> it(rank, utils::IteratorType::parallel);
  auto gen = linalg::GenericOp::create(
      b, loc, TypeRange{ty}, ValueRange{x, c}, ValueRange{init},
      ArrayRef<AffineMap>{id, last, id}, it,
      [](OpBuilder &nb, Location l, ValueRange args) {
        Value m = arith::MulFOp::create(nb, l, args[0], args[1]);
        linalg::YieldOp::create(nb, l, m);
      });
  return gen.getResult(0);
}

struct QOptAWQPass : qopt::impl::QOptAWQPassBase<QOptAWQPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if ((bits != 8 && bits != 4) || (scheme != "sym" && scheme != "asym") ||
        groupSize < 0) {
      module.emitError("qopt-awq: bad options (bits 4|8, scheme sym|asym, "
                       "group-size >= 0)");
      return signalPassFailure();
    }
    llvm::MapVector<Value, SmallVector<WeightMatMul>> groups;
    module.walk([&](MatMulOp op) {
      if (!op->hasAttr(kHessianAttrName) || !op->hasAttr(kActMeanAbsAttrName))
        return;
      if (auto m = matchWeightMatMul(op))
        groups[op.getLhs()].push_back(*m);
    });
    Builder attrs(&getContext());
    for (auto &[x, group] : groups) {
      int64_t K = group.front().K;
      auto h = readHessian(group.front().op, K);
      auto meanAbs = readF32(group.front().op->getAttr(kActMeanAbsAttrName));
      if (!h || !meanAbs || (int64_t)meanAbs->size() != K) {
        group.front().op.emitError("qopt-awq: layer '")
            << group.front().layer << "': malformed " << kHessianAttrName
            << " / " << kActMeanAbsAttrName;
        return signalPassFailure();
      }
      std::vector<std::vector<float>> ws;
      std::vector<int64_t> widths, layerBits;
      std::vector<WeightGrid> grids;
      std::vector<std::vector<float>> searchW;
      std::vector<int64_t> searchN;
      std::vector<WeightGrid> searchG;
      for (WeightMatMul &m : group) {
        auto w = readF32(m.weight.getValue());
        if (!w) {
          m.op.emitError("qopt-awq: cannot read the weight of '")
              << m.layer << "'";
          return signalPassFailure();
        }
        int64_t b = bits;
        if (auto a = m.op->getAttrOfType<IntegerAttr>(kWeightBitsAttrName))
          b = a.getInt();
        WeightGrid g{(unsigned)(b == 32 ? 8 : b), scheme == "sym",
                     b == 4 ? groupSize : 0};
        if (b != 32) {
          searchW.push_back(*w);
          searchN.push_back(m.N);
          searchG.push_back(g);
        }
        ws.push_back(std::move(*w));
        widths.push_back(m.N);
        layerBits.push_back(b);
        grids.push_back(g);
      }
      if (searchW.empty())
        continue;
      AWQResult res = awqSearchScales(searchW, searchN, K, *meanAbs, *h,
                                      searchG);
      const std::vector<float> &s = res.scales;
      std::vector<float> inv(K);
      for (int64_t k = 0; k < K; ++k)
        inv[k] = 1.0f / s[k];
      // H of the scaled input x / s.
      std::vector<double> hs(K * K);
      for (int64_t i = 0; i < K; ++i)
        for (int64_t j = 0; j < K; ++j)
          hs[i * K + j] = (*h)[i * K + j] * inv[i] * inv[j];
      std::vector<float> hsf(hs.begin(), hs.end());
      if (!foldIntoProducer(x, inv, group)) {
        Value nx = scaleInput(x, inv);
        for (WeightMatMul &m : group)
          m.op.getLhsMutable().assign(nx);
      }
      for (size_t l = 0; l < group.size(); ++l) {
        WeightMatMul &m = group[l];
        int64_t N = m.N;
        std::vector<float> w2(K * N);
        for (int64_t k = 0; k < K; ++k)
          for (int64_t n = 0; n < N; ++n)
            w2[k * N + n] = ws[l][k * N + n] * s[k];
        m.op->setAttr("qopt.awq_alpha", attrs.getF64FloatAttr(res.alpha));
        m.op->setAttr(kAWQScaleAttrName,
                      DenseElementsAttr::get(
                          RankedTensorType::get({K}, attrs.getF32Type()),
                          ArrayRef<float>(s)));
        if (scaleOnly || layerBits[l] == 32) {
          OpBuilder b(m.weight);
          Value nw = makeWeight(b, m, w2);
          m.op.getRhsMutable().assign(nw);
          if (scaleOnly && layerBits[l] != 32)
            m.op->setAttr(kHessianAttrName,
                          DenseElementsAttr::get(
                              RankedTensorType::get({K, K},
                                                    attrs.getF32Type()),
                              ArrayRef<float>(hsf)));
          else
            m.op->removeAttr(kHessianAttrName);
        } else {
          std::vector<float> clipR;
          if (clip)
            clipR = awqSearchClip(w2, K, N, hs, grids[l]);
          QuantizedWeight q = rtnQuantize(w2, K, N, grids[l], clipR);
          std::vector<float> d = dequantizeKN(q, K, N);
          for (int64_t k = 0; k < K; ++k)
            for (int64_t n = 0; n < N; ++n)
              d[k * N + n] /= s[k];
          double sig = outputEnergy(ws[l], K, N, *h);
          double e = outputError(ws[l], d, K, N, *h);
          double r = outputError(
              ws[l], dequantizeKN(rtnQuantize(ws[l], K, N, grids[l]), K, N), K,
              N, *h);
          m.op->setAttr("qopt.out_err",
                        attrs.getF64FloatAttr(sig > 0 ? e / sig : 0));
          m.op->setAttr("qopt.rtn_out_err",
                        attrs.getF64FloatAttr(sig > 0 ? r / sig : 0));
          Value deq = buildDequantizedWeight(m, q, (unsigned)layerBits[l],
                                             /*packInt4=*/false);
          m.op.getRhsMutable().assign(deq);
          m.op->setAttr(kQuantAttrName, attrs.getStringAttr(
                                            layerBits[l] == 8 ? "w8" : "w4"));
          m.op->removeAttr(kHessianAttrName);
        }
        m.op->removeAttr(kActMeanAbsAttrName);
        // Bias correction sees the scaled input.
        if (auto mean = readF32(m.op->getAttr(kActMeanAttrName)))
          if ((int64_t)mean->size() == K) {
            for (int64_t k = 0; k < K; ++k)
              (*mean)[k] *= inv[k];
            m.op->setAttr(kActMeanAttrName,
                          DenseElementsAttr::get(
                              RankedTensorType::get({K}, attrs.getF32Type()),
                              ArrayRef<float>(*mean)));
          }
        if (m.weight->use_empty())
          m.weight->erase();
      }
    }
  }
};
} // namespace
