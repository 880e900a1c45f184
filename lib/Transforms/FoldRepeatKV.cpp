//===- FoldRepeatKV.cpp - grouped-query attention without repeated K/V ----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Grouped-query attention as exporters write it (Transformers' repeat_kv:
// Unsqueeze, Expand, Reshape) materializes every key/value head R times
// before QK^T and PV: at context T a decode step writes and reads R x the
// cache per layer. Query heads g*R .. g*R+R-1 all read KV head g, so
//   Q [b, G*R, s, D] x K^T          = ([b, G, R*s, D] x K_g^T) viewed back
//   P [b, G*R, s, T] x V_repeated  = ([b, G, R*s, T] x V_g)  viewed back
// (row-major reshapes only: the same dot products, now R*s rows against
// one KV head instead of s rows against R copies of it). The repeat is recognised at the
// qopt graph level as convert-onnx-to-qopt writes it: a linalg.generic that
// broadcasts [b, G, T, D] to [b, G, R, T, D] (Unsqueeze + Expand), then a
// reshape to [b, G*R, T, D] (collapse_shape, or collapse to 1-D +
// tensor.reshape on run-time dims), optionally transposed [0, 1, 3, 2].
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFOLDREPEATKVPASS
#include "qopt/Transforms/Passes.h.inc"

namespace {

/// `v` = the KV heads `src` [b, G, T, D] each repeated `reps` times along
/// dim 1 ([b, G*reps, T, D]).
struct Repeat {
  Value src;
  int64_t groups = 0, reps = 0;
};

/// Dim `d` of the init of `g` equals `size` (a static size or an SSA value).
bool sameDim(linalg::GenericOp g, int64_t d, Value size) {
  auto e = g.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();
  auto t = cast<RankedTensorType>(g.getResult(0).getType());
  if (!t.isDynamicDim(d)) {
    std::optional<int64_t> c = getConstantIntValue(size);
    return c && *c == t.getDimSize(d);
  }
  return e && e.getDynamicSize(d) == size;
}

/// The broadcast [b, G, T, D] -> [b, G, R, T, D] that Unsqueeze(2) + Expand
/// give: one input read at (d0, d1, d3, d4), identity output, all parallel,
/// the body yields the input.
linalg::GenericOp matchBroadcast(Value v) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumResults() != 1 || g.getNumLoops() != 5 ||
      g.getNumParallelLoops() != 5)
    return {};
  MLIRContext *ctx = g.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(5, 0, {d(0), d(1), d(3), d(4)}, ctx) ||
      !maps[1].isIdentity())
    return {};
  Block &body = g.getRegion().front();
  auto y = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!y || body.getOperations().size() != 1 ||
      y.getOperand(0) != body.getArgument(0))
    return {};
  auto out = cast<RankedTensorType>(g.getResult(0).getType());
  if (out.isDynamicDim(1) || out.isDynamicDim(2) || out.isDynamicDim(4))
    return {};
  return g;
}

std::optional<Repeat> matchRepeat(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || t.getRank() != 4 || t.isDynamicDim(1) || t.isDynamicDim(3))
    return std::nullopt;
  linalg::GenericOp g;
  if (auto c = v.getDefiningOp<tensor::CollapseShapeOp>()) {
    // Static dims: [b, G, R, T, D] -> [b, G*R, T, D].
    SmallVector<ReassociationIndices> r = c.getReassociationIndices();
    if (r.size() != 4 || r[0] != ReassociationIndices{0} ||
        r[1] != ReassociationIndices{1, 2} || r[2] != ReassociationIndices{3} ||
        r[3] != ReassociationIndices{4})
      return std::nullopt;
    g = matchBroadcast(c.getSrc());
  } else if (auto rs = v.getDefiningOp<tensor::ReshapeOp>()) {
    // Run-time dims: collapsed to 1-D, then reshaped to [b, G*R, T, D] with
    // b the broadcast's b (the element count then fixes T).
    auto flat = rs.getSource().getDefiningOp<tensor::CollapseShapeOp>();
    auto shape = rs.getShape().getDefiningOp<tensor::FromElementsOp>();
    if (!flat || !shape || flat.getResultType().getRank() != 1)
      return std::nullopt;
    g = matchBroadcast(flat.getSrc());
    if (g && !sameDim(g, 0, shape.getElements()[0]))
      return std::nullopt;
  }
  if (!g)
    return std::nullopt;
  auto out = cast<RankedTensorType>(g.getResult(0).getType());
  int64_t G = out.getDimSize(1), R = out.getDimSize(2);
  if (t.getDimSize(1) != G * R || t.getDimSize(3) != out.getDimSize(4) ||
      (!t.isDynamicDim(0) && t.getDimSize(0) != out.getDimSize(0)) ||
      (!t.isDynamicDim(2) && !out.isDynamicDim(3) &&
       t.getDimSize(2) != out.getDimSize(3)))
    return std::nullopt;
  return Repeat{g.getDpsInputs()[0], G, R};
}

OpFoldResult dimOf(OpBuilder &b, Location loc, Value v, int64_t d) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.isDynamicDim(d))
    return b.getIndexAttr(t.getDimSize(d));
  return tensor::DimOp::create(b, loc, v, d).getResult();
}

/// [b, G*R, s, K] -> [b, G, R*s, K] (or back with `back`), as views.
Value regroup(OpBuilder &b, Location loc, Value v, int64_t G, int64_t R,
              OpFoldResult s, bool back) {
  auto t = cast<RankedTensorType>(v.getType());
  Type e = t.getElementType();
  int64_t B = t.getDimSize(0), K = t.getDimSize(3);
  std::optional<int64_t> sc = getConstantIntValue(s);
  int64_t S = sc ? *sc : ShapedType::kDynamic;
  auto five = RankedTensorType::get({B, G, R, S, K}, e);
  OpFoldResult bd = dimOf(b, loc, v, 0), kd = dimOf(b, loc, v, 3);
  SmallVector<OpFoldResult> sizes{bd, b.getIndexAttr(G), b.getIndexAttr(R), s,
                                  kd};
  if (!back) {
    Value x = tensor::ExpandShapeOp::create(
        b, loc, five, v, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}},
        sizes);
    return tensor::CollapseShapeOp::create(
        b, loc, x, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4}});
  }
  Value x = tensor::ExpandShapeOp::create(
      b, loc, five, v, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}, {4}},
      sizes);
  return tensor::CollapseShapeOp::create(
      b, loc, x, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
}

struct QOptFoldRepeatKVPass
    : impl::QOptFoldRepeatKVPassBase<QOptFoldRepeatKVPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<MatMulOp> mms;
    getOperation().walk([&](MatMulOp mm) { mms.push_back(mm); });
    for (MatMulOp mm : mms) {
      auto lt = dyn_cast<RankedTensorType>(mm.getLhs().getType());
      auto ot = dyn_cast<RankedTensorType>(mm.getType());
      if (!lt || !ot || lt.getRank() != 4 || ot.getRank() != 4 ||
          lt.isDynamicDim(1) || ot.hasStaticShape())
        continue;
      // rhs = repeat(X) (PV) or transpose(repeat(X), [0, 1, 3, 2]) (QK^T).
      Value rhs = mm.getRhs();
      auto tr = rhs.getDefiningOp<linalg::TransposeOp>();
      if (tr && tr.getPermutation() != ArrayRef<int64_t>{0, 1, 3, 2})
        continue;
      std::optional<Repeat> rep = matchRepeat(tr ? tr.getInput() : rhs);
      if (!rep || lt.getDimSize(1) != rep->groups * rep->reps)
        continue;
      // The batch dims must not broadcast (both b, or both static equal).
      auto rt = cast<RankedTensorType>(rhs.getType());
      if (lt.getDimSize(0) != rt.getDimSize(0))
        continue;
      OpBuilder b(mm);
      Location loc = mm.getLoc();
      int64_t G = rep->groups, R = rep->reps;
      Value kv = rep->src;
      if (tr) {
        auto st = cast<RankedTensorType>(kv.getType());
        SmallVector<OpFoldResult> sizes;
        for (int64_t d : {0, 1, 3, 2})
          sizes.push_back(dimOf(b, loc, kv, d));
        Value init = tensor::EmptyOp::create(b, loc, sizes,
                                             st.getElementType());
        kv = linalg::TransposeOp::create(b, loc, kv, init,
                                         ArrayRef<int64_t>{0, 1, 3, 2})
                 ->getResult(0);
      }
      OpFoldResult s = dimOf(b, loc, mm.getLhs(), 2);
      Value lhs = regroup(b, loc, mm.getLhs(), G, R, s, /*back=*/false);
      auto lg = cast<RankedTensorType>(lhs.getType());
      auto kt = cast<RankedTensorType>(kv.getType());
      auto ng = RankedTensorType::get(
          {ot.getDimSize(0), G, lg.getDimSize(2), kt.getDimSize(3)},
          ot.getElementType());
      auto grouped = MatMulOp::create(b, loc, ng, lhs, kv);
      grouped->setAttrs(mm->getAttrs());
      Value res = regroup(b, loc, grouped, G, R, s, /*back=*/true);
      if (res.getType() != ot)
        res = tensor::CastOp::create(b, loc, ot, res);
      mm.replaceAllUsesWith(res);
      mm.erase();
    }
  }
};

} // namespace
} // namespace mlir::qopt
