//===- RuntimeOperands.cpp - shape operands known only at run time -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Unsqueeze/Squeeze axes, Slice axes/steps, Split sizes, Tile repeats,
// OneHot depth, Pad pads, ReduceSum axes and CumSum's axis given as graph
// inputs. The operand's elements are read at run time (tensor.extract of a
// small static-length tensor) and the output dims they decide are `?`
// sizes computed from them with index arithmetic; the data movement is a
// generic (or loop) indexed by those sizes.
//
// Invalid operand values (out-of-range or repeated axes, pads larger than
// the dim, split sizes that do not sum up) cannot be reported at run time:
// the sizes are then clamped so that no read or write leaves a tensor, and
// the result is unspecified (ONNX calls these inputs errors).
//
//===----------------------------------------------------------------------===//
#include "Loops.h"
#include "RuntimeOperands.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

/// Index-valued helpers on the converter's builder.
struct IB {
  OpBuilder &b;
  Location l;
  Value c(int64_t v) { return idxConst(b, l, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, l, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, l, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, l, x, y); }
  Value sel(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, l, c, x, y);
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, l, p, x, y);
  }
  Value eq(Value x, Value y) { return cmp(arith::CmpIPredicate::eq, x, y); }
  Value lt(Value x, Value y) { return cmp(arith::CmpIPredicate::slt, x, y); }
  Value gt(Value x, Value y) { return cmp(arith::CmpIPredicate::sgt, x, y); }
  Value land(Value x, Value y) { return arith::AndIOp::create(b, l, x, y); }
  Value lor(Value x, Value y) { return arith::OrIOp::create(b, l, x, y); }
  Value lnot(Value x) {
    return arith::XOrIOp::create(b, l, x,
                                 arith::ConstantIntOp::create(b, l, 1, 1));
  }
  Value falseV() { return arith::ConstantIntOp::create(b, l, 0, 1); }
  /// a < 0 ? a + n : a.
  Value wrap(Value a, Value n) { return sel(lt(a, c(0)), add(a, n), a); }
  Value clamp(Value x, Value lo, Value hi) { return min(max(x, lo), hi); }
};

/// The elements of a small integer (or float: truncated) tensor as index
/// values; nullopt if it has no static length.
std::optional<SmallVector<Value>> indexElems(Converter &cv, const TValue &v) {
  if (!isInteger(v.dt) && !isFloat(v.dt))
    return std::nullopt;
  auto es = cv.elements(v);
  if (!es)
    return std::nullopt;
  SmallVector<Value> out;
  for (Value e : *es) {
    Value i = cv.castScalar(cv.b, cv.loc, e, v.dt, DType::I64);
    out.push_back(arith::IndexCastOp::create(cv.b, cv.loc,
                                             cv.b.getIndexType(), i));
  }
  return out;
}

InFlightDiagnostic badOperand(Converter &cv, const Node &node, StringRef what) {
  return cv.error(node) << "'" << what
                        << "' must be a 1-D integer tensor of static length";
}

SmallVector<OpFoldResult> asDims(ArrayRef<Value> vs) {
  return SmallVector<OpFoldResult>(vs.begin(), vs.end());
}

/// Whether each of the `r` dims is named by one of `axes` (normalized).
SmallVector<Value> axisMask(IB &ib, ArrayRef<Value> axes, int64_t r) {
  SmallVector<Value> normed, mask;
  for (Value a : axes)
    normed.push_back(ib.wrap(a, ib.c(r)));
  for (int64_t k = 0; k < r; ++k) {
    Value m = ib.falseV();
    for (Value a : normed)
      m = ib.lor(m, ib.eq(a, ib.c(k)));
    mask.push_back(m);
  }
  return mask;
}

/// out[q] = vals[k] for the q-th k with keep[k] (q < R), else `def`.
SmallVector<Value> compact(IB &ib, ArrayRef<Value> keep, ArrayRef<Value> vals,
                           int64_t R, Value def) {
  SmallVector<Value> out(R, def);
  Value before = ib.c(0);
  for (auto [k, kp] : llvm::enumerate(keep)) {
    for (int64_t q = 0; q < R; ++q)
      out[q] = ib.sel(ib.land(kp, ib.eq(before, ib.c(q))), vals[k], out[q]);
    before = ib.sel(kp, ib.add(before, ib.c(1)), before);
  }
  return out;
}

Value product(IB &ib, ArrayRef<Value> vs) {
  Value p = ib.c(1);
  for (Value v : vs)
    p = ib.mul(p, v);
  return p;
}

} // namespace

//===----------------------------------------------------------------------===//
// Unsqueeze, Squeeze
//===----------------------------------------------------------------------===//

LogicalResult onnx::convertUnsqueezeRuntime(Converter &cv, const Node &node,
                                            SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  auto axes = indexElems(cv, node.in(1));
  if (!axes || node.in(1).rank() != 1)
    return badOperand(cv, node, "axes");
  IB ib{cv.b, cv.loc};
  int64_t r = x.rank(), R = r + axes->size();
  SmallVector<Value> xd = dimValues(cv, x), mask = axisMask(ib, *axes, R);
  // Output dim p: 1 where an axis names it, else the next input dim.
  SmallVector<Value> dims;
  Value taken = ib.c(0);
  for (int64_t p = 0; p < R; ++p) {
    Value idx = ib.sub(ib.c(p), taken), d = ib.c(1);
    for (int64_t k = 0; k < r; ++k)
      d = ib.sel(ib.eq(idx, ib.c(k)), xd[k], d);
    dims.push_back(ib.sel(mask[p], ib.c(1), d));
    taken = ib.sel(mask[p], ib.add(taken, ib.c(1)), taken);
  }
  res.push_back(cv.reshapeToDims(x, asDims(dims)));
  return success();
}

LogicalResult onnx::convertSqueezeRuntime(Converter &cv, const Node &node,
                                          SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  auto axes = indexElems(cv, node.in(1));
  if (!axes || node.in(1).rank() != 1)
    return badOperand(cv, node, "axes");
  int64_t r = x.rank(), R = r - (int64_t)axes->size();
  if (R < 0)
    return cv.error(node) << axes->size() << " axes for rank " << r;
  IB ib{cv.b, cv.loc};
  SmallVector<Value> xd = dimValues(cv, x), mask = axisMask(ib, *axes, r), keep;
  // Only dims of size 1 are dropped.
  for (int64_t k = 0; k < r; ++k)
    keep.push_back(ib.lnot(ib.land(mask[k], ib.eq(xd[k], ib.c(1)))));
  SmallVector<Value> dims = compact(ib, keep, xd, R, ib.c(1));
  if (R > 0) { // invalid axes: a flat view, never more elements than x
    Value n = product(ib, xd);
    Value bad = ib.cmp(arith::CmpIPredicate::ne, product(ib, dims), n);
    for (int64_t q = 0; q < R; ++q)
      dims[q] = ib.sel(bad, q == 0 ? n : ib.c(1), dims[q]);
  }
  res.push_back(cv.reshapeToDims(x, asDims(dims)));
  return success();
}

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

LogicalResult onnx::convertSliceRuntime(Converter &cv, const Node &node,
                                        SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  SmallVector<SmallVector<Value>> ops(4);
  for (unsigned k = 1; k < 5; ++k) {
    if (!node.has(k))
      continue;
    auto es = indexElems(cv, node.in(k));
    if (!es || node.in(k).rank() != 1)
      return badOperand(cv, node, k == 1   ? "starts"
                                  : k == 2 ? "ends"
                                  : k == 3 ? "axes"
                                           : "steps");
    ops[k - 1] = *es;
  }
  size_t m = ops[0].size();
  if (ops[1].size() != m || (node.has(3) && ops[2].size() != m) ||
      (node.has(4) && ops[3].size() != m))
    return cv.error(node) << "starts, ends, axes and steps differ in length";
  IB ib{cv.b, cv.loc};
  SmallVector<Value> xd = dimValues(cv, x), start, size, step;
  for (int64_t k = 0; k < r; ++k) {
    start.push_back(ib.c(0));
    size.push_back(xd[k]);
    step.push_back(ib.c(1));
  }
  for (size_t j = 0; j < m; ++j) {
    Value a = node.has(3) ? ib.wrap(ops[2][j], ib.c(r)) : ib.c(j);
    Value sp = node.has(4) ? ops[3][j] : ib.c(1);
    Value zero = ib.c(0), one = ib.c(1);
    Value spZero = ib.eq(sp, zero), pos = ib.gt(sp, zero);
    for (int64_t k = 0; k < r; ++k) {
      Value d = xd[k], dm1 = ib.sub(d, one);
      Value s0 = ib.wrap(ops[0][j], d), e0 = ib.wrap(ops[1][j], d);
      // step > 0: [s, e) within [0, d]; step < 0: (e, s] within [-1, d-1].
      Value sP = ib.clamp(s0, zero, d), eP = ib.clamp(e0, zero, d);
      Value sN = ib.min(ib.max(s0, zero), dm1);
      Value eN = ib.min(ib.max(e0, ib.c(-1)), dm1);
      Value span = ib.sel(pos, ib.sub(eP, sP), ib.sub(sN, eN));
      Value mag = ib.sel(pos, sp, ib.sub(zero, sp));
      mag = ib.sel(spZero, one, mag);
      Value n = ib.add(
          arith::DivSIOp::create(cv.b, cv.loc, ib.sub(span, one), mag), one);
      n = ib.sel(ib.lor(spZero, ib.cmp(arith::CmpIPredicate::sle, span, zero)),
                 zero, n);
      Value match = ib.eq(a, ib.c(k));
      start[k] = ib.sel(match, ib.sel(pos, sP, sN), start[k]);
      size[k] = ib.sel(match, n, size[k]);
      step[k] = ib.sel(match, ib.sel(spZero, one, sp), step[k]);
    }
  }
  Value src = x.v;
  res.push_back(indexGenericDims(
      cv, asDims(size), x.dt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange o, ValueRange) -> Value {
        SmallVector<Value> at;
        for (int64_t k = 0; k < r; ++k)
          at.push_back(arith::AddIOp::create(
              b, l, start[k], arith::MulIOp::create(b, l, o[k], step[k])));
        return tensor::ExtractOp::create(b, l, src, at);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// Split, Tile, OneHot
//===----------------------------------------------------------------------===//

LogicalResult onnx::convertSplitRuntime(Converter &cv, const Node &node,
                                        SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  auto axis = normalizeAxis(node.i("axis", 0), r);
  if (!axis)
    return cv.error(node) << "axis out of range";
  auto sizes = indexElems(cv, node.in(1));
  if (!sizes || node.in(1).rank() != 1)
    return badOperand(cv, node, "split");
  if (sizes->size() != node.numOutputs)
    return cv.error(node) << "'split' has " << sizes->size() << " entries for "
                          << node.numOutputs << " outputs";
  IB ib{cv.b, cv.loc};
  Value d = cv.indexValue(cv.dim(x, *axis)), off = ib.c(0);
  for (Value s : *sizes) {
    Value o = ib.min(off, d);
    Value n = ib.clamp(s, ib.c(0), ib.sub(d, o));
    SmallVector<OpFoldResult> offs(r, cv.b.getIndexAttr(0)), sz = cv.dims(x);
    offs[*axis] = o;
    sz[*axis] = n;
    res.push_back(cv.sliceDims(x, offs, sz, SmallVector<int64_t>(r, 1)));
    off = ib.add(o, n);
  }
  return success();
}

LogicalResult onnx::convertTileRuntime(Converter &cv, const Node &node,
                                       SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  auto reps = indexElems(cv, node.in(1));
  if (!reps || node.in(1).rank() != 1)
    return badOperand(cv, node, "repeats");
  if ((int64_t)reps->size() != r)
    return cv.error(node) << "repeats has " << reps->size()
                          << " entries for rank " << r;
  IB ib{cv.b, cv.loc};
  SmallVector<Value> xd = dimValues(cv, x), dims;
  for (int64_t k = 0; k < r; ++k)
    dims.push_back(ib.mul(xd[k], ib.max((*reps)[k], ib.c(0))));
  Value src = x.v;
  res.push_back(indexGenericDims(
      cv, asDims(dims), x.dt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange o, ValueRange) -> Value {
        SmallVector<Value> at;
        for (int64_t k = 0; k < r; ++k)
          at.push_back(arith::RemUIOp::create(b, l, o[k], xd[k]));
        return tensor::ExtractOp::create(b, l, src, at);
      }));
  return success();
}

LogicalResult onnx::convertOneHotRuntime(Converter &cv, const Node &node,
                                         int64_t axis,
                                         SmallVectorImpl<TValue> &res) {
  const TValue &ind = node.in(0), &vals = node.in(2);
  auto depthE = indexElems(cv, node.in(1));
  if (!depthE || depthE->size() != 1)
    return cv.error(node) << "'depth' must have one element";
  int64_t r = ind.rank();
  IB ib{cv.b, cv.loc};
  Value depth = ib.max((*depthE)[0], ib.c(0));
  SmallVector<OpFoldResult> dims = cv.dims(ind);
  dims.insert(dims.begin() + axis, depth);
  Value flat = cv.reshapeToDims(vals, {cv.b.getIndexAttr(2)}).v;
  Value off = tensor::ExtractOp::create(cv.b, cv.loc, flat, ValueRange{ib.c(0)});
  Value on = tensor::ExtractOp::create(cv.b, cv.loc, flat, ValueRange{ib.c(1)});
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0; k < r + 1; ++k)
    if (k != axis)
      exprs.push_back(cv.b.getAffineDimExpr(k));
  AffineMap map = AffineMap::get(r + 1, 0, exprs, cv.ctx());
  DType idt = ind.dt;
  res.push_back(indexGenericDims(
      cv, dims, vals.dt, {ind.v}, {map},
      [&](OpBuilder &b, Location l, ValueRange o, ValueRange a) -> Value {
        Value i = cv.castScalar(b, l, a[0], idt, DType::I64);
        i = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
        Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                                          idxConst(b, l, 0));
        i = arith::SelectOp::create(b, l, neg,
                                    arith::AddIOp::create(b, l, i, depth), i);
        Value hit =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i, o[axis]);
        return arith::SelectOp::create(b, l, hit, on, off);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

LogicalResult onnx::convertPadRuntime(Converter &cv, const Node &node,
                                      SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  std::string mode = node.s("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return cv.error(node) << "unsupported mode '" << mode << "'";
  auto pads = indexElems(cv, node.in(1));
  if (!pads || node.in(1).rank() != 1)
    return badOperand(cv, node, "pads");
  IB ib{cv.b, cv.loc};
  SmallVector<Value> lo, hi;
  if (node.has(3)) {
    auto axes = cv.getConstInts(node.in(3));
    if (!axes)
      return cv.error(node) << "'axes' must be a constant when 'pads' is not";
    if (pads->size() != 2 * axes->size())
      return cv.error(node) << "pads must have 2 entries per axis";
    lo.assign(r, ib.c(0));
    hi.assign(r, ib.c(0));
    for (auto [k, a] : llvm::enumerate(*axes)) {
      auto n = normalizeAxis(a, r);
      if (!n)
        return cv.error(node) << "axis " << a << " out of range";
      lo[*n] = (*pads)[k];
      hi[*n] = (*pads)[k + axes->size()];
    }
  } else {
    if ((int64_t)pads->size() != 2 * r)
      return cv.error(node) << "pads has " << pads->size()
                            << " entries for rank " << r;
    lo.assign(pads->begin(), pads->begin() + r);
    hi.assign(pads->begin() + r, pads->end());
  }
  // Negative pads crop first: x[cs, cs + dp) is padded by lo', hi' >= 0.
  SmallVector<Value> xd = dimValues(cv, x), cs, dp, lop, out;
  Value zero = ib.c(0);
  for (int64_t k = 0; k < r; ++k) {
    cs.push_back(ib.min(ib.max(ib.sub(zero, lo[k]), zero), xd[k]));
    Value ce = ib.max(ib.sub(zero, hi[k]), zero);
    dp.push_back(ib.max(ib.sub(ib.sub(xd[k], cs[k]), ce), zero));
    lop.push_back(ib.max(lo[k], zero));
    Value n = ib.add(ib.add(dp[k], lop[k]), ib.max(hi[k], zero));
    // Edge/reflect/wrap of an empty dim has nothing to copy: empty result.
    out.push_back(mode == "constant" ? n : ib.sel(ib.gt(dp[k], zero), n, zero));
  }
  if (mode == "constant") {
    Value pv;
    if (node.has(2) && node.in(2).numElements() > 0)
      if (auto es = cv.elements(node.in(2)))
        pv = (*es)[0];
    if (!pv)
      pv = cv.scalar(x.dt, 0);
    Value init = linalg::FillOp::create(
                     cv.b, cv.loc, ValueRange{pv},
                     ValueRange{cv.emptyTensorOf(asDims(out), x.elemType())})
                     .getResult(0);
    SmallVector<OpFoldResult> ones(r, cv.b.getIndexAttr(1));
    TValue crop = cv.sliceDims(x, asDims(cs), asDims(dp),
                               SmallVector<int64_t>(r, 1));
    Value o = tensor::InsertSliceOp::create(cv.b, cv.loc, crop.v, init,
                                            asDims(lop), asDims(dp), ones);
    cv.recordDims(o, asDims(out));
    res.push_back({o, x.dt});
    return success();
  }
  Value src = x.v;
  res.push_back(indexGenericDims(
      cv, asDims(out), x.dt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange o, ValueRange) -> Value {
        IB nb{b, l};
        SmallVector<Value> at;
        for (int64_t k = 0; k < r; ++k) {
          Value i = nb.sub(o[k], lop[k]), d = dp[k], last = nb.sub(d, nb.c(1));
          if (mode == "edge") {
            i = nb.clamp(i, nb.c(0), last);
          } else if (mode == "wrap") {
            i = arith::RemSIOp::create(b, l, i, d);
            i = arith::RemSIOp::create(b, l, nb.add(i, d), d);
          } else { // reflect
            i = nb.sel(nb.lt(i, nb.c(0)), nb.sub(nb.c(0), i), i);
            i = nb.sel(nb.gt(i, last), nb.sub(nb.add(last, last), i), i);
          }
          Value s = nb.add(cs[k], nb.clamp(i, nb.c(0), last));
          at.push_back(nb.clamp(s, nb.c(0), nb.sub(xd[k], nb.c(1))));
        }
        return tensor::ExtractOp::create(b, l, src, at);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// ReduceSum
//===----------------------------------------------------------------------===//

LogicalResult onnx::convertReduceSumRuntime(Converter &cv, const Node &node,
                                            SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  auto axes = indexElems(cv, node.in(1));
  if (!axes || node.in(1).rank() != 1)
    return badOperand(cv, node, "axes");
  bool keep = node.i("keepdims", 1) != 0;
  int64_t R = keep ? r : r - (int64_t)axes->size();
  if (R < 0)
    return cv.error(node) << axes->size() << " axes for rank " << r;
  IB ib{cv.b, cv.loc};
  SmallVector<Value> xd = dimValues(cv, x), mask = axisMask(ib, *axes, r), kept;
  for (Value m : mask)
    kept.push_back(ib.lnot(m));
  SmallVector<Value> dims;
  if (keep)
    for (int64_t k = 0; k < r; ++k)
      dims.push_back(ib.sel(mask[k], ib.c(1), xd[k]));
  else
    dims = compact(ib, kept, xd, R, ib.c(1));
  bool fl = isFloat(x.dt);
  Value init = linalg::FillOp::create(
                   cv.b, cv.loc, ValueRange{cv.scalar(x.dt, 0)},
                   ValueRange{cv.emptyTensorOf(asDims(dims), x.elemType())})
                   .getResult(0);
  Value src = x.v;
  SmallVector<Value> out = loopNest(
      cv.b, cv.loc, xd, ValueRange{init},
      [&](OpBuilder &b, Location l, ValueRange i, ValueRange it) {
        IB nb{b, l};
        SmallVector<Value> at;
        if (keep)
          for (int64_t k = 0; k < r; ++k)
            at.push_back(nb.sel(mask[k], nb.c(0), i[k]));
        else
          at = compact(nb, kept, SmallVector<Value>(i), R, nb.c(0));
        Value v = tensor::ExtractOp::create(b, l, src, i);
        Value acc = tensor::ExtractOp::create(b, l, it[0], at);
        Value s = fl ? arith::AddFOp::create(b, l, acc, v).getResult()
                     : arith::AddIOp::create(b, l, acc, v).getResult();
        return SmallVector<Value>{tensor::InsertOp::create(b, l, s, it[0], at)};
      });
  cv.recordDims(out[0], asDims(dims));
  res.push_back({out[0], x.dt});
  return success();
}

//===----------------------------------------------------------------------===//
// An axis operand at run time (CumSum)
//===----------------------------------------------------------------------===//

LogicalResult onnx::convertWithRuntimeAxis(Converter &cv, const Node &node,
                                           unsigned k, int64_t rank,
                                           const Handler &handler,
                                           SmallVectorImpl<TValue> &res) {
  const TValue &x = node.in(0), &axisV = node.in(k);
  auto es = indexElems(cv, axisV);
  if (!es || es->size() != 1 || !isInteger(axisV.dt))
    return cv.error(node) << "the axis must be one integer";
  IB ib{cv.b, cv.loc};
  Value a = ib.wrap((*es)[0], ib.c(rank));
  // Sizes used inside the cases must be defined before them.
  (void)cv.dims(x);
  SmallVector<int64_t> cases;
  for (int64_t i = 0; i < rank; ++i)
    cases.push_back(i);
  auto sw = scf::IndexSwitchOp::create(cv.b, cv.loc, TypeRange{x.v.getType()},
                                       a, cases, rank);
  OpBuilder::InsertionGuard g(cv.b);
  DType outDt = x.dt;
  for (int64_t i = 0; i < rank; ++i) {
    cv.b.setInsertionPointToStart(&sw.getCaseRegions()[i].emplaceBlock());
    ConstTensor c(axisV.dt, axisV.shape());
    c.setI(0, i);
    Node caseNode = node;
    caseNode.inputs[k] = cv.constant(c);
    SmallVector<TValue> r;
    if (failed(handler(cv, caseNode, r)))
      return failure();
    if (r.size() != 1 || r[0].v.getType() != x.v.getType())
      return cv.error(node) << "internal: the result type depends on the axis";
    outDt = r[0].dt;
    scf::YieldOp::create(cv.b, cv.loc, r[0].v);
  }
  cv.b.setInsertionPointToStart(&sw.getDefaultRegion().emplaceBlock());
  scf::YieldOp::create(cv.b, cv.loc, x.v);
  cv.b.setInsertionPointAfter(sw);
  cv.recordDims(sw.getResult(0), cv.dims(x));
  res.push_back({sw.getResult(0), outDt});
  return success();
}
