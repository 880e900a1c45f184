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
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace {

/// Query rows from which q·kᵀ transposes K for register tiles (below: one
/// dot-product pass per row over K as it is laid out).
constexpr int64_t kTransposeRows = 32;

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


/// `c` filled with `value`, or `c` as it is when there is no value (its
/// init is not a fill).
Value initTile(OpBuilder &b, Location l, Value value, Value c) {
  return value ? linalg::FillOp::create(b, l, value, c).getResult(0) : c;
}

/// The scores' init: the tensor under a fill (each tile is then filled
/// where it is computed, not the whole [b.., M, T] once up front, which
/// over run-time dims is a scalar loop) and the fill's value.
std::pair<Value, Value> splitInit(linalg::GenericOp op) {
  Value init = op.getDpsInits()[0];
  if (auto f = init.getDefiningOp<linalg::FillOp>())
    return {f.getOutputs()[0], f.getInputs()[0]};
  return {init, Value()};
}

/// A 2-D contraction over slices with `op`'s body, marked to be tiled
/// serially (it runs inside a parallel work item): loops (d0, d1, d2) with
/// d`red` the reduction; the result is [d0, the other parallel dim].
///   red = 2: c[m, n] += sum_k a[m, k] * b[n, k]   (q·kᵀ edges)
///   red = 1: c[m, n] += sum_t a[m, t] * b[t, n]   (p·v edges)
Value serialEdge(OpBuilder &b, Location l, linalg::GenericOp op, Value a,
                 Value bb, Value c, unsigned red) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  AffineExpr r = red == 2 ? d2 : d1, n = red == 2 ? d1 : d2;
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {d0, r}, ctx),
      AffineMap::get(3, 0, red == 2 ? ArrayRef<AffineExpr>{n, r}
                                    : ArrayRef<AffineExpr>{r, n},
                     ctx),
      AffineMap::get(3, 0, {d0, n}, ctx)};
  SmallVector<utils::IteratorType> its(3, utils::IteratorType::parallel);
  its[red] = utils::IteratorType::reduction;
  auto g = linalg::GenericOp::create(b, l, c.getType(), ValueRange{a, bb},
                                     ValueRange{c}, maps, its);
  IRMapping map;
  op.getRegion().cloneInto(&g.getRegion(), map);
  g->setAttr(qopt::kSerialTile, b.getUnitAttr());
  return g.getResult(0);
}

/// The horizontal sums of 16 vectors of 16 lanes as one vector (lane j:
/// the sum of p[j]): four levels of pairwise half-swaps and adds, 15 adds
/// and 30 two-source shuffles instead of 16 reduction trees.
Value transposeReduce16(OpBuilder &b, Location l, SmallVector<Value> p) {
  for (int64_t g = 8; g >= 1; g /= 2) {
    SmallVector<int64_t> lo, hi;
    for (int64_t src = 0; src < 2; ++src)
      for (int64_t grp = 0; grp < 16 / (2 * g); ++grp)
        for (int64_t e = 0; e < g; ++e) {
          lo.push_back(src * 16 + grp * 2 * g + e);
          hi.push_back(src * 16 + grp * 2 * g + g + e);
        }
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < p.size(); i += 2) {
      Value x = vector::ShuffleOp::create(b, l, p[i], p[i + 1], lo);
      Value y = vector::ShuffleOp::create(b, l, p[i], p[i + 1], hi);
      next.push_back(arith::AddFOp::create(b, l, x, y));
    }
    p = std::move(next);
  }
  return p[0];
}

/// Per query row (a forall over batch x rows): 16 scores per step, each
/// key row's K/16 vectors multiplied by q's and the 16 partial vectors
/// summed across lanes at once; the last T % 16 scores as a dot generic.
Value decodeScores(OpBuilder &rb, Location loc, linalg::GenericOp op, Value M,
                   Value T) {
  MLIRContext *ctx = op.getContext();
  Value q = op.getDpsInputs()[0], k = op.getDpsInputs()[1];
  Value init, fill;
  std::tie(init, fill) = splitInit(op);
  unsigned nb = op.getNumLoops() - 3;
  int64_t K = op.getStaticLoopRanges()[nb + 2];
  SmallVector<OpFoldResult> ub = tensor::getMixedSizes(rb, loc, init);
  ub.resize(nb);
  ub.push_back(M);
  AffineExpr s0 = getAffineSymbolExpr(0, ctx), s1 = getAffineSymbolExpr(1, ctx);
  OpFoldResult Tmain = affine::makeComposedFoldedAffineApply(
      rb, loc, s0.floorDiv(16) * 16, {OpFoldResult(T)});
  auto vTy = VectorType::get({16}, rb.getF32Type());
  auto forall = scf::ForallOp::create(
      rb, loc, ub, ValueRange{init}, std::nullopt,
      [&](OpBuilder &b, Location l, ValueRange args) {
        ValueRange bIvs = args.take_front(nb);
        Value m = args[nb], out = args.back();
        OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
        Value c0 = arith::ConstantIndexOp::create(b, l, 0);
        Value pad = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
        auto at = [&](ValueRange lead, Value row, int64_t col) {
          SmallVector<Value> idx(lead.begin(), lead.end());
          idx.push_back(row);
          idx.push_back(arith::ConstantIndexOp::create(b, l, col));
          return idx;
        };
        SmallVector<Value> qv;
        for (int64_t c = 0; c < K; c += 16)
          qv.push_back(vector::TransferReadOp::create(
              b, l, vTy, q, at(bIvs, m, c), pad, ArrayRef<bool>{true}));
        Value row = slice2(b, l, out, bIvs, m, zero, one, T);
        Value c16 = arith::ConstantIndexOp::create(b, l, 16);
        auto loop = scf::ForOp::create(
            b, l, c0, getValueOrCreateConstantIndexOp(b, l, Tmain), c16,
            ValueRange{row},
            [&](OpBuilder &b1, Location l1, Value n0, ValueRange acc) {
              SmallVector<Value> parts;
              for (int64_t j = 0; j < 16; ++j) {
                Value n = arith::AddIOp::create(
                    b1, l1, n0, arith::ConstantIndexOp::create(b1, l1, j));
                Value p;
                for (int64_t c = 0; c < K; c += 16) {
                  Value kv = vector::TransferReadOp::create(
                      b1, l1, vTy, k, at(bIvs, n, c), pad, ArrayRef<bool>{true});
                  p = p ? vector::FMAOp::create(b1, l1, kv, qv[c / 16], p)
                              .getResult()
                        : arith::MulFOp::create(b1, l1, kv, qv[c / 16])
                              .getResult();
                }
                parts.push_back(p);
              }
              Value s = transposeReduce16(b1, l1, parts);
              SmallVector<Value> idx = {c0, n0};
              Value cur = fill ? vector::BroadcastOp::create(b1, l1, vTy, fill)
                                     .getResult()
                               : vector::TransferReadOp::create(
                                     b1, l1, vTy, acc[0], idx, pad,
                                     ArrayRef<bool>{true})
                                     .getResult();
              s = arith::AddFOp::create(b1, l1, cur, s);
              Value upd = vector::TransferWriteOp::create(
                              b1, l1, s, acc[0], idx, ArrayRef<bool>{true})
                              .getResult();
              scf::YieldOp::create(b1, l1, upd);
            });
        Value whole = loop.getResult(0);
        OpFoldResult Trest = affine::makeComposedFoldedAffineApply(
            b, l, s0 - s1, {OpFoldResult(T), Tmain});
        Value a = slice2(b, l, q, bIvs, m, zero, one, b.getIndexAttr(K));
        Value bk = slice2(b, l, k, bIvs, Tmain, zero, Trest, b.getIndexAttr(K));
        SmallVector<OpFoldResult> off = {zero, Tmain}, sz = {one, Trest},
                                  st(2, one);
        Value c = initTile(
            b, l, fill, tensor::ExtractSliceOp::create(b, l, whole, off, sz, st));
        Value edge = serialEdge(b, l, op, a, bk, c, /*red=*/2);
        whole = tensor::InsertSliceOp::create(b, l, edge, whole, off, sz, st);
        SmallVector<OpFoldResult> woff(bIvs.begin(), bIvs.end()),
            wsz(nb, one), wst(nb + 2, one);
        woff.append({OpFoldResult(m), zero});
        wsz.append({one, OpFoldResult(T)});
        auto par = scf::InParallelOp::create(b, l);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(par.getBody());
        tensor::ParallelInsertSliceOp::create(b, l, whole, out, woff, wsz, wst);
      });
  return forall.getResult(0);
}

/// All operands f32 and the body `acc + a * b`.
bool f32MulAdd(linalg::GenericOp op) {
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

/// Whether the loops of `op` are the batch dims, then three with only
/// `red` a reduction.
bool batchedContraction(linalg::GenericOp op, unsigned red) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !op.hasDynamicShape() ||
      op->hasAttr(qopt::kSerialTile) || op.getNumLoops() < 4)
    return false;
  auto iters = op.getIteratorTypesArray();
  unsigned nb = op.getNumLoops() - 3;
  for (unsigned i = 0; i < iters.size(); ++i)
    if ((iters[i] == utils::IteratorType::reduction) != (i == nb + red))
      return false;
  return true;
}

} // namespace

int64_t mlir::qopt::dynamicPVRows(linalg::GenericOp op) {
  if (!batchedContraction(op, /*red=*/1))
    return 0;
  unsigned nb = op.getNumLoops() - 3, m = nb, t = nb + 1, n = nb + 2;
  auto maps = op.getIndexingMapsArray();
  if (!batchedMap(maps[0], nb, m, t) || !batchedMap(maps[1], nb, t, n) ||
      !batchedMap(maps[2], nb, m, n))
    return 0;
  int64_t N = op.getStaticLoopRanges()[n];
  if (ShapedType::isDynamic(N) || N % 16 || N > 64 || !f32MulAdd(op))
    return 0;
  return N <= 32 ? 8 : 4; // 16 zmm accumulators
}

LogicalResult mlir::qopt::splitDynamicPV(
    RewriterBase &rewriter, linalg::GenericOp op,
    SmallVectorImpl<std::pair<linalg::MatmulOp, scf::ForOp>> &tiles) {
  int64_t tm = dynamicPVRows(op);
  if (!tm)
    return failure();
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value p = op.getDpsInputs()[0], v = op.getDpsInputs()[1];
  Value init, fill;
  std::tie(init, fill) = splitInit(op);
  unsigned nb = op.getNumLoops() - 3;
  int64_t N = op.getStaticLoopRanges()[nb + 2];
  rewriter.setInsertionPoint(op);
  Value M = tensor::DimOp::create(rewriter, loc, p, nb);
  Value T = tensor::DimOp::create(rewriter, loc, p, nb + 1);
  Value cond = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::sge, M,
      arith::ConstantIndexOp::create(rewriter, loc, tm));
  auto ifOp = scf::IfOp::create(rewriter, loc, op->getResultTypes(), cond,
                                /*withElseRegion=*/true);
  // Few queries (decode): one row of v per step is read once anyway.
  rewriter.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(rewriter, loc, rewriter.clone(*op)->getResult(0));

  rewriter.setInsertionPointToStart(ifOp.thenBlock());
  SmallVector<OpFoldResult> batch = tensor::getMixedSizes(rewriter, loc, init);
  batch.resize(nb);
  AffineExpr s0 = getAffineSymbolExpr(0, ctx), s1 = getAffineSymbolExpr(1, ctx);
  OpFoldResult Mmain = affine::makeComposedFoldedAffineApply(
      rewriter, loc, s0.floorDiv(tm) * tm, {OpFoldResult(M)});
  auto forall = scf::ForallOp::create(
      rewriter, loc, batch, ValueRange{init}, std::nullopt,
      [&](OpBuilder &b, Location l, ValueRange args) {
        ValueRange ivs = args.take_front(nb);
        Value out = args.back();
        OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1),
                     nAttr = b.getIndexAttr(N);
        Value acc = slice2(b, l, out, ivs, zero, zero, M, nAttr);
        Value c0 = arith::ConstantIndexOp::create(b, l, 0);
        Value c1 = arith::ConstantIndexOp::create(b, l, 1);
        auto rows = scf::ForOp::create(
            b, l, c0, getValueOrCreateConstantIndexOp(b, l, Mmain),
            arith::ConstantIndexOp::create(b, l, tm), ValueRange{acc},
            [&](OpBuilder &b1, Location l1, Value m0, ValueRange a1) {
              SmallVector<OpFoldResult> off = {m0, zero},
                                        sz = {b1.getIndexAttr(tm), nAttr},
                                        st(2, one);
              auto cTy = RankedTensorType::get({tm, N}, b1.getF32Type());
              Value cs = initTile(b1, l1, fill,
                                  tensor::ExtractSliceOp::create(
                                      b1, l1, cTy, a1[0], off, sz, st));
              // One outer product per context position: the tm x N
              // accumulator stays in registers across the loop.
              linalg::MatmulOp mm;
              auto steps = scf::ForOp::create(
                  b1, l1, c0, T, c1, ValueRange{cs},
                  [&](OpBuilder &b2, Location l2, Value t0, ValueRange a2) {
                    Value ps = slice2(b2, l2, p, ivs, m0, t0,
                                      b2.getIndexAttr(tm), one);
                    Value vs = slice2(b2, l2, v, ivs, t0, zero, one, nAttr);
                    mm = linalg::MatmulOp::create(b2, l2, TypeRange{cTy},
                                                  ValueRange{ps, vs},
                                                  ValueRange{a2[0]});
                    scf::YieldOp::create(b2, l2, mm.getResult(0));
                  });
              tiles.push_back({mm, steps});
              Value upd = tensor::InsertSliceOp::create(
                  b1, l1, steps.getResult(0), a1[0], off, sz, st);
              scf::YieldOp::create(b1, l1, upd);
            });
        // The last M % tm rows.
        Value whole = rows.getResult(0);
        OpFoldResult Mrest = affine::makeComposedFoldedAffineApply(
            b, l, s0 - s1, {OpFoldResult(M), Mmain});
        Value ps = slice2(b, l, p, ivs, Mmain, zero, Mrest, T);
        Value vs = slice2(b, l, v, ivs, zero, zero, T, nAttr);
        SmallVector<OpFoldResult> off = {Mmain, zero}, sz = {Mrest, nAttr},
                                  st(2, one);
        Value c = initTile(
            b, l, fill, tensor::ExtractSliceOp::create(b, l, whole, off, sz, st));
        Value edge = serialEdge(b, l, op, ps, vs, c, /*red=*/1);
        whole = tensor::InsertSliceOp::create(b, l, edge, whole, off, sz, st);
        SmallVector<OpFoldResult> woff(ivs.begin(), ivs.end()), wsz(nb, one),
            wst(nb + 2, one);
        woff.append({zero, zero});
        wsz.append({OpFoldResult(M), nAttr});
        auto par = scf::InParallelOp::create(b, l);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(par.getBody());
        tensor::ParallelInsertSliceOp::create(b, l, whole, out, woff, wsz, wst);
      });
  scf::YieldOp::create(rewriter, loc, forall.getResults());
  rewriter.replaceOp(op, ifOp.getResults());
  return success();
}

bool mlir::qopt::isDynamicScores(linalg::GenericOp op) {
  if (!batchedContraction(op, /*red=*/2))
    return false; // at least one batch dim (heads)
  unsigned nb = op.getNumLoops() - 3, m = nb, nn = nb + 1, k = nb + 2;
  auto maps = op.getIndexingMapsArray();
  if (!batchedMap(maps[0], nb, m, k) || !batchedMap(maps[1], nb, nn, k) ||
      !batchedMap(maps[2], nb, m, nn))
    return false;
  int64_t K = op.getStaticLoopRanges()[k];
  if (ShapedType::isDynamic(K) || K < 8 || K > 256 || K % 4)
    return false;
  return f32MulAdd(op);
}

LogicalResult mlir::qopt::splitDynamicScores(
    RewriterBase &rewriter, linalg::GenericOp op, int64_t tm, int64_t tn,
    SmallVectorImpl<linalg::MatmulOp> &tiles) {
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value q = op.getDpsInputs()[0], k = op.getDpsInputs()[1];
  Value init, fill;
  std::tie(init, fill) = splitInit(op);
  unsigned nb = op.getNumLoops() - 3;
  int64_t K = op.getStaticLoopRanges()[nb + 2];
  rewriter.setInsertionPoint(op);
  Value M = tensor::DimOp::create(rewriter, loc, q, nb);
  Value T = tensor::DimOp::create(rewriter, loc, k, nb);
  // Kᵀ costs about 3 ops per element of K, paid back by the register
  // tiles only over many rows: grouped-query decode (8 query heads per KV
  // head) spent a fifth of its step transposing a 1024-long K.
  int64_t minRows = K % 16 ? tm : std::max<int64_t>(tm, kTransposeRows);
  Value cond = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::sge, M,
      arith::ConstantIndexOp::create(rewriter, loc, minRows));
  auto ifOp = scf::IfOp::create(rewriter, loc, op->getResultTypes(), cond,
                                /*withElseRegion=*/true);
  // Few queries (decode): dot products, 16 scores at a time.
  rewriter.setInsertionPointToStart(ifOp.elseBlock());
  Value dots = K % 16 ? rewriter.clone(*op)->getResult(0)
                      : decodeScores(rewriter, loc, op, M, T);
  scf::YieldOp::create(rewriter, loc, dots);

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
                    Value cs = initTile(b2, l2, fill,
                                        tensor::ExtractSliceOp::create(
                                            b2, l2, cTy, a2[0], off, sz, st));
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
          Value c = initTile(
              b, l, fill, tensor::ExtractSliceOp::create(b, l, whole, off, sz, st));
          Value e = serialEdge(b, l, op, a, bk, c, /*red=*/2);
          whole = tensor::InsertSliceOp::create(b, l, e, whole, off, sz, st);
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
