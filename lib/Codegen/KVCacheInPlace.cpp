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
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

struct QOptKVCacheInPlacePass
    : impl::QOptKVCacheInPlacePassBase<QOptKVCacheInPlacePass> {
  using QOptKVCacheInPlacePassBase::QOptKVCacheInPlacePassBase;
  void runOnOperation() override {
    if (mode != "auto" && mode != "inplace" && mode != "copy") {
      getOperation().emitError("qopt-kv-cache-in-place: mode must be auto, "
                               "inplace or copy, got '")
          << mode << "'";
      return signalPassFailure();
    }
    if (mode == "copy")
      return;
    func::FuncOp fn = findEntryFunc(getOperation());
    if (!fn || !fn.getBody().hasOneBlock()) {
      if (mode == "inplace") {
        getOperation().emitError(
            "--kv-cache=inplace: no entry function with one block");
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
      pairs.push_back(p);
    }
    if (pairs.empty()) {
      if (mode == "inplace") {
        fn.emitError("--kv-cache=inplace: no past_key_values.X inputs");
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
        use.set(prefix);
      }
      // The new rows go into the cache at the past length; the present is
      // the cache's prefix up to the present length.
      at.setInsertionPoint(p.fresh);
      Value updated = tensor::InsertSliceOp::create(
          at, loc, p.fresh.getSource(), cache, p.fresh.getMixedOffsets(),
          p.fresh.getMixedSizes(), p.fresh.getMixedStrides());
      auto empty = p.past.getDest().getDefiningOp<tensor::EmptyOp>();
      Value present = tensor::ExtractSliceOp::create(
          at, loc, p.fresh.getType(), updated, zeros, empty.getMixedSizes(),
          ones);
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
  }

  /// A model with past inputs that does not follow the layout: under auto
  /// a warning (it keeps the ONNX signature), under inplace an error.
  void refuse(Operation *op, const Twine &why) {
    if (mode == "auto") {
      op->emitWarning("KV caches stay inputs/outputs (not in place): ") << why;
      return;
    }
    op->emitError("--kv-cache=inplace: ") << why;
    signalPassFailure();
  }
};
} // namespace
} // namespace mlir::qopt
