//===- DynamicScores.cpp - attention scores on run-time lengths -----------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
// See DynamicScores.h.
#include "DynamicScores.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace {

bool isDim(AffineExpr e, unsigned pos) {
  auto d = dyn_cast<AffineDimExpr>(e);
  return d && d.getPosition() == pos;
}

/// `map` is (d0, .., d{nb-1}, d{x}, d{y}).
bool batchedMap(AffineMap map, unsigned nb, unsigned x, unsigned y) {
  if (map.getNumResults() != nb + 2)
    return false;
  for (unsigned i = 0; i < nb; ++i)
    if (!isDim(map.getResult(i), i))
      return false;
  return isDim(map.getResult(nb), x) && isDim(map.getResult(nb + 1), y);
}

/// The sizes of `v` as a rank-2 slice at batch `ivs`: [1.., r, c].
Value slice2(OpBuilder &b, Location loc, Value v, ValueRange ivs,
             OpFoldResult r0, OpFoldResult c0, OpFoldResult rs,
             OpFoldResult cs) {
  SmallVector<OpFoldResult> off(ivs.begin(), ivs.end()), sz, st;
  off.push_back(r0);
  off.push_back(c0);
  sz.assign(ivs.size(), b.getIndexAttr(1));
  sz.push_back(rs);
  sz.push_back(cs);
  st.assign(off.size(), b.getIndexAttr(1));
  auto dim = [](OpFoldResult f) {
    auto c = getConstantIntValue(f);
    return c ? *c : ShapedType::kDynamic;
  };
  auto ty = RankedTensorType::get(
      {dim(rs), dim(cs)}, cast<RankedTensorType>(v.getType()).getElementType());
  return tensor::ExtractSliceOp::create(b, loc, ty, v, off, sz, st);
}

} // namespace

bool mlir::qopt::isDynamicScores(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !op.hasDynamicShape() ||
      op->hasAttr(kSerialTile))
    return false;
  unsigned n = op.getNumLoops();
  if (n < 4)
    return false; // at least one batch dim (heads)
  unsigned nb = n - 3, m = nb, nn = nb + 1, k = nb + 2;
  auto iters = op.getIteratorTypesArray();
  for (unsigned i = 0; i < n; ++i)
    if ((iters[i] == utils::IteratorType::reduction) != (i == k))
      return false;
  auto maps = op.getIndexingMapsArray();
  if (!batchedMap(maps[0], nb, m, k) || !batchedMap(maps[1], nb, nn, k) ||
      !batchedMap(maps[2], nb, m, nn))
    return false;
  int64_t K = op.getStaticLoopRanges()[k];
  if (ShapedType::isDynamic(K) || K < 8 || K > 256 || K % 4)
    return false;
  for (Value v : op->getOperands())
    if (!cast<ShapedType>(v.getType()).getElementType().isF32())
      return false;
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add || body->getOperations().size() != 3)
    return false;
  Value acc = body->getArgument(2);
  Value other = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  auto mul = other.getDefiningOp<arith::MulFOp>();
  if (!mul || !llvm::is_contained(add->getOperands(), acc))
    return false;
  Value a = body->getArgument(0), bb = body->getArgument(1);
  return (mul.getLhs() == a && mul.getRhs() == bb) ||
         (mul.getLhs() == bb && mul.getRhs() == a);
}

LogicalResult mlir::qopt::splitDynamicScores(
    RewriterBase &rewriter, linalg::GenericOp op, int64_t tm, int64_t tn,
    SmallVectorImpl<linalg::MatmulOp> &tiles) {
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value q = op.getDpsInputs()[0], k = op.getDpsInputs()[1],
        init = op.getDpsInits()[0];
  unsigned nb = op.getNumLoops() - 3;
  int64_t K = op.getStaticLoopRanges()[nb + 2];
  rewriter.setInsertionPoint(op);
  Value M = tensor::DimOp::create(rewriter, loc, q, nb);
  Value T = tensor::DimOp::create(rewriter, loc, k, nb);
  Value cond = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::sge, M,
      arith::ConstantIndexOp::create(rewriter, loc, tm));
  auto ifOp = scf::IfOp::create(rewriter, loc, op->getResultTypes(), cond,
                                /*withElseRegion=*/true);
  // Few queries (decode): a dot per score, as before.
  rewriter.setInsertionPointToStart(ifOp.elseBlock());
  Operation *dots = rewriter.clone(*op);
  scf::YieldOp::create(rewriter, loc, dots->getResults());

  rewriter.setInsertionPointToStart(ifOp.thenBlock());
  // Kᵀ [b.., K, T], once per call.
  SmallVector<OpFoldResult> kSizes = tensor::getMixedSizes(rewriter, loc, k);
  std::swap(kSizes[nb], kSizes[nb + 1]);
  Value kTEmpty =
      tensor::EmptyOp::create(rewriter, loc, kSizes, rewriter.getF32Type());
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, nb + 2));
  std::swap(perm[nb], perm[nb + 1]);
  Value kT =
      linalg::TransposeOp::create(rewriter, loc, k, kTEmpty, perm).getResult()[0];
  SmallVector<OpFoldResult> batch =
      tensor::getMixedSizes(rewriter, loc, init);
  batch.resize(nb);
  AffineExpr s0 = getAffineSymbolExpr(0, ctx);
  OpFoldResult Mmain = affine::makeComposedFoldedAffineApply(
      rewriter, loc, s0.floorDiv(tm) * tm, {OpFoldResult(M)});
  OpFoldResult Tmain = affine::makeComposedFoldedAffineApply(
      rewriter, loc, s0.floorDiv(tn) * tn, {OpFoldResult(T)});
  auto forall = scf::ForallOp::create(
      rewriter, loc, batch, ValueRange{init}, std::nullopt,
      [&](OpBuilder &b, Location l, ValueRange args) {
        ValueRange ivs = args.take_front(nb);
        Value out = args.back();
        OpFoldResult zero = b.getIndexAttr(0);
        Value acc = slice2(b, l, out, ivs, zero, zero, M, T);
        auto idx = [&](OpFoldResult f) {
          return getValueOrCreateConstantIndexOp(b, l, f);
        };
        Value c0 = idx(zero);
        auto rows = scf::ForOp::create(
            b, l, c0, idx(Mmain), idx(b.getIndexAttr(tm)), ValueRange{acc},
            [&](OpBuilder &b1, Location l1, Value m0, ValueRange a1) {
              auto cols = scf::ForOp::create(
                  b1, l1, c0, idx(Tmain), idx(b1.getIndexAttr(tn)), a1,
                  [&](OpBuilder &b2, Location l2, Value n0, ValueRange a2) {
                    Value qs = slice2(b2, l2, q, ivs, m0, zero,
                                      b2.getIndexAttr(tm), b2.getIndexAttr(K));
                    Value ks = slice2(b2, l2, kT, ivs, zero, n0,
                                      b2.getIndexAttr(K), b2.getIndexAttr(tn));
                    SmallVector<OpFoldResult> off = {m0, n0},
                                              sz = {b2.getIndexAttr(tm),
                                                    b2.getIndexAttr(tn)},
                                              st(2, b2.getIndexAttr(1));
                    auto cTy = RankedTensorType::get({tm, tn},
                                                     b2.getF32Type());
                    Value cs = tensor::ExtractSliceOp::create(
                        b2, l2, cTy, a2[0], off, sz, st);
                    auto mm = linalg::MatmulOp::create(
                        b2, l2, TypeRange{cTy}, ValueRange{qs, ks},
                        ValueRange{cs});
                    tiles.push_back(mm);
                    Value upd = tensor::InsertSliceOp::create(
                        b2, l2, mm.getResult(0), a2[0], off, sz, st);
                    scf::YieldOp::create(b2, l2, upd);
                  });
              scf::YieldOp::create(b1, l1, cols.getResults());
            });
        // The edges, as dot products: rows [Mmain, M) x [0, T), then
        // [0, Mmain) x [Tmain, T).
        Value whole = rows.getResult(0);
        auto edge = [&](OpFoldResult r0, OpFoldResult rs, OpFoldResult n0,
                        OpFoldResult ns) {
          Value a = slice2(b, l, q, ivs, r0, zero, rs, b.getIndexAttr(K));
          Value bk = slice2(b, l, k, ivs, n0, zero, ns, b.getIndexAttr(K));
          SmallVector<OpFoldResult> off = {r0, n0}, sz = {rs, ns},
                                    st(2, b.getIndexAttr(1));
          Value c = tensor::ExtractSliceOp::create(b, l, whole, off, sz, st);
          AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
                     d2 = getAffineDimExpr(2, ctx);
          SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {d0, d2}, ctx),
                                         AffineMap::get(3, 0, {d1, d2}, ctx),
                                         AffineMap::get(3, 0, {d0, d1}, ctx)};
          SmallVector<utils::IteratorType> its = {
              utils::IteratorType::parallel, utils::IteratorType::parallel,
              utils::IteratorType::reduction};
          auto g = linalg::GenericOp::create(b, l, c.getType(), ValueRange{a, bk},
                                             ValueRange{c}, maps, its);
          IRMapping map;
          op.getRegion().cloneInto(&g.getRegion(), map);
          g->setAttr(kSerialTile, b.getUnitAttr());
          whole = tensor::InsertSliceOp::create(b, l, g.getResult(0), whole,
                                                off, sz, st);
        };
        OpFoldResult Mrest = affine::makeComposedFoldedAffineApply(
            b, l, s0 - getAffineSymbolExpr(1, ctx), {OpFoldResult(M), Mmain});
        OpFoldResult Trest = affine::makeComposedFoldedAffineApply(
            b, l, s0 - getAffineSymbolExpr(1, ctx), {OpFoldResult(T), Tmain});
        edge(Mmain, Mrest, zero, T);
        edge(zero, Mmain, Tmain, Trest);
        SmallVector<OpFoldResult> off(ivs.begin(), ivs.end()), sz(nb, b.getIndexAttr(1)),
            st(nb + 2, b.getIndexAttr(1));
        off.append({zero, zero});
        sz.append({OpFoldResult(M), OpFoldResult(T)});
        auto par = scf::InParallelOp::create(b, l);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(par.getBody());
        tensor::ParallelInsertSliceOp::create(b, l, whole, out, off, sz, st);
      });
  scf::YieldOp::create(rewriter, loc, forall.getResults());
  rewriter.replaceOp(op, ifOp.getResults());
  return success();
}
