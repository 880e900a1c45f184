//===- IndexOps.cpp - GatherND, ScatterND, ScatterElements, TopK ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Ops that read or write at positions given by data. GatherND is one
// linalg.generic (the index tuple read in the body); the scatters and TopK
// are scf loops over tensors (Loops.h), so duplicate indices combine in
// ONNX's sequential order.
//
// The scatters update a copy of `data` (freshCopy): never the caller's
// input buffer. Index data is checked at run time: a gathered index outside [-d, d) is
// clamped into the tensor (as Gather does; no read leaves it), an update
// whose index is out of range is skipped (no write leaves it). Constant
// indices are checked at compile time (an error naming the node).
//
// TopK: the K best of each row in the order (value, then lower index
// first), NaN above every number; `sorted = 0` gives the sorted order too.
// A K computed at run time gives a `?` dim of min(max(K, 0), axis size).
//
//===----------------------------------------------------------------------===//
#include "Loops.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

using Results = SmallVectorImpl<TValue>;

/// Compile-time check of constant index data against `dim` (static).
LogicalResult checkConstIndices(Converter &cv, const Node &node,
                                const TValue &ind, int64_t dim,
                                int64_t stride = 1, int64_t offset = 0) {
  auto c = cv.getConst(ind);
  if (!c || ShapedType::isDynamic(dim))
    return success();
  for (int64_t k = offset; k < c->size(); k += stride) {
    int64_t v = c->getI(k);
    if (v < -dim || v >= dim)
      return cv.error(node) << "index " << v << " out of range [" << -dim
                            << ", " << dim << ")";
  }
  return success();
}

/// Static dims that must be equal are; dynamic ones are taken to be.
bool dimsAgree(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
      return false;
  return true;
}

/// The combining function of a scatter `reduction` (null for "none").
using Combine = std::function<Value(OpBuilder &, Location, Value, Value)>;
FailureOr<Combine> scatterCombine(Converter &cv, const Node &node, DType dt) {
  std::string red = node.s("reduction", "none");
  if (red == "none")
    return Combine();
  bool f = isFloat(dt), u = isUnsigned(dt);
  if (dt == DType::Bool)
    return cv.error(node) << "reduction '" << red
                          << "' is not supported on bool";
  if (red == "add")
    return Combine([f](OpBuilder &b, Location l, Value x, Value y) -> Value {
      return f ? arith::AddFOp::create(b, l, x, y).getResult()
               : arith::AddIOp::create(b, l, x, y).getResult();
    });
  if (red == "mul")
    return Combine([f](OpBuilder &b, Location l, Value x, Value y) -> Value {
      return f ? arith::MulFOp::create(b, l, x, y).getResult()
               : arith::MulIOp::create(b, l, x, y).getResult();
    });
  if (red == "max")
    return Combine([f, u](OpBuilder &b, Location l, Value x, Value y) -> Value {
      if (f)
        return arith::MaximumFOp::create(b, l, x, y);
      return u ? arith::MaxUIOp::create(b, l, x, y).getResult()
               : arith::MaxSIOp::create(b, l, x, y).getResult();
    });
  if (red == "min")
    return Combine([f, u](OpBuilder &b, Location l, Value x, Value y) -> Value {
      if (f)
        return arith::MinimumFOp::create(b, l, x, y);
      return u ? arith::MinUIOp::create(b, l, x, y).getResult()
               : arith::MinSIOp::create(b, l, x, y).getResult();
    });
  return cv.error(node) << "unknown reduction '" << red << "'";
}

/// out[pos] = combine(out[pos], u) (or u), returning the new tensor.
Value storeCombined(OpBuilder &b, Location l, Value out, ValueRange pos,
                    Value u, const Combine &combine) {
  if (combine)
    u = combine(b, l, tensor::ExtractOp::create(b, l, out, pos), u);
  return tensor::InsertOp::create(b, l, u, out, pos);
}

Value allTrue(OpBuilder &b, Location l, ArrayRef<Value> conds) {
  Value r = arith::ConstantIntOp::create(b, l, 1, 1);
  for (Value c : conds)
    r = arith::AndIOp::create(b, l, r, c);
  return r;
}

//===----------------------------------------------------------------------===//
// GatherND
//===----------------------------------------------------------------------===//

LogicalResult convertGatherND(Converter &cv, const Node &node, Results &res) {
  const TValue &data = node.in(0), &ind = node.in(1);
  int64_t r = data.rank(), q = ind.rank(), bd = node.i("batch_dims", 0);
  if (!isInteger(ind.dt))
    return cv.error(node) << "indices must be an integer tensor";
  if (r < 1 || q < 1)
    return cv.error(node) << "data and indices must have rank >= 1";
  int64_t last = ind.shape()[q - 1];
  if (ShapedType::isDynamic(last))
    return cv.error(node) << "the last dim of indices must be static";
  if (bd < 0 || bd >= std::min(q, r))
    return cv.error(node) << "batch_dims " << bd << " out of range";
  if (last < 1 || last > r - bd)
    return cv.error(node) << "indices.shape[-1] = " << last
                          << " must be in [1, " << r - bd << "]";
  if (!dimsAgree(data.shape().take_front(bd), ind.shape().take_front(bd)))
    return cv.error(node) << "the batch dims of data and indices differ";
  for (int64_t j = 0; j < last; ++j)
    if (failed(checkConstIndices(cv, node, ind, data.shape()[bd + j], last,
                                 j)))
      return failure();
  SmallVector<OpFoldResult> dd = cv.dims(data), id = cv.dims(ind);
  SmallVector<OpFoldResult> outDims(id.begin(), id.end() - 1);
  outDims.append(dd.begin() + bd + last, dd.end());
  SmallVector<Value> dimV = dimValues(cv, data);
  int64_t R = outDims.size();
  Value init = cv.emptyTensorOf(outDims, data.elemType());
  Value src = data.v, idx = ind.v;
  auto g = linalg::GenericOp::create(
      cv.b, cv.loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{cv.b.getMultiDimIdentityMap(R)},
      SmallVector<utils::IteratorType>(R, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> o;
        for (int64_t d = 0; d < R; ++d)
          o.push_back(linalg::IndexOp::create(b, l, d));
        SmallVector<Value> at(o.begin(), o.begin() + bd);
        for (int64_t j = 0; j < last; ++j) {
          SmallVector<Value> ip(o.begin(), o.begin() + (q - 1));
          ip.push_back(idxConst(b, l, j));
          Value v = tensor::ExtractOp::create(b, l, idx, ip);
          at.push_back(clampIndex(b, l, v, dimV[bd + j]));
        }
        at.append(o.begin() + (q - 1), o.end());
        linalg::YieldOp::create(b, l,
                                Value(tensor::ExtractOp::create(b, l, src, at)));
      });
  cv.recordDims(g.getResult(0), outDims);
  res.push_back({g.getResult(0), data.dt});
  return success();
}

//===----------------------------------------------------------------------===//
// ScatterND
//===----------------------------------------------------------------------===//

LogicalResult convertScatterND(Converter &cv, const Node &node, Results &res) {
  const TValue &data = node.in(0), &ind = node.in(1), &upd = node.in(2);
  int64_t r = data.rank(), q = ind.rank();
  if (!isInteger(ind.dt))
    return cv.error(node) << "indices must be an integer tensor";
  if (r < 1 || q < 1)
    return cv.error(node) << "data and indices must have rank >= 1";
  int64_t last = ind.shape()[q - 1];
  if (ShapedType::isDynamic(last) || last < 1 || last > r)
    return cv.error(node) << "indices.shape[-1] must be static and in [1, "
                          << r << "]";
  if (upd.dt != data.dt)
    return cv.error(node) << "updates and data have different types";
  SmallVector<int64_t> want(ind.shape().drop_back());
  want.append(data.shape().begin() + last, data.shape().end());
  if (!dimsAgree(upd.shape(), want))
    return cv.error(node) << "updates have shape " << upd.v.getType()
                          << ", expected indices.shape[:-1] + data.shape["
                          << last << ":]";
  for (int64_t j = 0; j < last; ++j)
    if (failed(checkConstIndices(cv, node, ind, data.shape()[j], last, j)))
      return failure();
  auto combine = scatterCombine(cv, node, data.dt);
  if (failed(combine))
    return failure();
  // Loop bounds from the updates (equal to the expected dims when valid;
  // never past the updates' extent when run-time dims disagree).
  SmallVector<Value> ud = dimValues(cv, upd), dimV = dimValues(cv, data);
  SmallVector<Value> mUb(ud.begin(), ud.begin() + (q - 1));
  SmallVector<Value> sUb;
  for (int64_t k = last; k < r; ++k)
    sUb.push_back(
        arith::MinSIOp::create(cv.b, cv.loc, ud[q - 1 + k - last], dimV[k]));
  Value idx = ind.v, u = upd.v;
  SmallVector<Value> out = loopNest(
      cv.b, cv.loc, mUb, ValueRange{freshCopy(cv, data).v},
      [&](OpBuilder &b, Location l, ValueRange m, ValueRange it) {
        SmallVector<Value> at, ok;
        for (int64_t j = 0; j < last; ++j) {
          SmallVector<Value> ip(m);
          ip.push_back(idxConst(b, l, j));
          Value in;
          at.push_back(wrapIndex(b, l, tensor::ExtractOp::create(b, l, idx, ip),
                                 dimV[j], &in));
          ok.push_back(in);
        }
        return ifThenElse(
            b, l, allTrue(b, l, ok),
            [&](OpBuilder &tb, Location tl) {
              return loopNest(
                  tb, tl, sUb, it,
                  [&](OpBuilder &ib, Location il, ValueRange s, ValueRange cur) {
                    SmallVector<Value> up(m), pos(at);
                    up.append(s.begin(), s.end());
                    pos.append(s.begin(), s.end());
                    Value x = tensor::ExtractOp::create(ib, il, u, up);
                    return SmallVector<Value>{
                        storeCombined(ib, il, cur[0], pos, x, *combine)};
                  });
            },
            [&](OpBuilder &, Location) { return SmallVector<Value>(it); });
      });
  TValue result{out[0], data.dt};
  cv.recordDims(result.v, cv.dims(data));
  res.push_back(result);
  return success();
}

//===----------------------------------------------------------------------===//
// ScatterElements / Scatter
//===----------------------------------------------------------------------===//

LogicalResult convertScatterElements(Converter &cv, const Node &node,
                                     Results &res) {
  const TValue &data = node.in(0), &ind = node.in(1), &upd = node.in(2);
  int64_t r = data.rank();
  auto axisOpt = normalizeAxis(node.i("axis", 0), r);
  if (!axisOpt)
    return cv.error(node) << "axis out of range";
  int64_t axis = *axisOpt;
  if (!isInteger(ind.dt))
    return cv.error(node) << "indices must be an integer tensor";
  if (ind.rank() != r || !dimsAgree(ind.shape(), upd.shape()))
    return cv.error(node) << "indices " << ind.v.getType() << " and updates "
                          << upd.v.getType()
                          << " must have the same shape and data's rank";
  if (upd.dt != data.dt)
    return cv.error(node) << "updates and data have different types";
  for (int64_t k = 0; k < r; ++k)
    if (k != axis && !ShapedType::isDynamic(ind.shape()[k]) &&
        !ShapedType::isDynamic(data.shape()[k]) &&
        ind.shape()[k] > data.shape()[k])
      return cv.error(node) << "indices dim " << k << " ("
                            << ind.shape()[k] << ") is larger than data's ("
                            << data.shape()[k] << ")";
  if (failed(checkConstIndices(cv, node, ind, data.shape()[axis])))
    return failure();
  auto combine = node.type == "Scatter" ? FailureOr<Combine>(Combine())
                                        : scatterCombine(cv, node, data.dt);
  if (failed(combine))
    return failure();
  SmallVector<Value> id = dimValues(cv, ind), ud = dimValues(cv, upd),
                     dd = dimValues(cv, data), ubs;
  for (int64_t k = 0; k < r; ++k) {
    Value n = arith::MinSIOp::create(cv.b, cv.loc, id[k], ud[k]);
    ubs.push_back(k == axis ? n : arith::MinSIOp::create(cv.b, cv.loc, n, dd[k])
                                      .getResult());
  }
  Value idx = ind.v, u = upd.v;
  SmallVector<Value> out = loopNest(
      cv.b, cv.loc, ubs, ValueRange{freshCopy(cv, data).v},
      [&](OpBuilder &b, Location l, ValueRange o, ValueRange it) {
        Value ok;
        Value i = wrapIndex(b, l, tensor::ExtractOp::create(b, l, idx, o),
                            dd[axis], &ok);
        return ifThenElse(
            b, l, ok,
            [&](OpBuilder &tb, Location tl) {
              SmallVector<Value> pos(o);
              pos[axis] = i;
              Value x = tensor::ExtractOp::create(tb, tl, u, o);
              return SmallVector<Value>{
                  storeCombined(tb, tl, it[0], pos, x, *combine)};
            },
            [&](OpBuilder &, Location) { return SmallVector<Value>(it); });
      });
  TValue result{out[0], data.dt};
  cv.recordDims(result.v, cv.dims(data));
  res.push_back(result);
  return success();
}

//===----------------------------------------------------------------------===//
// TopK
//===----------------------------------------------------------------------===//

LogicalResult convertTopK(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  auto axisOpt = normalizeAxis(node.i("axis", -1), r);
  if (!axisOpt)
    return cv.error(node) << "axis out of range";
  int64_t axis = *axisOpt;
  if (!isInteger(x.dt) && !isFloat(x.dt))
    return cv.error(node) << "unsupported element type " << dtypeName(x.dt);
  bool largest = node.i("largest", 1) != 0;
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  OpFoldResult n = cv.dim(x, axis), k;
  if (node.opset < 10) {
    int64_t kv = node.i("k", -1);
    if (kv < 0)
      return cv.error(node) << "attribute 'k' must be given and >= 0";
    k = b.getIndexAttr(kv);
  } else {
    if (!node.has(1) || !isInteger(node.in(1).dt))
      return cv.error(node) << "'K' must be an integer tensor";
    auto es = cv.elements(node.in(1));
    if (!es || es->size() != 1)
      return cv.error(node) << "'K' must have one element";
    auto ck = cv.getConstInts(node.in(1));
    if (ck) {
      if ((*ck)[0] < 0)
        return cv.error(node) << "K = " << (*ck)[0] << " is negative";
      k = b.getIndexAttr((*ck)[0]);
    } else {
      Value kv = arith::IndexCastOp::create(b, loc, b.getIndexType(), (*es)[0]);
      k = cv.minDims(cv.maxDims(kv, b.getIndexAttr(0)), n);
    }
  }
  auto ck = getConstantIntValue(k), cn = getConstantIntValue(n);
  if (ck && cn && *ck > *cn)
    return cv.error(node) << "K = " << *ck << " is larger than the axis size "
                          << *cn;
  if (ck && !cn)
    k = cv.minDims(k, n);
  SmallVector<OpFoldResult> outDims = cv.dims(x);
  outDims[axis] = k;
  Value vals0 = cv.emptyTensorOf(outDims, x.elemType());
  Value idx0 = cv.emptyTensorOf(outDims, b.getI64Type());
  SmallVector<Value> xd = dimValues(cv, x), outer;
  for (int64_t d = 0; d < r; ++d)
    if (d != axis)
      outer.push_back(xd[d]);
  Value kV = cv.indexValue(k), nV = xd[axis], src = x.v;
  DType dt = x.dt;
  // a comes before b (a's index is higher, so a tie keeps b first).
  auto better = [&](OpBuilder &nb, Location nl, Value a, Value bv) {
    return largest ? lessThan(nb, nl, bv, a, dt) : lessThan(nb, nl, a, bv, dt);
  };
  SmallVector<Value> out = loopNest(
      b, loc, outer, ValueRange{vals0, idx0},
      [&](OpBuilder &ob, Location ol, ValueRange ivs, ValueRange it) {
        auto pos = [&](Value j) {
          SmallVector<Value> p(ivs.begin(), ivs.begin() + axis);
          p.push_back(j);
          p.append(ivs.begin() + axis, ivs.end());
          return p;
        };
        Value zero = idxConst(ob, ol, 0), one = idxConst(ob, ol, 1);
        Value kIs0 =
            arith::CmpIOp::create(ob, ol, arith::CmpIPredicate::eq, kV, zero);
        Value nUb = arith::SelectOp::create(ob, ol, kIs0, zero, nV);
        auto scan = scf::ForOp::create(
            ob, ol, zero, nUb, one, ValueRange{it[0], it[1], zero},
            [&](OpBuilder &fb, Location fl, Value i, ValueRange st) {
              Value v = tensor::ExtractOp::create(fb, fl, src, pos(i));
              Value filled = st[2];
              Value full = arith::CmpIOp::create(
                  fb, fl, arith::CmpIPredicate::eq, filled, kV);
              Value lastI = arith::SubIOp::create(fb, fl, kV, one);
              Value accept = ifThenElse(
                  fb, fl, full,
                  [&](OpBuilder &tb, Location tl) {
                    Value lastV =
                        tensor::ExtractOp::create(tb, tl, st[0], pos(lastI));
                    return SmallVector<Value>{better(tb, tl, v, lastV)};
                  },
                  [&](OpBuilder &eb, Location el) {
                    return SmallVector<Value>{
                        arith::ConstantIntOp::create(eb, el, 1, 1)};
                  })[0];
              SmallVector<Value> next = ifThenElse(
                  fb, fl, accept,
                  [&](OpBuilder &tb, Location tl) {
                    Value start =
                        arith::SelectOp::create(tb, tl, full, lastI, filled);
                    // Shift the entries that v beats one slot down.
                    auto w = scf::WhileOp::create(
                        tb, tl, TypeRange{start.getType(), st[0].getType(),
                                          st[1].getType()},
                        ValueRange{start, st[0], st[1]},
                        [&](OpBuilder &wb, Location wl, ValueRange a) {
                          Value z = idxConst(wb, wl, 0);
                          Value pj = arith::MaxSIOp::create(
                              wb, wl,
                              arith::SubIOp::create(wb, wl, a[0],
                                                    idxConst(wb, wl, 1)),
                              z);
                          Value prev =
                              tensor::ExtractOp::create(wb, wl, a[1], pos(pj));
                          Value pos0 = arith::CmpIOp::create(
                              wb, wl, arith::CmpIPredicate::sgt, a[0], z);
                          Value c = arith::AndIOp::create(
                              wb, wl, pos0, better(wb, wl, v, prev));
                          scf::ConditionOp::create(wb, wl, c, a);
                        },
                        [&](OpBuilder &wb, Location wl, ValueRange a) {
                          Value pj = arith::SubIOp::create(
                              wb, wl, a[0], idxConst(wb, wl, 1));
                          Value pv =
                              tensor::ExtractOp::create(wb, wl, a[1], pos(pj));
                          Value pi =
                              tensor::ExtractOp::create(wb, wl, a[2], pos(pj));
                          Value nv =
                              tensor::InsertOp::create(wb, wl, pv, a[1], pos(a[0]));
                          Value ni =
                              tensor::InsertOp::create(wb, wl, pi, a[2], pos(a[0]));
                          scf::YieldOp::create(wb, wl, ValueRange{pj, nv, ni});
                        });
                    Value j = w.getResult(0);
                    Value i64 = arith::IndexCastOp::create(
                        tb, tl, tb.getI64Type(), i);
                    Value nv =
                        tensor::InsertOp::create(tb, tl, v, w.getResult(1), pos(j));
                    Value ni = tensor::InsertOp::create(tb, tl, i64,
                                                        w.getResult(2), pos(j));
                    Value nf = arith::SelectOp::create(
                        tb, tl, full, filled,
                        arith::AddIOp::create(tb, tl, filled,
                                              idxConst(tb, tl, 1)));
                    return SmallVector<Value>{nv, ni, nf};
                  },
                  [&](OpBuilder &, Location) {
                    return SmallVector<Value>(st.begin(), st.end());
                  });
              scf::YieldOp::create(fb, fl, next);
            });
        return SmallVector<Value>{scan.getResult(0), scan.getResult(1)};
      });
  cv.recordDims(out[0], outDims);
  cv.recordDims(out[1], outDims);
  res.push_back({out[0], x.dt});
  res.push_back({out[1], DType::I64});
  return success();
}

} // namespace

void onnx::registerIndexOps(HandlerRegistry &r) {
  r.add("GatherND", convertGatherND);
  r.add("ScatterND", convertScatterND);
  r.add("ScatterElements", convertScatterElements);
  r.add("Scatter", convertScatterElements);
  r.add("TopK", convertTopK);
}
