//===- DataDependentOps.cpp - NonZero, Compress, Unique -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Ops whose output size depends on the input values. Each counts first (an
// scf.for over the input), allocates a tensor with that `?` size, then
// fills it in a second loop; the size reaches the caller through the
// dynamic entry's run-time output shapes (docs/abi.md).
//
// Unique compares every element (or slice along `axis`) with every other,
// O(n^2) in the number of elements / slices: equality is ==, with NaN equal
// to NaN; the sorted order puts NaN above every number and compares slices
// lexicographically (as NumPy's np.unique).
//
//===----------------------------------------------------------------------===//
#include "Loops.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

using Results = SmallVectorImpl<TValue>;

Value truthy(OpBuilder &b, Location l, Value x, DType dt) {
  if (isFloat(dt))
    return arith::CmpFOp::create(
        b, l, arith::CmpFPredicate::UNE, x,
        arith::ConstantOp::create(b, l, x.getType(),
                                  b.getFloatAttr(x.getType(), 0)));
  return arith::CmpIOp::create(
      b, l, arith::CmpIPredicate::ne, x,
      arith::ConstantOp::create(b, l, x.getType(),
                                b.getIntegerAttr(x.getType(), 0)));
}

Value plusIf(OpBuilder &b, Location l, Value c, Value cond) {
  Value one = arith::AddIOp::create(b, l, c, idxConst(b, l, 1));
  return arith::SelectOp::create(b, l, cond, one, c);
}

Value toI64(OpBuilder &b, Location l, Value i) {
  return arith::IndexCastOp::create(b, l, b.getI64Type(), i);
}

Value toIndex(OpBuilder &b, Location l, Value i) {
  return arith::IndexCastOp::create(b, l, b.getIndexType(), i);
}

/// One scf.for over [0, n) carrying `iters`.
SmallVector<Value> forLoop(OpBuilder &b, Location l, Value lb, Value n,
                           ValueRange iters, LoopBody body) {
  auto f = scf::ForOp::create(
      b, l, lb, n, idxConst(b, l, 1), iters,
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        scf::YieldOp::create(nb, nl, body(nb, nl, ValueRange{iv}, args));
      });
  return SmallVector<Value>(f.getResults().begin(), f.getResults().end());
}

TValue flatten(Converter &cv, const TValue &x) {
  return cv.reshapeToDims(x, {cv.product(cv.dims(x))});
}

//===----------------------------------------------------------------------===//
// NonZero
//===----------------------------------------------------------------------===//

LogicalResult convertNonZero(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  if (r == 0)
    return cv.error(node) << "a scalar input is not supported";
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  TValue flat = flatten(cv, x);
  SmallVector<Value> xd = dimValues(cv, x);
  Value n = cv.indexValue(cv.dim(flat, 0)), src = flat.v, zero = idxConst(b, loc, 0);
  DType dt = x.dt;
  Value count = forLoop(b, loc, zero, n, {zero},
                        [&](OpBuilder &nb, Location nl, ValueRange i,
                            ValueRange c) {
                          Value v = tensor::ExtractOp::create(nb, nl, src, i);
                          return SmallVector<Value>{
                              plusIf(nb, nl, c[0], truthy(nb, nl, v, dt))};
                        })[0];
  SmallVector<OpFoldResult> outDims = {b.getIndexAttr(r), count};
  Value init = cv.emptyTensorOf(outDims, b.getI64Type());
  Value out = forLoop(
      b, loc, zero, n, {init, zero},
      [&](OpBuilder &nb, Location nl, ValueRange i, ValueRange it) {
        Value v = tensor::ExtractOp::create(nb, nl, src, i);
        return ifThenElse(
            nb, nl, truthy(nb, nl, v, dt),
            [&](OpBuilder &tb, Location tl) {
              Value t = it[0], rem = i[0];
              for (int64_t d = r - 1; d >= 0; --d) {
                Value c = arith::RemUIOp::create(tb, tl, rem, xd[d]);
                rem = arith::DivUIOp::create(tb, tl, rem, xd[d]);
                t = tensor::InsertOp::create(
                    tb, tl, toI64(tb, tl, c), t,
                    ValueRange{idxConst(tb, tl, d), it[1]});
              }
              return SmallVector<Value>{
                  t, arith::AddIOp::create(tb, tl, it[1], idxConst(tb, tl, 1))};
            },
            [&](OpBuilder &, Location) { return SmallVector<Value>(it); });
      })[0];
  cv.recordDims(out, outDims);
  res.push_back({out, DType::I64});
  return success();
}

//===----------------------------------------------------------------------===//
// Compress
//===----------------------------------------------------------------------===//

LogicalResult convertCompress(Converter &cv, const Node &node, Results &res) {
  TValue x = node.in(0);
  const TValue &cond = node.in(1);
  if (cond.rank() != 1 || cond.dt != DType::Bool)
    return cv.error(node) << "condition must be a 1-D bool tensor";
  int64_t axis = 0;
  if (node.hasAttr("axis")) {
    auto a = normalizeAxis(node.i("axis", 0), x.rank());
    if (!a)
      return cv.error(node) << "axis out of range";
    axis = *a;
  } else {
    x = flatten(cv, x);
  }
  if (x.rank() == 0)
    return cv.error(node) << "a scalar input needs no axis";
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  int64_t r = x.rank();
  // Condition entries past the axis size are ignored (ONNX allows a shorter
  // condition: the rest counts as false).
  Value m = cv.indexValue(cv.minDims(cv.dim(cond, 0), cv.dim(x, axis)));
  Value zero = idxConst(b, loc, 0), c = cond.v, src = x.v;
  Value count = forLoop(b, loc, zero, m, {zero},
                        [&](OpBuilder &nb, Location nl, ValueRange i,
                            ValueRange k) {
                          Value t = tensor::ExtractOp::create(nb, nl, c, i);
                          return SmallVector<Value>{plusIf(nb, nl, k[0], t)};
                        })[0];
  SmallVector<OpFoldResult> xd = cv.dims(x), outDims = xd;
  outDims[axis] = count;
  Value init = cv.emptyTensorOf(outDims, x.elemType());
  SmallVector<OpFoldResult> sizes = xd;
  sizes[axis] = b.getIndexAttr(1);
  SmallVector<OpFoldResult> ones(r, b.getIndexAttr(1));
  Value out = forLoop(
      b, loc, zero, m, {init, zero},
      [&](OpBuilder &nb, Location nl, ValueRange i, ValueRange it) {
        Value t = tensor::ExtractOp::create(nb, nl, c, i);
        return ifThenElse(
            nb, nl, t,
            [&](OpBuilder &tb, Location tl) {
              SmallVector<OpFoldResult> from(r, tb.getIndexAttr(0)), to = from;
              from[axis] = i[0];
              to[axis] = it[1];
              Value s = tensor::ExtractSliceOp::create(tb, tl, src, from, sizes,
                                                       ones);
              Value o = tensor::InsertSliceOp::create(tb, tl, s, it[0], to,
                                                      sizes, ones);
              return SmallVector<Value>{
                  o, arith::AddIOp::create(tb, tl, it[1], idxConst(tb, tl, 1))};
            },
            [&](OpBuilder &, Location) { return SmallVector<Value>(it); });
      })[0];
  cv.recordDims(out, outDims);
  res.push_back({out, x.dt});
  return success();
}

//===----------------------------------------------------------------------===//
// Unique
//===----------------------------------------------------------------------===//

/// Comparisons of rows i, j of a [N, S] tensor.
struct RowCompare {
  Value t, s; // the tensor, S (index)
  DType dt;
  bool scalarRows; // S == 1 statically

  Value at(OpBuilder &b, Location l, Value i, Value k) const {
    return tensor::ExtractOp::create(b, l, t, ValueRange{i, k});
  }
  Value equal(OpBuilder &b, Location l, Value i, Value j) const {
    Value z = idxConst(b, l, 0);
    if (scalarRows)
      return equalTo(b, l, at(b, l, i, z), at(b, l, j, z), dt);
    Value t1 = arith::ConstantIntOp::create(b, l, 1, 1);
    return forLoop(b, l, z, s, {t1},
                   [&](OpBuilder &nb, Location nl, ValueRange k,
                       ValueRange acc) {
                     Value e = equalTo(nb, nl, at(nb, nl, i, k[0]),
                                       at(nb, nl, j, k[0]), dt);
                     return SmallVector<Value>{
                         arith::AndIOp::create(nb, nl, acc[0], e)};
                   })[0];
  }
  /// Row i sorts before row j (lexicographic).
  Value less(OpBuilder &b, Location l, Value i, Value j) const {
    Value z = idxConst(b, l, 0);
    if (scalarRows)
      return lessThan(b, l, at(b, l, i, z), at(b, l, j, z), dt);
    Value f = arith::ConstantIntOp::create(b, l, 0, 1);
    return forLoop(b, l, z, s, {f, f},
                   [&](OpBuilder &nb, Location nl, ValueRange k,
                       ValueRange st) {
                     Value a = at(nb, nl, i, k[0]), c = at(nb, nl, j, k[0]);
                     Value lt = lessThan(nb, nl, a, c, dt);
                     Value gt = lessThan(nb, nl, c, a, dt);
                     Value r = arith::SelectOp::create(nb, nl, st[1], st[0], lt);
                     Value d = arith::OrIOp::create(
                         nb, nl, st[1], arith::OrIOp::create(nb, nl, lt, gt));
                     return SmallVector<Value>{r, d};
                   })[0];
  }
};

LogicalResult convertUnique(Converter &cv, const Node &node, Results &res) {
  TValue x = node.in(0);
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  bool sorted = node.i("sorted", 1) != 0;
  bool hasAxis = node.hasAttr("axis");
  int64_t axis = 0;
  if (hasAxis) {
    auto a = normalizeAxis(node.i("axis", 0), x.rank());
    if (!a)
      return cv.error(node) << "axis out of range";
    axis = *a;
  }
  if (!isInteger(x.dt) && !isFloat(x.dt) && x.dt != DType::Bool)
    return cv.error(node) << "unsupported element type " << dtypeName(x.dt);
  // Rows: [N, S] with the axis first.
  TValue t = x;
  SmallVector<int64_t> perm;
  SmallVector<OpFoldResult> rest;
  if (hasAxis) {
    perm.push_back(axis);
    for (int64_t d = 0; d < x.rank(); ++d)
      if (d != axis) {
        perm.push_back(d);
        rest.push_back(cv.dim(x, d));
      }
    t = cv.transpose(x, perm);
  }
  OpFoldResult nD = hasAxis ? cv.dim(x, axis) : cv.product(cv.dims(x));
  OpFoldResult sD = cv.product(rest);
  TValue rows = cv.reshapeToDims(t, {nD, sD});
  Value n = cv.indexValue(nD), s = cv.indexValue(sD);
  auto cs = getConstantIntValue(sD);
  RowCompare cmp{rows.v, s, x.dt, cs && *cs == 1};
  Value zero = idxConst(b, loc, 0), one = idxConst(b, loc, 1);
  Type i64 = b.getI64Type();

  // first[i]: the lowest j with row j == row i; U: the number of i with
  // first[i] == i.
  Value firstInit = cv.emptyTensorOf({nD}, i64);
  SmallVector<Value> fu = forLoop(
      b, loc, zero, n, {firstInit, zero},
      [&](OpBuilder &nb, Location nl, ValueRange i, ValueRange it) {
        Value ip1 = arith::AddIOp::create(nb, nl, i[0], idxConst(nb, nl, 1));
        Value f = forLoop(nb, nl, idxConst(nb, nl, 0), ip1, {i[0]},
                          [&](OpBuilder &jb, Location jl, ValueRange j,
                              ValueRange acc) {
                            Value open = arith::CmpIOp::create(
                                jb, jl, arith::CmpIPredicate::eq, acc[0], i[0]);
                            Value hit = ifThenElse(
                                jb, jl, open,
                                [&](OpBuilder &tb, Location tl) {
                                  return SmallVector<Value>{
                                      cmp.equal(tb, tl, j[0], i[0])};
                                },
                                [&](OpBuilder &eb, Location el) {
                                  return SmallVector<Value>{
                                      arith::ConstantIntOp::create(eb, el, 0, 1)};
                                })[0];
                            return SmallVector<Value>{arith::SelectOp::create(
                                jb, jl, hit, j[0], acc[0])};
                          })[0];
        Value ft = tensor::InsertOp::create(nb, nl, toI64(nb, nl, f), it[0], i);
        Value isFirst =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, f, i[0]);
        return SmallVector<Value>{ft, plusIf(nb, nl, it[1], isFirst)};
      });
  Value first = fu[0], u = fu[1];
  auto firstOf = [&](OpBuilder &nb, Location nl, Value i) {
    return toIndex(nb, nl, tensor::ExtractOp::create(nb, nl, first, i));
  };
  auto isFirst = [&](OpBuilder &nb, Location nl, Value i) -> Value {
    return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                 firstOf(nb, nl, i), i);
  };
  // pos[i] (for first i): its place in the output.
  Value posInit = cv.emptyTensorOf({nD}, i64);
  Value pos = forLoop(
      b, loc, zero, n, {posInit},
      [&](OpBuilder &nb, Location nl, ValueRange i, ValueRange it) {
        Value ub = sorted ? n : i[0];
        Value p = forLoop(nb, nl, idxConst(nb, nl, 0), ub, {idxConst(nb, nl, 0)},
                          [&](OpBuilder &jb, Location jl, ValueRange j,
                              ValueRange acc) {
                            Value c = ifThenElse(
                                jb, jl, isFirst(jb, jl, j[0]),
                                [&](OpBuilder &tb, Location tl) {
                                  return SmallVector<Value>{
                                      sorted ? cmp.less(tb, tl, j[0], i[0])
                                             : arith::ConstantIntOp::create(
                                                   tb, tl, 1, 1)};
                                },
                                [&](OpBuilder &eb, Location el) {
                                  return SmallVector<Value>{
                                      arith::ConstantIntOp::create(eb, el, 0, 1)};
                                })[0];
                            return SmallVector<Value>{plusIf(jb, jl, acc[0], c)};
                          })[0];
        return SmallVector<Value>{
            tensor::InsertOp::create(nb, nl, toI64(nb, nl, p), it[0], i)};
      })[0];
  auto posOf = [&](OpBuilder &nb, Location nl, Value i) {
    return toIndex(nb, nl, tensor::ExtractOp::create(nb, nl, pos, i));
  };
  // The outputs.
  Value yInit = cv.emptyTensorOf({u, sD}, rows.elemType());
  Value idxInit = cv.emptyTensorOf({u}, i64);
  Value cntInit = linalg::FillOp::create(
                      b, loc, ValueRange{arith::ConstantIntOp::create(b, loc, 0, 64)},
                      ValueRange{cv.emptyTensorOf({u}, i64)})
                      .getResult(0);
  Value invInit = cv.emptyTensorOf({nD}, i64);
  SmallVector<OpFoldResult> rowSizes = {b.getIndexAttr(1), sD};
  SmallVector<OpFoldResult> ones(2, b.getIndexAttr(1));
  SmallVector<Value> outs = forLoop(
      b, loc, zero, n, {yInit, idxInit, cntInit, invInit},
      [&](OpBuilder &nb, Location nl, ValueRange i, ValueRange it) {
        Value p = posOf(nb, nl, firstOf(nb, nl, i[0]));
        Value inv = tensor::InsertOp::create(nb, nl, toI64(nb, nl, p), it[3], i);
        Value c = tensor::ExtractOp::create(nb, nl, it[2], ValueRange{p});
        c = arith::AddIOp::create(nb, nl, c,
                                  arith::ConstantIntOp::create(nb, nl, 1, 64));
        Value cnt = tensor::InsertOp::create(nb, nl, c, it[2], ValueRange{p});
        SmallVector<Value> r = ifThenElse(
            nb, nl, isFirst(nb, nl, i[0]),
            [&](OpBuilder &tb, Location tl) {
              SmallVector<OpFoldResult> from = {i[0], tb.getIndexAttr(0)};
              SmallVector<OpFoldResult> to = {p, tb.getIndexAttr(0)};
              Value row = tensor::ExtractSliceOp::create(tb, tl, rows.v, from,
                                                         rowSizes, ones);
              Value y = tensor::InsertSliceOp::create(tb, tl, row, it[0], to,
                                                      rowSizes, ones);
              Value ix = tensor::InsertOp::create(tb, tl, toI64(tb, tl, i[0]),
                                                  it[1], ValueRange{p});
              return SmallVector<Value>{y, ix};
            },
            [&](OpBuilder &, Location) {
              return SmallVector<Value>{it[0], it[1]};
            });
        return SmallVector<Value>{r[0], r[1], cnt, inv};
      });
  for (int k = 0; k < 4; ++k)
    cv.recordDims(outs[k], k == 0 ? ArrayRef<OpFoldResult>{u, sD}
                           : k == 3 ? ArrayRef<OpFoldResult>{nD}
                                    : ArrayRef<OpFoldResult>{u});
  TValue y{outs[0], x.dt};
  if (hasAxis) {
    SmallVector<OpFoldResult> yd = {u};
    yd.append(rest);
    y = cv.reshapeToDims(y, yd);
    SmallVector<int64_t> inv(perm.size());
    for (auto [k, p] : llvm::enumerate(perm))
      inv[p] = k;
    y = cv.transpose(y, inv);
  } else {
    y = cv.reshapeToDims(y, {u});
  }
  res.push_back(y);
  res.push_back({outs[1], DType::I64});
  res.push_back({outs[3], DType::I64});
  res.push_back({outs[2], DType::I64});
  return success();
}

} // namespace

void onnx::registerDataDependentOps(HandlerRegistry &r) {
  r.add("NonZero", convertNonZero);
  r.add("Compress", convertCompress);
  r.add("Unique", convertUnique);
}
