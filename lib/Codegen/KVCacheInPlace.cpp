//===- KVCacheInPlace.cpp - past/present pairs as in-place caches ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// An Optimum KV decoder returns `present.X = Concat(past_key_values.X, new)`:
// every call copies the whole cache. Here the input becomes a buffer of some
// capacity that the caller keeps between calls; the new rows are inserted
// at the past length, and everything that read `present.X` reads the filled
// prefix of that buffer. The past length cannot be the input's dim any more
// (that is now the capacity), so it is recomputed as the present length
// (the dim of an input that carries the same name, e.g. attention_mask's
// total_sequence_length) minus the new length. Bufferization then writes
// the rows straight into the caller's buffer (function arguments are
// writable), and the present outputs disappear.
//
// mode=int8 stores the cache as int8 rows with one f32 scale per row (per
// batch, head and position; symmetric over the last dim, docs/semantics.md
// §11): the cache input becomes i8 and a second cache input `X.scale`
// ([.., kv_capacity, 1]) holds the scales. The new rows are quantized before
// they are inserted, and the present is the dequantized prefix, fused into
// the generics that read it (attention's QK^T and PV contractions then read
// the int8 rows and the scales directly; no f32 copy of the prefix).
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTKVCACHEINPLACEPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
constexpr StringLiteral kPastPrefix = "past_key_values.";
constexpr StringLiteral kPresentPrefix = "present.";

StringRef nameOf(DictionaryAttr attrs) {
  auto n = attrs ? attrs.getAs<StringAttr>("qopt.name") : nullptr;
  return n ? n.getValue() : StringRef();
}

StringRef dimName(DictionaryAttr attrs, int64_t d) {
  auto names = attrs ? attrs.getAs<ArrayAttr>("qopt.dim_names") : nullptr;
  if (!names || d >= (int64_t)names.size())
    return {};
  auto s = dyn_cast<StringAttr>(names[d]);
  return s ? s.getValue() : StringRef();
}

/// One past/present pair and the concatenation that links them.
struct Pair {
  unsigned arg, result;
  int64_t axis;
  tensor::InsertSliceOp past, fresh; // past into empty; new rows after it
};

bool isZero(OpFoldResult f) {
  std::optional<int64_t> c = getConstantIntValue(f);
  return c && *c == 0;
}

bool isOne(OpFoldResult f) {
  std::optional<int64_t> c = getConstantIntValue(f);
  return c && *c == 1;
}

/// `r` = insert_slice(new, insert_slice(past, empty)) along one axis, with
/// `past` inserted whole at 0 and `new` right after it. Returns the axis.
FailureOr<int64_t> matchConcat(Value r, BlockArgument past,
                               tensor::InsertSliceOp &first,
                               tensor::InsertSliceOp &second) {
  second = r.getDefiningOp<tensor::InsertSliceOp>();
  if (!second)
    return failure();
  first = second.getDest().getDefiningOp<tensor::InsertSliceOp>();
  if (!first || first.getSource() != past ||
      !first.getDest().getDefiningOp<tensor::EmptyOp>() ||
      !first->hasOneUse())
    return failure();
  auto pastType = cast<RankedTensorType>(past.getType());
  if (!first.getSourceType().hasStaticShape() &&
      first.getSourceType() != pastType)
    return failure();
  int64_t axis = -1;
  for (auto [d, off] : llvm::enumerate(second.getMixedOffsets())) {
    if (!isZero(first.getMixedOffsets()[d]) || !isOne(first.getMixedStrides()[d]) ||
        !isOne(second.getMixedStrides()[d]))
      return failure();
    if (isZero(off))
      continue;
    if (axis >= 0)
      return failure();
    axis = d;
  }
  if (axis < 0 || !pastType.isDynamicDim(axis))
    return failure();
  // The new rows start where the past ends: its size along the axis.
  OpFoldResult off = second.getMixedOffsets()[axis];
  auto offDim = dyn_cast_if_present<Value>(off)
                    ? dyn_cast<Value>(off).getDefiningOp<tensor::DimOp>()
                    : nullptr;
  OpFoldResult pastSize = first.getMixedSizes()[axis];
  if (!(pastSize == off ||
        (offDim && offDim.getSource() == past &&
         offDim.getConstantIndex() == axis)))
    return failure();
  return axis;
}


/// Marks the dequantization of an int8 cache prefix (fused into readers).
constexpr StringLiteral kDequantAttr = "qopt.kv_dequant";

Value cstF32(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32Type(),
                                   b.getF32FloatAttr(v));
}

/// `dims` with the last one replaced by 1 (the scale rows' shape).
SmallVector<OpFoldResult> lastOne(OpBuilder &b, ArrayRef<OpFoldResult> dims) {
  SmallVector<OpFoldResult> r(dims);
  r.back() = b.getIndexAttr(1);
  return r;
}

RankedTensorType scaleType(RankedTensorType t) {
  SmallVector<int64_t> shape(t.getShape());
  shape.back() = 1;
  return RankedTensorType::get(shape, Float32Type::get(t.getContext()));
}

/// (d0, .., dn-1) -> (d0, .., dn-2, 0): a row's scale.
AffineMap rowScaleMap(MLIRContext *ctx, int64_t rank) {
  SmallVector<AffineExpr> e;
  for (int64_t d = 0; d + 1 < rank; ++d)
    e.push_back(getAffineDimExpr(d, ctx));
  e.push_back(getAffineConstantExpr(0, ctx));
  return AffineMap::get(rank, 0, e, ctx);
}

/// Symmetric per-row int8 quantization of f32 rows `x` (the last dim), as
/// qopt.dynamic_quantize {symmetric, per_row} (docs/semantics.md §4):
/// scale = max|x| / 127 (1 where that is 0), q = clamp(roundeven(x /
/// scale), -128, 127). Returns {q (i8, x's shape), scale (x's shape with
/// the last dim 1)}.
std::pair<Value, Value> quantizeRows(OpBuilder &b, Location loc, Value x) {
  MLIRContext *ctx = b.getContext();
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t R = xt.getRank();
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  SmallVector<OpFoldResult> dims = tensor::getMixedSizes(b, loc, x);
  // max|x| per row, seeded with 0 (NaN-propagating maximumf).
  SmallVector<OpFoldResult> rowDims(ArrayRef<OpFoldResult>(dims).drop_back());
  Value zero = cstF32(b, loc, 0.0);
  Value amaxInit =
      linalg::FillOp::create(b, loc, zero,
                             tensor::EmptyOp::create(b, loc, rowDims, f32)
                                 .getResult())
          .getResult(0);
  SmallVector<utils::IteratorType> red(R, utils::IteratorType::parallel);
  red.back() = utils::IteratorType::reduction;
  AffineMap id = b.getMultiDimIdentityMap(R);
  Value amax =
      linalg::GenericOp::create(
          b, loc, TypeRange{amaxInit.getType()}, ValueRange{x},
          ValueRange{amaxInit}, ArrayRef<AffineMap>{id, id.dropResult(R - 1)},
          red,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value v = math::AbsFOp::create(nb, l, a[0]);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::MaximumFOp::create(nb, l, v, a[1])});
          })
          .getResult(0);
  // scale = max|x| / 127; a zero scale becomes 1.
  SmallVector<OpFoldResult> sDims = lastOne(b, dims);
  Value sInit = tensor::EmptyOp::create(b, loc, sDims, f32);
  SmallVector<utils::IteratorType> par(R, utils::IteratorType::parallel);
  Value scale =
      linalg::GenericOp::create(
          b, loc, TypeRange{sInit.getType()}, ValueRange{amax},
          ValueRange{sInit}, ArrayRef<AffineMap>{id.dropResult(R - 1), id},
          par,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value s = arith::DivFOp::create(nb, l, a[0], cstF32(nb, l, 127.0));
            Value isZero = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::OEQ, s, cstF32(nb, l, 0.0));
            s = arith::SelectOp::create(nb, l, isZero, cstF32(nb, l, 1.0), s);
            linalg::YieldOp::create(nb, l, ValueRange{s});
          })
          .getResult(0);
  // q = clamp(roundeven(x / scale), -128, 127) (maxnumf/minnumf: NaN -> -128).
  Value qInit = tensor::EmptyOp::create(b, loc, dims, i8);
  Value q =
      linalg::GenericOp::create(
          b, loc, TypeRange{qInit.getType()}, ValueRange{x, scale},
          ValueRange{qInit},
          ArrayRef<AffineMap>{id, rowScaleMap(ctx, R), id}, par,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value v = math::RoundEvenOp::create(
                nb, l, arith::DivFOp::create(nb, l, a[0], a[1]));
            v = arith::MaxNumFOp::create(nb, l, v, cstF32(nb, l, -128.0));
            v = arith::MinNumFOp::create(nb, l, v, cstF32(nb, l, 127.0));
            Value iv = arith::FPToSIOp::create(nb, l, nb.getI32Type(), v);
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::TruncIOp::create(nb, l, i8, iv)});
          })
          .getResult(0);
  return {q, scale};
}

/// f32(q) * scale (qopt.dequantize with zero point 0, §2), marked for
/// fusion into its readers.
Value dequantizeRows(OpBuilder &b, Location loc, Value q, Value scale) {
  MLIRContext *ctx = b.getContext();
  auto qt = cast<RankedTensorType>(q.getType());
  int64_t R = qt.getRank();
  Value init = tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, q),
                                       b.getF32Type());
  AffineMap id = b.getMultiDimIdentityMap(R);
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{q, scale}, ValueRange{init},
      ArrayRef<AffineMap>{id, rowScaleMap(ctx, R), id},
      SmallVector<utils::IteratorType>(R, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value f = arith::SIToFPOp::create(nb, l, nb.getF32Type(), a[0]);
        linalg::YieldOp::create(
            nb, l, ValueRange{arith::MulFOp::create(nb, l, f, a[1])});
      });
  g->setAttr(kDequantAttr, UnitAttr::get(ctx));
  return g.getResult(0);
}

/// Fuses each marked dequantization into the generics that read it (the
/// same scalar ops per element: bit-identical), so readers take the int8
/// rows and scales; erases it once nothing else reads it.
void fuseDequantizations(func::FuncOp fn) {
  SmallVector<linalg::GenericOp> deqs;
  fn.walk([&](linalg::GenericOp g) {
    if (g->hasAttr(kDequantAttr))
      deqs.push_back(g);
  });
  IRRewriter rewriter(fn.getContext());
  for (linalg::GenericOp deq : deqs) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (OpOperand &use : deq.getResult(0).getUses()) {
        auto consumer = dyn_cast<linalg::GenericOp>(use.getOwner());
        if (!consumer || !linalg::areElementwiseOpsFusable(&use))
          continue;
        rewriter.setInsertionPoint(consumer);
        FailureOr<linalg::ElementwiseOpFusionResult> r =
            linalg::fuseElementwiseOps(rewriter, &use);
        if (failed(r))
          continue;
        for (auto [orig, repl] : r->replacements)
          rewriter.replaceUsesWithIf(orig, repl, [&](OpOperand &u) {
            return u.getOwner() != r->fusedOp;
          });
        rewriter.eraseOp(consumer);
        changed = true;
        break;
      }
    }
    if (deq->use_empty())
      rewriter.eraseOp(deq);
    else
      deq->removeAttr(kDequantAttr);
  }
}

struct QOptKVCacheInPlacePass
    : impl::QOptKVCacheInPlacePassBase<QOptKVCacheInPlacePass> {
  using QOptKVCacheInPlacePassBase::QOptKVCacheInPlacePassBase;
  void runOnOperation() override {
    if (mode != "auto" && mode != "inplace" && mode != "copy" &&
        mode != "int8") {
      getOperation().emitError("qopt-kv-cache-in-place: mode must be auto, "
                               "inplace, copy or int8, got '")
          << mode << "'";
      return signalPassFailure();
    }
    if (mode == "copy")
      return;
    func::FuncOp fn = findEntryFunc(getOperation());
    if (!fn || !fn.getBody().hasOneBlock()) {
      if (mode != "auto") {
        getOperation().emitError("--kv-cache=")
            << mode << ": no entry function with one block";
        signalPassFailure();
      }
      return;
    }
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());

    SmallVector<Pair> pairs;
    for (unsigned a = 0; a < fn.getNumArguments(); ++a) {
      StringRef name = nameOf(fn.getArgAttrDict(a));
      if (!name.starts_with(kPastPrefix))
        continue;
      std::string present =
          (kPresentPrefix + name.drop_front(kPastPrefix.size())).str();
      std::optional<unsigned> res;
      for (unsigned r = 0; r < fn.getNumResults(); ++r)
        if (nameOf(fn.getResultAttrDict(r)) == present)
          res = r;
      if (!res)
        return refuse(fn, "input '" + name + "' has no output '" + present +
                              "' (Optimum naming)");
      Pair p{a, *res, -1, nullptr, nullptr};
      FailureOr<int64_t> axis = matchConcat(ret.getOperand(*res),
                                            fn.getArgument(a), p.past, p.fresh);
      if (failed(axis))
        return refuse(fn, "output '" + present + "' is not input '" + name +
                              "' concatenated with the new tokens along a "
                              "dynamic axis");
      p.axis = *axis;
      if (int8()) {
        auto t = cast<RankedTensorType>(fn.getArgument(a).getType());
        if (!t.getElementType().isF32() || p.axis + 1 >= t.getRank() ||
            t.isDynamicDim(t.getRank() - 1))
          return refuse(fn, "input '" + name +
                                "' is not f32 with rows along a static last "
                                "dim after the sequence axis (int8 rows)");
      }
      pairs.push_back(p);
    }
    if (pairs.empty()) {
      if (mode != "auto") {
        fn.emitError("--kv-cache=") << mode << ": no past_key_values.X inputs";
        signalPassFailure();
      }
      return;
    }

    // Every pair agrees on where the lengths come from.
    OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
    Location loc = fn.getLoc();
    std::string totalName, newName;
    Value total, fresh, pastLen;
    for (Pair &p : pairs) {
      StringRef t = dimName(fn.getResultAttrDict(p.result), p.axis);
      Value n = getValueOrCreateConstantIndexOp(
          b, loc, p.fresh.getMixedSizes()[p.axis]);
      auto nDim = n.getDefiningOp<tensor::DimOp>();
      auto nArg = nDim ? dyn_cast<BlockArgument>(nDim.getSource()) : nullptr;
      std::optional<int64_t> nIdx = nDim ? nDim.getConstantIndex() : std::nullopt;
      StringRef nName =
          nArg && nIdx ? dimName(fn.getArgAttrDict(nArg.getArgNumber()), *nIdx)
                       : StringRef();
      if (t.empty() || nName.empty())
        return refuse(fn, "the lengths of output '" +
                              nameOf(fn.getResultAttrDict(p.result)) +
                              "' and of the new tokens need dim names");
      if (!totalName.empty() && (t != totalName || nName != newName))
        return refuse(fn, "the caches disagree on the length dims");
      if (!totalName.empty())
        continue;
      totalName = t.str();
      newName = nName.str();
      for (unsigned a = 0; a < fn.getNumArguments() && !total; ++a) {
        auto type = dyn_cast<RankedTensorType>(fn.getArgument(a).getType());
        for (int64_t d = 0; type && d < type.getRank() && !total; ++d)
          if (dimName(fn.getArgAttrDict(a), d) == totalName &&
              !llvm::any_of(pairs, [&](Pair &q) { return q.arg == a; }))
            total = tensor::DimOp::create(b, loc, fn.getArgument(a), d);
      }
      if (!total)
        return refuse(fn, "no input has the present length '" + totalName +
                              "' (attention_mask in the Optimum layout)");
      fresh = tensor::DimOp::create(b, loc, nArg, *nIdx);
      pastLen = arith::SubIOp::create(b, loc, total, fresh);
    }

    MLIRContext *ctx = &getContext();
    llvm::BitVector dropped(fn.getNumResults());
    for (Pair &p : pairs) {
      BlockArgument cache = fn.getArgument(p.arg);
      auto type = cast<RankedTensorType>(cache.getType());
      // int8: the cache holds i8 rows, a new input holds their scales.
      Value scales;
      if (int8()) {
        cache.setType(RankedTensorType::get(type.getShape(),
                                            IntegerType::get(ctx, 8)));
        fn.removeArgAttr(p.arg, "qopt.dtype");
        if (failed(fn.insertArgument(fn.getNumArguments(), scaleType(type),
                                     nullptr, cache.getLoc())))
          return signalPassFailure();
        scales = fn.getArgument(fn.getNumArguments() - 1);
      }
      // Reads of the past length (the arg's dim) now take it from the mask.
      for (Operation *user : llvm::make_early_inc_range(cache.getUsers()))
        if (auto d = dyn_cast<tensor::DimOp>(user))
          if (d.getConstantIndex() == p.axis)
            d.replaceAllUsesWith(pastLen);
      // Other readers of the past see the prefix.
      OpBuilder at(ctx);
      at.setInsertionPointAfter(pastLen.getDefiningOp());
      SmallVector<OpFoldResult> zeros(type.getRank(), at.getIndexAttr(0)),
          ones(type.getRank(), at.getIndexAttr(1)), pastSizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        pastSizes.push_back(
            d == p.axis ? OpFoldResult(pastLen)
                        : tensor::getMixedSize(at, loc, cache, d));
      Value prefix;
      for (OpOperand &use : llvm::make_early_inc_range(cache.getUses())) {
        if (use.getOwner() == p.past || isa<tensor::DimOp>(use.getOwner()))
          continue;
        if (!prefix)
          prefix = tensor::ExtractSliceOp::create(at, loc, cache, zeros,
                                                  pastSizes, ones);
        if (int8() && prefix.getDefiningOp<tensor::ExtractSliceOp>())
          prefix = dequantizeRows(
              at, loc, prefix,
              tensor::ExtractSliceOp::create(at, loc, scales, zeros,
                                             lastOne(at, pastSizes), ones));
        use.set(prefix);
      }
      // The new rows go into the cache at the past length; the present is
      // the cache's prefix up to the present length.
      at.setInsertionPoint(p.fresh);
      auto empty = p.past.getDest().getDefiningOp<tensor::EmptyOp>();
      Value present;
      if (int8()) {
        // Quantized rows and their scales go in; the present is the
        // dequantized prefix of both.
        auto [q, s] = quantizeRows(at, loc, p.fresh.getSource());
        Value updatedQ = tensor::InsertSliceOp::create(
            at, loc, q, cache, p.fresh.getMixedOffsets(),
            p.fresh.getMixedSizes(), p.fresh.getMixedStrides());
        SmallVector<OpFoldResult> sOffsets(p.fresh.getMixedOffsets());
        sOffsets.back() = at.getIndexAttr(0);
        Value updatedS = tensor::InsertSliceOp::create(
            at, loc, s, scales, sOffsets, lastOne(at, p.fresh.getMixedSizes()),
            p.fresh.getMixedStrides());
        auto presentType = p.fresh.getType();
        Value presentQ = tensor::ExtractSliceOp::create(
            at, loc,
            RankedTensorType::get(presentType.getShape(),
                                  IntegerType::get(ctx, 8)),
            updatedQ, zeros, empty.getMixedSizes(), ones);
        Value presentS = tensor::ExtractSliceOp::create(
            at, loc, scaleType(presentType), updatedS, zeros,
            lastOne(at, empty.getMixedSizes()), ones);
        present = dequantizeRows(at, loc, presentQ, presentS);
      } else {
        Value updated = tensor::InsertSliceOp::create(
            at, loc, p.fresh.getSource(), cache, p.fresh.getMixedOffsets(),
            p.fresh.getMixedSizes(), p.fresh.getMixedStrides());
        present = tensor::ExtractSliceOp::create(
            at, loc, p.fresh.getType(), updated, zeros, empty.getMixedSizes(),
            ones);
      }
      p.fresh.getResult().replaceAllUsesExcept(present, ret);
      dropped.set(p.result);

      SmallVector<Attribute> names;
      auto old = fn.getArgAttrOfType<ArrayAttr>(p.arg, "qopt.dim_names");
      for (int64_t d = 0; d < type.getRank(); ++d)
        names.push_back(d == p.axis ? StringAttr::get(ctx, "kv_capacity")
                                    : old && d < (int64_t)old.size()
                                          ? old[d]
                                          : StringAttr::get(ctx, ""));
      fn.setArgAttr(p.arg, "qopt.dim_names", ArrayAttr::get(ctx, names));
      NamedAttribute info[] = {
          {StringAttr::get(ctx, "present"),
           StringAttr::get(ctx, nameOf(fn.getResultAttrDict(p.result)))},
          {StringAttr::get(ctx, "axis"),
           IntegerAttr::get(IntegerType::get(ctx, 64), p.axis)},
          {StringAttr::get(ctx, "total"), StringAttr::get(ctx, totalName)},
          {StringAttr::get(ctx, "new"), StringAttr::get(ctx, newName)}};
      fn.setArgAttr(p.arg, "qopt.kv_cache", DictionaryAttr::get(ctx, info));
      if (int8()) {
        unsigned si = cast<BlockArgument>(scales).getArgNumber();
        names.back() = StringAttr::get(ctx, "");
        fn.setArgAttr(si, "qopt.name",
                      StringAttr::get(ctx, nameOf(fn.getArgAttrDict(p.arg)) +
                                               ".scale"));
        fn.setArgAttr(si, "qopt.dim_names", ArrayAttr::get(ctx, names));
        fn.setArgAttr(si, "qopt.kv_cache", DictionaryAttr::get(ctx, info));
      }
    }
    // Drop the present outputs; the concatenations die with them.
    for (int r = fn.getNumResults() - 1; r >= 0; --r)
      if (dropped.test(r))
        ret->eraseOperand(r);
    if (failed(fn.eraseResults(dropped)))
      return signalPassFailure();
    for (Pair &p : pairs) {
      auto empty = p.past.getDest().getDefiningOp<tensor::EmptyOp>();
      p.fresh->erase();
      p.past->erase();
      if (empty->use_empty())
        empty->erase();
    }
    if (int8()) {
      // The caches' block arguments are i8 now.
      fn.setType(FunctionType::get(ctx, fn.getBody().getArgumentTypes(),
                                   fn.getResultTypes()));
      fuseDequantizations(fn);
    }
  }

  /// A model with past inputs that does not follow the layout: under auto
  /// a warning (it keeps the ONNX signature), under inplace an error.
  bool int8() const { return mode == "int8"; }

  void refuse(Operation *op, const Twine &why) {
    if (mode == "auto") {
      op->emitWarning("KV caches stay inputs/outputs (not in place): ") << why;
      return;
    }
    op->emitError("--kv-cache=") << mode << ": " << why;
    signalPassFailure();
  }
};
} // namespace
} // namespace mlir::qopt
