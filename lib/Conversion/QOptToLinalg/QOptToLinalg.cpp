//===- QOptToLinalg.cpp - qopt -> linalg on tensors -----------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.matmul      -> linalg.matmul / linalg.batch_matmul (zero-filled init),
//                     with 1-D promotion and materialised batch broadcasts.
// qopt.quantize    -> linalg.generic: saturate(roundeven(x / s) + zp) in f32
//                     (per tensor, per axis, per group via `d floordiv B`).
// qopt.dequantize  -> linalg.generic: sitofp(ext(x) - ext(zp)) * s.
// qopt.dynamic_quantize -> min/max (or max|x|) reductions, a scale/zero-point
//                     generic, then qopt.quantize (per row: blocked along the
//                     last dim with one block per row).
// qopt.qmatmul     -> extend + subtract zero points to i32 (linalg.generic),
//                     then qopt.matmul on i32 (linalg.matmul/batch_matmul).
// qopt.observe is left alone (calibration lowers it; qopt-strip-observers
// removes it). Numerics: docs/semantics.md §1, §2, §4, §5.
//
//===----------------------------------------------------------------------===//
#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOLINALGPASS
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Reshape between static shapes through tensor.collapse_shape/expand_shape
/// with the given grouping of the *larger-rank* side.
Value collapse(OpBuilder &b, Location loc, Value v,
               ArrayRef<ReassociationIndices> groups) {
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (auto &g : groups) {
    int64_t p = 1;
    for (int64_t d : g) p *= ty.getDimSize(d);
    shape.push_back(p);
  }
  if ((int64_t)shape.size() == ty.getRank())
    return v;
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(shape, ty.getElementType()), v, groups);
}

Value expand(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape,
             ArrayRef<ReassociationIndices> groups) {
  auto ty = cast<RankedTensorType>(v.getType());
  if ((int64_t)shape.size() == ty.getRank())
    return v;
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, ty.getElementType()), v, groups);
}

/// Broadcasts `v` (rank r, each dim 1 or equal) to `shape` (same rank) with
/// a linalg.generic; identity if already that shape.
Value broadcastSameRank(OpBuilder &b, Location loc, Value v,
                        ArrayRef<int64_t> shape) {
  auto ty = cast<RankedTensorType>(v.getType());
  if (ty.getShape() == shape)
    return v;
  int64_t R = shape.size();
  SmallVector<AffineExpr> ex;
  for (int64_t k = 0; k < R; ++k)
    ex.push_back(ty.getDimSize(k) == shape[k] ? b.getAffineDimExpr(k)
                                              : b.getAffineConstantExpr(0));
  Value init = tensor::EmptyOp::create(b, loc, shape, ty.getElementType());
  SmallVector<AffineMap> maps = {AffineMap::get(R, 0, ex, b.getContext()),
                                 b.getMultiDimIdentityMap(R)};
  SmallVector<utils::IteratorType> it(R, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{v}, ValueRange{init},
             maps, it,
             [](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, a[0]);
             })
      .getResult(0);
}

Value zeroFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims,
                 Type et) {
  Value zero = arith::ConstantOp::create(b, loc, et, b.getZeroAttr(et));
  Value e = tensor::EmptyOp::create(b, loc, dims, et);
  return linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{e})
      .getResult(0);
}

Value zeroFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type et) {
  return zeroFilled(b, loc, getAsIndexOpFoldResult(b.getContext(), shape), et);
}

struct MatMulLowering : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto lt = op.getLhs().getType(), rt = op.getRhs().getType();
    auto ot = op.getResult().getType();
    if (!lt.hasStaticShape() || !rt.hasStaticShape() || !ot.hasStaticShape())
      return b.notifyMatchFailure(op, "dynamic shapes");
    Type et = ot.getElementType();
    Value l = op.getLhs(), r = op.getRhs();
    // 1-D promotion: (K) -> (1, K) and (K) -> (K, 1).
    SmallVector<int64_t> ls(lt.getShape()), rs(rt.getShape());
    if (ls.size() == 1) {
      ls.insert(ls.begin(), 1);
      l = expand(b, loc, l, ls, {{0, 1}});
    }
    if (rs.size() == 1) {
      rs.push_back(1);
      r = expand(b, loc, r, rs, {{0, 1}});
    }
    int64_t M = ls[ls.size() - 2], K = ls.back(), N = rs.back();
    SmallVector<int64_t> lb(ls.begin(), ls.end() - 2),
        rb(rs.begin(), rs.end() - 2);
    Value y;
    SmallVector<int64_t> yShape; // batch..., M, N
    if (rb.empty() || llvm::all_of(rb, [](int64_t d) { return d == 1; })) {
      // rhs has no (real) batch: fold lhs batch into rows -> linalg.matmul.
      if (!rb.empty())
        r = collapse(b, loc, r, {llvm::to_vector(llvm::seq<int64_t>(0, rs.size() - 1)),
                                 {(int64_t)rs.size() - 1}});
      int64_t rows = M;
      for (int64_t d : lb) rows *= d;
      if (!lb.empty()) {
        ReassociationIndices g =
            llvm::to_vector(llvm::seq<int64_t>(0, ls.size() - 1));
        l = collapse(b, loc, l, {g, {(int64_t)ls.size() - 1}});
      }
      Value init = zeroFilled(b, loc, {rows, N}, et);
      y = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                   ValueRange{l, r}, ValueRange{init})
              .getResult(0);
      size_t nb = std::max(lb.size(), rb.size());
      for (size_t k = 0; k < nb; ++k)
        yShape.push_back(k + lb.size() >= nb ? lb[k + lb.size() - nb] : 1);
      yShape.push_back(M);
      yShape.push_back(N);
    } else {
      size_t nb = std::max(lb.size(), rb.size());
      SmallVector<int64_t> bs;
      for (size_t k = 0; k < nb; ++k) {
        int64_t a = k + lb.size() >= nb ? lb[k + lb.size() - nb] : 1;
        int64_t c = k + rb.size() >= nb ? rb[k + rb.size() - nb] : 1;
        bs.push_back(a == 1 ? c : a);
      }
      auto prep = [&](Value v, SmallVector<int64_t> s, int64_t d0, int64_t d1) {
        // Prepend unit dims to full batch rank, broadcast, collapse batch.
        size_t add = nb + 2 - s.size();
        if (add) {
          SmallVector<int64_t> s2(add, 1);
          s2.append(s);
          ReassociationIndices g0 =
              llvm::to_vector(llvm::seq<int64_t>(0, add + 1));
          SmallVector<ReassociationIndices> groups = {g0};
          for (size_t k = add + 1; k < s2.size(); ++k)
            groups.push_back({(int64_t)k});
          v = expand(b, loc, v, s2, groups);
          s = s2;
        }
        SmallVector<int64_t> full(bs);
        full.push_back(d0);
        full.push_back(d1);
        v = broadcastSameRank(b, loc, v, full);
        ReassociationIndices g = llvm::to_vector(llvm::seq<int64_t>(0, nb));
        if (nb == 0)
          return expand(b, loc, v, {1, d0, d1}, {{0, 1}, {2}});
        return collapse(b, loc, v, {g, {(int64_t)nb}, {(int64_t)nb + 1}});
      };
      l = prep(l, ls, M, K);
      r = prep(r, rs, K, N);
      int64_t B = 1;
      for (int64_t d : bs) B *= d;
      Value init = zeroFilled(b, loc, {B, M, N}, et);
      y = linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                        ValueRange{l, r}, ValueRange{init})
              .getResult(0);
      yShape = bs;
      yShape.push_back(M);
      yShape.push_back(N);
    }
    // y is 2-D (rows, N) or 3-D (B, M, N): reshape to the result shape.
    auto yty = cast<RankedTensorType>(y.getType());
    if (yty.getShape() != ot.getShape()) {
      int64_t n = yty.getNumElements();
      ReassociationIndices all =
          llvm::to_vector(llvm::seq<int64_t>(0, yty.getRank()));
      Value flat = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({n}, et), y,
          ArrayRef<ReassociationIndices>{all});
      if (ot.getRank() == 0) {
        y = tensor::CollapseShapeOp::create(b, loc, ot, flat,
                                            ArrayRef<ReassociationIndices>{});
      } else if (ot.getRank() == 1) {
        y = flat;
      } else {
        ReassociationIndices allo =
            llvm::to_vector(llvm::seq<int64_t>(0, ot.getRank()));
        y = tensor::ExpandShapeOp::create(b, loc, ot, flat,
                                          ArrayRef<ReassociationIndices>{allo});
      }
    }
    (void)yShape;
    b.replaceOp(op, y);
    return success();
  }
};

/// qopt.matmul with dynamic dims (rank >= 2 both sides, batch dims equal
/// or absent on the rhs; a dynamic dim is never taken to broadcast):
/// batch dims are collapsed into one, linalg.matmul / batch_matmul run on
/// `?` sizes, and the result is expanded with the operands' run-time sizes.
/// `l @ r` over equal batch dims as one N-D linalg.generic, with no copies:
/// the batch dims are not collapsed (the operands may be strided views of
/// a KV cache), and an `r` that is a transpose of its last two dims (kᵀ in
/// attention) is read in place. The loop order keeps the innermost loop
/// unit-stride so LLVM vectorizes it: (batch, m, n, k) with a reassociable
/// sum over k for a transposed `r` (a dot product of two rows), (batch, m,
/// k, n) otherwise (an axpy along a row of `r`; the inner parallel loop
/// runs serially inside the outer parallel one).
static Value batchedContraction(OpBuilder &b, Location loc, Value l, Value r,
                                ArrayRef<OpFoldResult> outDims) {
  MLIRContext *ctx = b.getContext();
  int64_t R = cast<RankedTensorType>(l.getType()).getRank(), nb = R - 2;
  bool transposed = false;
  if (auto t = r.getDefiningOp<linalg::TransposeOp>()) {
    ArrayRef<int64_t> p = t.getPermutation();
    transposed = p[R - 2] == R - 1 && p[R - 1] == R - 2;
    for (int64_t k = 0; k < nb; ++k)
      transposed &= p[k] == k;
    if (transposed)
      r = t.getInput();
  }
  // Dims: batch..., m, then (n, k) or (k, n).
  int64_t m = nb, n = transposed ? nb + 1 : nb + 2, k = transposed ? nb + 2 : nb + 1;
  auto map = [&](ArrayRef<int64_t> dims) {
    SmallVector<AffineExpr> e;
    for (int64_t i = 0; i < nb; ++i)
      e.push_back(getAffineDimExpr(i, ctx));
    for (int64_t d : dims)
      e.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(R + 1, 0, e, ctx);
  };
  SmallVector<AffineMap> maps = {map({m, k}),
                                 transposed ? map({n, k}) : map({k, n}),
                                 map({m, n})};
  SmallVector<utils::IteratorType> iters(R + 1, utils::IteratorType::parallel);
  iters[k] = utils::IteratorType::reduction;
  Value init = zeroFilled(b, loc, outDims, b.getF32Type());
  auto fm = transposed ? arith::FastMathFlags::reassoc | arith::FastMathFlags::contract
                       : arith::FastMathFlags::contract;
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{l, r}, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               auto flags = arith::FastMathFlagsAttr::get(nb.getContext(), fm);
               Value p = arith::MulFOp::create(nb, nl, a[0], a[1], flags);
               Value s = arith::AddFOp::create(nb, nl, a[2], p, flags);
               linalg::YieldOp::create(nb, nl, s);
             })
      .getResult(0);
}

struct DynamicMatMulLowering : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto lt = op.getLhs().getType(), rt = op.getRhs().getType();
    auto ot = op.getResult().getType();
    if (lt.hasStaticShape() && rt.hasStaticShape() && ot.hasStaticShape())
      return failure();
    int64_t lr = lt.getRank(), rr = rt.getRank();
    if (lr < 2 || rr < 2)
      return b.notifyMatchFailure(op, "1-D operand with dynamic dims");
    Type et = ot.getElementType();
    Value l = op.getLhs(), r = op.getRhs();
    SmallVector<OpFoldResult> ld = tensor::getMixedSizes(b, loc, l),
                              rd = tensor::getMixedSizes(b, loc, r);
    auto isOne = [](OpFoldResult d) {
      auto c = getConstantIntValue(d);
      return c && *c == 1;
    };
    auto collapseTo = [&](Value v, int64_t rank, int64_t keep) -> Value {
      // [b0..bk, x, y] -> [b0*..*bk, x, y] (keep = 2) or [rows, y] (keep = 1).
      SmallVector<ReassociationIndices> groups;
      ReassociationIndices head;
      for (int64_t k = 0; k <= rank - 1 - keep; ++k)
        head.push_back(k);
      groups.push_back(head);
      for (int64_t k = rank - keep; k < rank; ++k)
        groups.push_back({k});
      if ((int64_t)groups.size() == rank)
        return v;
      return tensor::CollapseShapeOp::create(b, loc, v, groups);
    };
    OpFoldResult M = ld[lr - 2], N = rd[rr - 1];
    Value y;
    SmallVector<OpFoldResult> outDims;
    auto zeroInit = [&](ArrayRef<OpFoldResult> dims) {
      return zeroFilled(b, loc, dims, et);
    };
    bool rhsNoBatch = llvm::all_of(ArrayRef<OpFoldResult>(rd).drop_back(2), isOne);
    if (rhsNoBatch) {
      // Rows of every lhs batch against one rhs matrix.
      Value l2 = collapseTo(l, lr, 1);
      Value r2 = r;
      if (rr > 2) { // [1,..,1,K,N] -> [K,N]
        SmallVector<ReassociationIndices> g = {
            llvm::to_vector(llvm::seq<int64_t>(0, rr - 1)), {rr - 1}};
        r2 = tensor::CollapseShapeOp::create(b, loc, r, g);
      }
      OpFoldResult rows = tensor::getMixedSize(b, loc, l2, 0);
      Value init = zeroInit({rows, N});
      y = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                   ValueRange{l2, r2}, ValueRange{init})
              .getResult(0);
      size_t nb = std::max(lr, rr) - 2;
      for (size_t k = 0; k < nb; ++k) {
        int64_t li = k + (lr - 2) - nb, ri = k + (rr - 2) - nb;
        outDims.push_back(li >= 0 ? ld[li] : rd[ri]);
      }
    } else {
      if (lr != rr)
        return b.notifyMatchFailure(op, "batch ranks differ");
      for (int64_t k = 0; k < lr - 2; ++k) {
        auto cl = getConstantIntValue(ld[k]), cr = getConstantIntValue(rd[k]);
        if ((cl || cr) && cl != cr)
          return b.notifyMatchFailure(op, "batch broadcast with dynamic dims");
        outDims.push_back(cl ? rd[k] : ld[k]);
      }
      if (lr >= 3 && et.isF32()) {
        outDims.push_back(M);
        outDims.push_back(N);
        Value y = batchedContraction(b, loc, l, r, outDims);
        if (y.getType() != ot)
          y = tensor::CastOp::create(b, loc, ot, y);
        b.replaceOp(op, y);
        return success();
      }
      Value l3 = lr == 2 ? l : collapseTo(l, lr, 2);
      Value r3 = rr == 2 ? r : collapseTo(r, rr, 2);
      OpFoldResult B = tensor::getMixedSize(b, loc, l3, 0);
      Value init = zeroInit({B, M, N});
      y = linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                        ValueRange{l3, r3}, ValueRange{init})
              .getResult(0);
    }
    outDims.push_back(M);
    outDims.push_back(N);
    auto yty = cast<RankedTensorType>(y.getType());
    if (yty.getRank() != ot.getRank()) {
      SmallVector<ReassociationIndices> groups;
      int64_t R = ot.getRank(), yr = yty.getRank();
      ReassociationIndices head;
      for (int64_t k = 0; k <= R - yr; ++k)
        head.push_back(k);
      groups.push_back(head);
      for (int64_t k = R - yr + 1; k < R; ++k)
        groups.push_back({k});
      if (llvm::count(ot.getShape(), ShapedType::kDynamic) > 1 &&
          groups.front().size() > 1) {
        // expand-strided-metadata (MLIR 22) crashes on an expand_shape
        // group with two dynamic dims: a reshape by a shape tensor.
        SmallVector<Value> ext;
        for (OpFoldResult d : outDims)
          ext.push_back(getValueOrCreateConstantIndexOp(b, loc, d));
        Value st = tensor::FromElementsOp::create(
            b, loc, RankedTensorType::get({R}, b.getIndexType()), ext);
        y = tensor::ReshapeOp::create(b, loc, ot, y, st);
      } else {
        y = tensor::ExpandShapeOp::create(b, loc, ot, y, groups, outDims);
      }
    } else if (y.getType() != ot) {
      y = tensor::CastOp::create(b, loc, ot, y);
    }
    b.replaceOp(op, y);
    return success();
  }
};

/// Indexing map of a 0-D / 1-D (along `axis`) quantization parameter, or of
/// a blocked one (the input's rank; `d_axis floordiv blockSize` along axis).
AffineMap paramMap(OpBuilder &b, int64_t rank, RankedTensorType pty,
                   int64_t axis, int64_t blockSize = 0, int64_t dimSize = 0) {
  if (pty.getRank() == 0)
    return AffineMap::get(rank, 0, {}, b.getContext());
  int64_t a = axis < 0 ? axis + rank : axis;
  if (blockSize > 0) {
    // One block over the whole axis (per-row dynamic quantization): the
    // constant 0, a plain broadcast that the vectorizer handles, rather
    // than `d floordiv size`.
    AffineExpr blk = dimSize > 0 && blockSize >= dimSize
                         ? b.getAffineConstantExpr(0)
                         : b.getAffineDimExpr(a).floorDiv(blockSize);
    SmallVector<AffineExpr> ex;
    for (int64_t d = 0; d < rank; ++d)
      ex.push_back(d == a ? blk : b.getAffineDimExpr(d));
    return AffineMap::get(rank, 0, ex, b.getContext());
  }
  return AffineMap::get(rank, 0, {b.getAffineDimExpr(a)}, b.getContext());
}

Value toF32(OpBuilder &b, Location l, Value v) {
  Type f32 = b.getF32Type();
  if (v.getType() == f32)
    return v;
  if (v.getType().getIntOrFloatBitWidth() > 32)
    return arith::TruncFOp::create(b, l, f32, v);
  return arith::ExtFOp::create(b, l, f32, v);
}

Value fromF32(OpBuilder &b, Location l, Value v, Type t) {
  if (t == v.getType())
    return v;
  if (t.getIntOrFloatBitWidth() > 32)
    return arith::ExtFOp::create(b, l, t, v);
  return arith::TruncFOp::create(b, l, t, v);
}

template <typename OpTy>
Value quantGeneric(PatternRewriter &b, OpTy op,
                   function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  Location loc = op.getLoc();
  auto ot = op.getResult().getType();
  int64_t R = ot.getRank();
  int64_t ax = op.getAxis() < 0 ? op.getAxis() + R : op.getAxis();
  int64_t axisSize = ax >= 0 && ax < R ? ot.getDimSize(ax) : 0;
  Value init = tensor::EmptyOp::create(b, loc, ot.getShape(), ot.getElementType());
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(R),
      paramMap(b, R, op.getScale().getType(), op.getAxis(), op.getBlockSize(),
               axisSize),
      paramMap(b, R, op.getZeroPoint().getType(), op.getAxis(),
               op.getBlockSize(), axisSize),
      b.getMultiDimIdentityMap(R)};
  SmallVector<utils::IteratorType> it(R, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{ot}, ValueRange{op.getInput(), op.getScale(),
                                               op.getZeroPoint()},
             ValueRange{init}, maps, it,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, body(nb, l, a));
             })
      .getResult(0);
}

struct QuantizeLowering : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &b) const override {
    if (!op.getResult().getType().hasStaticShape())
      return b.notifyMatchFailure(op, "dynamic shape");
    auto it = cast<IntegerType>(op.getResult().getType().getElementType());
    unsigned w = it.getWidth();
    bool uns = op.getIsUnsigned();
    double qmin = uns ? 0.0 : -std::ldexp(1.0, w - 1);
    double qmax = uns ? std::ldexp(1.0, w) - 1 : std::ldexp(1.0, w - 1) - 1;
    Value y = quantGeneric(b, op, [&](OpBuilder &nb, Location l, ValueRange a) {
      Type f32 = nb.getF32Type();
      Value x = toF32(nb, l, a[0]), s = toF32(nb, l, a[1]);
      Value q = math::RoundEvenOp::create(nb, l, arith::DivFOp::create(nb, l, x, s));
      Type wide = nb.getIntegerType(w >= 32 ? 64 : 32);
      Value zp = a[2];
      zp = uns ? (Value)arith::ExtUIOp::create(nb, l, wide, zp)
               : (Value)arith::ExtSIOp::create(nb, l, wide, zp);
      Value zf = arith::SIToFPOp::create(nb, l, f32, zp);
      Value v = arith::AddFOp::create(nb, l, q, zf);
      Value lo = arith::ConstantOp::create(nb, l, f32, nb.getF32FloatAttr(qmin));
      Value hi = arith::ConstantOp::create(nb, l, f32, nb.getF32FloatAttr(qmax));
      // maxnumf/minnumf: NaN saturates to qmin (defined, not poison).
      v = arith::MaxNumFOp::create(nb, l, v, lo);
      v = arith::MinNumFOp::create(nb, l, v, hi);
      Value iv = arith::FPToSIOp::create(nb, l, wide, v);
      return (Value)arith::TruncIOp::create(nb, l, it, iv);
    });
    b.replaceOp(op, y);
    return success();
  }
};

struct DequantizeLowering : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &b) const override {
    if (!op.getResult().getType().hasStaticShape())
      return b.notifyMatchFailure(op, "dynamic shape");
    Type ft = op.getResult().getType().getElementType();
    bool uns = op.getIsUnsigned();
    unsigned w = cast<IntegerType>(op.getInput().getType().getElementType())
                     .getWidth();
    Value y = quantGeneric(b, op, [&](OpBuilder &nb, Location l, ValueRange a) {
      Type i32 = nb.getI32Type();
      auto ext = [&](Value v) -> Value {
        if (w == 32) return v;
        if (w > 32) return arith::TruncIOp::create(nb, l, i32, v);
        return uns ? (Value)arith::ExtUIOp::create(nb, l, i32, v)
                   : (Value)arith::ExtSIOp::create(nb, l, i32, v);
      };
      Value d = arith::SubIOp::create(nb, l, ext(a[0]), ext(a[2]));
      Value f = arith::SIToFPOp::create(nb, l, nb.getF32Type(), d);
      Value r = arith::MulFOp::create(nb, l, f, toF32(nb, l, a[1]));
      return fromF32(nb, l, r, ft);
    });
    b.replaceOp(op, y);
    return success();
  }
};


/// [qmin, qmax] of an integer storage type (docs/semantics.md preamble).
std::pair<double, double> storageRange(unsigned w, bool uns) {
  if (uns)
    return {0.0, std::ldexp(1.0, w) - 1};
  return {-std::ldexp(1.0, w - 1), std::ldexp(1.0, w - 1) - 1};
}

Value extTo32(OpBuilder &b, Location l, Value v, bool uns) {
  Type i32 = b.getI32Type();
  unsigned w = v.getType().getIntOrFloatBitWidth();
  if (w == 32)
    return v;
  if (w > 32)
    return arith::TruncIOp::create(b, l, i32, v);
  return uns ? (Value)arith::ExtUIOp::create(b, l, i32, v)
             : (Value)arith::ExtSIOp::create(b, l, i32, v);
}

Value cstF32(OpBuilder &b, Location l, double v) {
  return arith::ConstantOp::create(b, l, b.getF32Type(), b.getF32FloatAttr(v));
}

/// docs/semantics.md §4.
struct DynamicQuantizeLowering : OpRewritePattern<DynamicQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DynamicQuantizeOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto it = op.getInput().getType();
    if (!it.hasStaticShape())
      return b.notifyMatchFailure(op, "dynamic shape");
    Type f32 = b.getF32Type();
    int64_t R = it.getRank();
    MLIRContext *ctx = b.getContext();
    Value x = op.getInput();
    if (it.getElementType() != f32) {
      Value init = tensor::EmptyOp::create(b, loc, it.getShape(), f32);
      x = linalg::GenericOp::create(
              b, loc, TypeRange{init.getType()}, ValueRange{x},
              ValueRange{init},
              SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(R)),
              SmallVector<utils::IteratorType>(R, utils::IteratorType::parallel),
              [](OpBuilder &nb, Location l, ValueRange a) {
                linalg::YieldOp::create(nb, l, toF32(nb, l, a[0]));
              })
              .getResult(0);
    }
    auto st = op.getScale().getType();
    int64_t P = st.getRank(); // params: the first P dims of the input
    bool sym = op.getSymmetric(), uns = op.getIsUnsigned();
    auto qt = cast<IntegerType>(op.getResult().getType().getElementType());
    auto [qmin, qmax] = storageRange(qt.getWidth(), uns);
    // Reductions seeded with 0: min(0, min x), max(0, max x), max|x|.
    SmallVector<AffineExpr> pe;
    for (int64_t d = 0; d < P; ++d)
      pe.push_back(b.getAffineDimExpr(d));
    SmallVector<AffineMap> rmaps = {b.getMultiDimIdentityMap(R),
                                    AffineMap::get(R, 0, pe, ctx)};
    SmallVector<utils::IteratorType> rit(R, utils::IteratorType::reduction);
    for (int64_t d = 0; d < P; ++d)
      rit[d] = utils::IteratorType::parallel;
    auto reduce = [&](function_ref<Value(OpBuilder &, Location, Value, Value)>
                          fn) {
      Value init = zeroFilled(b, loc, st.getShape(), f32);
      return linalg::GenericOp::create(
                 b, loc, TypeRange{init.getType()}, ValueRange{x},
                 ValueRange{init}, rmaps, rit,
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   linalg::YieldOp::create(nb, l, fn(nb, l, a[0], a[1]));
                 })
          .getResult(0);
    };
    Value hi = reduce([&](OpBuilder &nb, Location l, Value v, Value acc) {
      if (sym)
        v = math::AbsFOp::create(nb, l, v);
      return (Value)arith::MaximumFOp::create(nb, l, v, acc);
    });
    Value lo = sym ? hi : reduce([](OpBuilder &nb, Location l, Value v, Value acc) {
      return (Value)arith::MinimumFOp::create(nb, l, v, acc);
    });
    // scale and zero point, elementwise over the parameter shape.
    Value sInit = tensor::EmptyOp::create(b, loc, st.getShape(), f32);
    Value zInit = tensor::EmptyOp::create(b, loc, st.getShape(), qt);
    SmallVector<AffineMap> pmaps(4, b.getMultiDimIdentityMap(P));
    auto params = linalg::GenericOp::create(
        b, loc, TypeRange{sInit.getType(), zInit.getType()},
        ValueRange{hi, lo}, ValueRange{sInit, zInit}, pmaps,
        SmallVector<utils::IteratorType>(P, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location l, ValueRange a) {
          Value one = cstF32(nb, l, 1.0), zero = cstF32(nb, l, 0.0);
          Value s, z;
          if (sym) {
            s = arith::DivFOp::create(nb, l, a[0], cstF32(nb, l, qmax));
          } else {
            s = arith::SubFOp::create(nb, l, a[0], a[1]);
            s = arith::DivFOp::create(nb, l, s, cstF32(nb, l, qmax - qmin));
          }
          Value isZero =
              arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, s, zero);
          s = arith::SelectOp::create(nb, l, isZero, one, s);
          if (sym) {
            z = arith::ConstantOp::create(nb, l, qt, nb.getIntegerAttr(qt, 0));
          } else {
            Value zf = arith::SubFOp::create(
                nb, l, cstF32(nb, l, qmin), arith::DivFOp::create(nb, l, a[1], s));
            zf = math::RoundEvenOp::create(nb, l, zf);
            zf = arith::MaxNumFOp::create(nb, l, zf, cstF32(nb, l, qmin));
            zf = arith::MinNumFOp::create(nb, l, zf, cstF32(nb, l, qmax));
            Value zi = arith::FPToSIOp::create(nb, l, nb.getI32Type(), zf);
            z = qt.getWidth() == 32 ? zi
                                    : (Value)arith::TruncIOp::create(nb, l, qt, zi);
          }
          linalg::YieldOp::create(nb, l, ValueRange{s, z});
        });
    Value scale = params.getResult(0), zp = params.getResult(1);
    // Quantize: per tensor, or per row as one block per row of the last dim.
    Value q;
    auto rt = RankedTensorType::get(it.getShape(), qt);
    if (P == 0) {
      q = QuantizeOp::create(b, loc, rt, x, scale, zp, /*axis=*/0,
                             /*block_size=*/0, uns);
    } else {
      SmallVector<int64_t> ps(st.getShape());
      ps.push_back(1);
      SmallVector<ReassociationIndices> g;
      for (int64_t d = 0; d < P; ++d)
        g.push_back({d});
      g.back().push_back(P);
      Value s2 = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get(ps, f32), scale, g);
      Value z2 = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get(ps, qt), zp, g);
      q = QuantizeOp::create(b, loc, rt, x, s2, z2, /*axis=*/R - 1,
                             /*block_size=*/it.getDimSize(R - 1), uns);
    }
    b.replaceOp(op, {q, scale, zp});
    return success();
  }
};

/// docs/semantics.md §5: the operands minus their zero points in i32, then
/// an i32 qopt.matmul (lowered to linalg.matmul / linalg.batch_matmul).
struct QMatMulLowering : OpRewritePattern<QMatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QMatMulOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto ot = op.getResult().getType();
    if (!op.getLhs().getType().hasStaticShape() ||
        !op.getRhs().getType().hasStaticShape() || !ot.hasStaticShape())
      return b.notifyMatchFailure(op, "dynamic shapes");
    // zpDim: the operand dim a 1-D zero point runs along (-2 rows, -1 cols).
    auto widen = [&](Value v, Value zp, bool uns, int64_t zpDim) -> Value {
      auto vt = cast<RankedTensorType>(v.getType());
      int64_t R = vt.getRank();
      Type i32 = b.getI32Type();
      Value init = tensor::EmptyOp::create(b, loc, vt.getShape(), i32);
      SmallVector<AffineMap> maps = {
          b.getMultiDimIdentityMap(R),
          paramMap(b, R, cast<RankedTensorType>(zp.getType()), R + zpDim),
          b.getMultiDimIdentityMap(R)};
      return linalg::GenericOp::create(
                 b, loc, TypeRange{init.getType()}, ValueRange{v, zp},
                 ValueRange{init}, maps,
                 SmallVector<utils::IteratorType>(R,
                                                  utils::IteratorType::parallel),
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   Value d = arith::SubIOp::create(nb, l, extTo32(nb, l, a[0], uns),
                                                   extTo32(nb, l, a[1], uns));
                   linalg::YieldOp::create(nb, l, d);
                 })
          .getResult(0);
    };
    Value l = widen(op.getLhs(), op.getLhsZp(), op.getLhsUnsigned(), -2);
    Value r = widen(op.getRhs(), op.getRhsZp(), op.getRhsUnsigned(), -1);
    b.replaceOpWithNewOp<MatMulOp>(op, ot, l, r);
    return success();
  }
};

/// docs/semantics.md §10: element e = nibble (e % 2) of byte e / 2, sign-
/// extended with i8 shifts: (b << 4) >> 4 (low) or b >> 4 (high).
struct UnpackInt4Lowering : OpRewritePattern<UnpackInt4Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnpackInt4Op op,
                                PatternRewriter &b) const override {
    auto rt = op.getResult().getType();
    Location loc = op.getLoc();
    int64_t n = rt.getNumElements();
    Type i8 = b.getI8Type();
    auto flatTy = RankedTensorType::get({n}, i8);
    AffineExpr d0 = b.getAffineDimExpr(0);
    SmallVector<AffineMap> maps = {AffineMap::get(1, 0, {d0.floorDiv(2)},
                                                  b.getContext()),
                                   b.getMultiDimIdentityMap(1)};
    Value init = tensor::EmptyOp::create(b, loc, {n}, i8);
    auto unpack =
        linalg::GenericOp::create(
            b, loc, TypeRange{flatTy}, ValueRange{op.getInput()},
            ValueRange{init}, maps,
            SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value idx = linalg::IndexOp::create(nb, l, 0);
              Value odd = arith::IndexCastOp::create(
                  nb, l, i8,
                  arith::AndIOp::create(
                      nb, l, idx,
                      arith::ConstantIndexOp::create(nb, l, 1)));
              Value four = arith::ConstantOp::create(nb, l, i8,
                                                     nb.getI8IntegerAttr(4));
              // shift left by 4 for the low nibble, 0 for the high one.
              Value sh = arith::MulIOp::create(
                  nb, l, four,
                  arith::SubIOp::create(
                      nb, l,
                      arith::ConstantOp::create(nb, l, i8,
                                                nb.getI8IntegerAttr(1)),
                      odd));
              Value v = arith::ShLIOp::create(nb, l, a[0], sh);
              linalg::YieldOp::create(
                  nb, l, (Value)arith::ShRSIOp::create(nb, l, v, four));
            });
    // Marks the generic for qopt-tile-and-vectorize, which unpacks a
    // vector of bytes at a time (the linalg.index keeps the generic
    // vectorizer away).
    unpack->setAttr("qopt.unpack_int4", b.getUnitAttr());
    Value flat = unpack.getResult(0);
    if (rt.getRank() == 1) {
      b.replaceOp(op, flat);
      return success();
    }
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, rt.getRank()));
    b.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, rt, flat, ArrayRef<ReassociationIndices>{all});
    return success();
  }
};

struct ConvertQOptToLinalgPass
    : qopt::impl::ConvertQOptToLinalgPassBase<ConvertQOptToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateQOptToLinalgPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    bool left = false;
    getOperation()->walk([&](Operation *op) {
      if (isa<MatMulOp, QuantizeOp, DequantizeOp, DynamicQuantizeOp, QMatMulOp,
              UnpackInt4Op>(op)) {
        op->emitError("could not lower to linalg (dynamic shape?)");
        left = true;
      }
    });
    if (left)
      signalPassFailure();
  }
};

} // namespace

void mlir::qopt::populateQOptToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulLowering, DynamicMatMulLowering, QuantizeLowering, DequantizeLowering,
               DynamicQuantizeLowering, QMatMulLowering>(
      patterns.getContext());
  patterns.add<UnpackInt4Lowering>(patterns.getContext());
}
