//===- NNOps.cpp - ONNX neural-network ops --------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// MatMul/Gemm/Einsum (qopt.matmul), Conv/ConvTranspose/pools (linalg.generic
// windows over tensor.pad'ed inputs), normalizations, Softmax family and
// Resize. The quantization ops are in QuantOps.cpp.
//
//===----------------------------------------------------------------------===//
#include "RuntimeOperands.h"

#include "qopt/Dialect/QOpt/QOptDialect.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

using Results = SmallVectorImpl<TValue>;
using IT = utils::IteratorType;

//===----------------------------------------------------------------------===//
// Local helpers
//===----------------------------------------------------------------------===//

Value addF(OpBuilder &b, Location l, Value x, Value y) {
  return arith::AddFOp::create(b, l, x, y);
}
Value subF(OpBuilder &b, Location l, Value x, Value y) {
  return arith::SubFOp::create(b, l, x, y);
}
Value mulF(OpBuilder &b, Location l, Value x, Value y) {
  return arith::MulFOp::create(b, l, x, y);
}
Value divF(OpBuilder &b, Location l, Value x, Value y) {
  return arith::DivFOp::create(b, l, x, y);
}
Value cstF(OpBuilder &b, Location l, Type t, double v) {
  return arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, v));
}

LogicalResult requireFloat(Converter &cv, const Node &n, const TValue &v) {
  if (!isFloat(v.dt))
    return cv.error(n) << "expects a float input, got " << dtypeName(v.dt);
  return success();
}

/// Sum over `axes` (kept as size-1 dims) divided by their element count.
TValue meanKeep(Converter &cv, const TValue &x, ArrayRef<int64_t> axes) {
  Type et = x.elemType();
  Value cnt = cv.countOf(x, axes, et);
  TValue s = cv.reduce(x, axes, true, cv.scalarOfType(et, 0.0),
                       [](OpBuilder &b, Location l, Value v, Value acc) {
                         return addF(b, l, v, acc);
                       });
  return cv.elementwise({s}, x.dt, [&](OpBuilder &b, Location l, ValueRange a) {
    return divF(b, l, a[0], cnt);
  });
}

/// Mean and variance over `axes` (kept dims); variance is mean((x-mean)^2).
std::pair<TValue, TValue> meanVar(Converter &cv, const TValue &x,
                                  ArrayRef<int64_t> axes) {
  TValue mean = meanKeep(cv, x, axes);
  TValue sq = cv.elementwise({x, mean}, x.dt,
                             [](OpBuilder &b, Location l, ValueRange a) {
                               Value d = subF(b, l, a[0], a[1]);
                               return mulF(b, l, d, d);
                             });
  return {mean, meanKeep(cv, sq, axes)};
}

/// (x - mean) / sqrt(var + eps)
TValue normalize(Converter &cv, const TValue &x, const TValue &mean,
                 const TValue &var, double eps) {
  Type et = x.elemType();
  return cv.elementwise(
      {x, mean, var}, x.dt, [&](OpBuilder &b, Location l, ValueRange a) {
        Value d = subF(b, l, a[0], a[1]);
        Value s = math::SqrtOp::create(b, l, addF(b, l, a[2], cstF(b, l, et, eps)));
        return divF(b, l, d, s);
      });
}

/// Reshapes a per-channel vector (C) so it broadcasts along dim 1 of a
/// rank-`rank` tensor: (C, 1, ..., 1).
TValue channelVec(Converter &cv, const TValue &v, int64_t rank) {
  SmallVector<int64_t> s = {v.numElements()};
  for (int64_t k = 2; k < rank; ++k)
    s.push_back(1);
  return cv.reshape(v, s);
}

/// Slices (negative amounts) then pads (positive amounts) every dim with
/// `padValue`.
TValue padOrSlice(Converter &cv, const TValue &x, ArrayRef<int64_t> lo,
                  ArrayRef<int64_t> hi, Value padValue) {
  int64_t R = x.rank();
  SmallVector<int64_t> off(R, 0), sz(x.shape()), st(R, 1);
  bool needSlice = false, needPad = false;
  SmallVector<int64_t> plo(R, 0), phi(R, 0);
  for (int64_t k = 0; k < R; ++k) {
    if (lo[k] < 0) { off[k] = -lo[k]; sz[k] += lo[k]; needSlice = true; }
    else if (lo[k] > 0) { plo[k] = lo[k]; needPad = true; }
    if (hi[k] < 0) { sz[k] += hi[k]; needSlice = true; }
    else if (hi[k] > 0) { phi[k] = hi[k]; needPad = true; }
  }
  TValue v = x;
  if (needSlice)
    v = cv.slice(v, off, sz, st);
  if (!needPad)
    return v;
  SmallVector<int64_t> shape(v.shape());
  for (int64_t k = 0; k < R; ++k)
    shape[k] += plo[k] + phi[k];
  auto ty = RankedTensorType::get(shape, v.elemType());
  SmallVector<OpFoldResult> l, h;
  for (int64_t k = 0; k < R; ++k) {
    l.push_back(cv.b.getIndexAttr(plo[k]));
    h.push_back(cv.b.getIndexAttr(phi[k]));
  }
  auto pad = tensor::PadOp::create(cv.b, cv.loc, ty, v.v, l, h, padValue);
  return {pad.getResult(), v.dt};
}

/// A linalg.generic with the given operands/maps/iterators and one output
/// `init`; `body` receives the block arguments (inputs..., out).
Value generic(Converter &cv, ValueRange ins, Value init,
              ArrayRef<AffineMap> maps, ArrayRef<IT> iters,
              function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto g = linalg::GenericOp::create(
      cv.b, cv.loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
      iters, [&](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l, body(b, l, args));
      });
  return g.getResult(0);
}

Value filled(Converter &cv, ArrayRef<int64_t> shape, Type et, Value v) {
  Value e = cv.emptyTensor(shape, et);
  return linalg::FillOp::create(cv.b, cv.loc, ValueRange{v}, ValueRange{e})
      .getResult(0);
}

/// numpy.matmul result shape; nullopt if incompatible.
std::optional<SmallVector<int64_t>> matmulShape(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b) {
  if (a.empty() || b.empty())
    return std::nullopt;
  SmallVector<int64_t> l(a), r(b);
  bool lv = l.size() == 1, rv = r.size() == 1;
  if (lv) l.insert(l.begin(), 1);
  if (rv) r.push_back(1);
  if (l.back() != r[r.size() - 2])
    return std::nullopt;
  auto bs = broadcastShapes(ArrayRef<int64_t>(l).drop_back(2),
                            ArrayRef<int64_t>(r).drop_back(2));
  if (!bs)
    return std::nullopt;
  SmallVector<int64_t> out = *bs;
  if (!lv) out.push_back(l[l.size() - 2]);
  if (!rv) out.push_back(r.back());
  return out;
}

/// matmulShape on dims that may be run-time values.
std::optional<SmallVector<OpFoldResult>> matmulDims(Converter &cv,
                                                    const TValue &a,
                                                    const TValue &b) {
  if (a.rank() == 0 || b.rank() == 0)
    return std::nullopt;
  SmallVector<OpFoldResult> l = cv.dims(a), r = cv.dims(b);
  bool lv = l.size() == 1, rv = r.size() == 1;
  if (lv) l.insert(l.begin(), cv.b.getIndexAttr(1));
  if (rv) r.push_back(cv.b.getIndexAttr(1));
  auto k1 = getConstantIntValue(l.back()), k2 = getConstantIntValue(r[r.size() - 2]);
  if (k1 && k2 && *k1 != *k2)
    return std::nullopt;
  auto bs = broadcastDims(ArrayRef<OpFoldResult>(l).drop_back(2),
                          ArrayRef<OpFoldResult>(r).drop_back(2));
  if (!bs)
    return std::nullopt;
  SmallVector<OpFoldResult> out = *bs;
  if (!lv) out.push_back(l[l.size() - 2]);
  if (!rv) out.push_back(r.back());
  return out;
}

TValue emitMatMul(Converter &cv, const TValue &a, const TValue &b,
                  ArrayRef<int64_t> outShape) {
  auto ty = cv.tensorType(outShape, a.dt);
  Value r = qopt::MatMulOp::create(cv.b, cv.loc, ty, a.v, b.v);
  return {r, a.dt};
}

//===----------------------------------------------------------------------===//
// MatMul / Gemm / Einsum
//===----------------------------------------------------------------------===//

LogicalResult convertMatMul(Converter &cv, const Node &n, Results &res) {
  if (n.numInputs() != 2 || !n.has(0) || !n.has(1))
    return cv.error(n) << "expects 2 inputs";
  TValue a = n.in(0), b = n.in(1);
  if (a.dt != b.dt)
    return cv.error(n) << "operand types differ";
  auto dims = matmulDims(cv, a, b);
  if (!dims)
    return cv.error(n) << "incompatible shapes " << a.type() << " and "
                       << b.type();
  res.push_back(emitMatMul(cv, a, b, staticShape(*dims)));
  cv.recordDims(res.back().v, *dims);
  // The quantizers match --exclude against the ONNX node name.
  if (!n.name.empty())
    res.back().v.getDefiningOp()->setAttr("qopt.layer",
                                          cv.b.getStringAttr(n.name));
  return success();
}

LogicalResult convertGemm(Converter &cv, const Node &n, Results &res) {
  if (n.numInputs() < 2 || !n.has(0) || !n.has(1))
    return cv.error(n) << "expects A and B";
  TValue a = n.in(0), b = n.in(1);
  if (a.rank() != 2 || b.rank() != 2)
    return cv.error(n) << "A and B must be 2-D";
  if (n.i("transA", 0)) a = cv.transpose(a, {1, 0});
  if (n.i("transB", 0)) b = cv.transpose(b, {1, 0});
  if (a.shape()[1] != b.shape()[0])
    return cv.error(n) << "inner dimensions differ";
  SmallVector<int64_t> os = {a.shape()[0], b.shape()[1]};
  double alpha = n.f("alpha", 1.0), beta = n.f("beta", 1.0);
  TValue y = emitMatMul(cv, a, b, os);
  if (!n.name.empty())
    y.v.getDefiningOp()->setAttr("qopt.layer", cv.b.getStringAttr(n.name));
  bool fl = isFloat(y.dt);
  Type et = y.elemType();
  if (alpha != 1.0)
    y = cv.elementwise({y}, y.dt, [&](OpBuilder &nb, Location l, ValueRange v) {
      Value c = cv.scalarOfType(et, alpha);
      (void)nb;
      return fl ? mulF(nb, l, v[0], c)
                : (Value)arith::MulIOp::create(nb, l, v[0], c);
    });
  if (n.has(2) && beta != 0.0) {
    TValue c = n.in(2);
    auto bs = broadcastShapes(c.shape(), os);
    if (!bs || *bs != ArrayRef<int64_t>(os))
      return cv.error(n) << "C does not broadcast to " << os[0] << "x" << os[1];
    // Before opset 7 C is only broadcast with broadcast=1.
    if (n.opset < 7) {
      int64_t bc = n.i("broadcast", 0);
      if (bc != 0 && bc != 1)
        return cv.error(n) << "unsupported broadcast=" << bc;
      if (bc == 0 && c.shape() != ArrayRef<int64_t>(os))
        return cv.error(n) << "C must be " << os[0] << "x" << os[1]
                           << " with broadcast=0";
    }
    y = cv.elementwiseTo(
        {y, c}, os, y.dt, [&](OpBuilder &nb, Location l, ValueRange v) {
          Value cc = v[1];
          if (beta != 1.0) {
            Value k = arith::ConstantOp::create(
                nb, l, et,
                fl ? (TypedAttr)nb.getFloatAttr(et, beta)
                   : (TypedAttr)nb.getIntegerAttr(et, (int64_t)beta));
            cc = fl ? mulF(nb, l, cc, k)
                    : (Value)arith::MulIOp::create(nb, l, cc, k);
          }
          return fl ? addF(nb, l, v[0], cc)
                    : (Value)arith::AddIOp::create(nb, l, v[0], cc);
        });
  }
  res.push_back(y);
  return success();
}

/// Einsum as transposes/reductions around one batch matmul.
LogicalResult convertEinsum(Converter &cv, const Node &n, Results &res) {
  std::string eq;
  for (char c : n.s("equation", ""))
    if (c != ' ')
      eq += c;
  if (eq.find("...") != std::string::npos)
    return cv.error(n) << "ellipsis in equation '" << eq << "' is unsupported";
  std::string lhs = eq, out;
  size_t arrow = eq.find("->");
  bool explicitOut = arrow != std::string::npos;
  if (explicitOut) {
    lhs = eq.substr(0, arrow);
    out = eq.substr(arrow + 2);
  }
  SmallVector<std::string> terms;
  {
    size_t p = 0;
    while (true) {
      size_t q = lhs.find(',', p);
      terms.push_back(lhs.substr(p, q == std::string::npos ? q : q - p));
      if (q == std::string::npos) break;
      p = q + 1;
    }
  }
  if (terms.size() != n.numInputs() || terms.empty())
    return cv.error(n) << "equation has " << terms.size() << " operand(s) for "
                       << n.numInputs() << " input(s)";
  if (terms.size() > 2)
    return cv.error(n) << "einsum with " << terms.size()
                       << " operands is unsupported (1 or 2)";
  std::map<char, int64_t> size, count;
  for (size_t t = 0; t < terms.size(); ++t) {
    const TValue &v = n.in(t);
    if ((int64_t)terms[t].size() != v.rank())
      return cv.error(n) << "term '" << terms[t] << "' does not match rank "
                         << v.rank();
    std::string seen;
    for (size_t k = 0; k < terms[t].size(); ++k) {
      char c = terms[t][k];
      if (seen.find(c) != std::string::npos)
        return cv.error(n) << "repeated index (diagonal) is unsupported";
      seen += c;
      int64_t d = v.shape()[k];
      if (size.count(c) && size[c] != d && size[c] != 1 && d != 1)
        return cv.error(n) << "index '" << c << "' has sizes " << size[c]
                           << " and " << d;
      size[c] = size.count(c) ? std::max(size[c], d) : d;
      count[c]++;
    }
  }
  if (!explicitOut)
    for (auto &[c, k] : count)
      if (k == 1)
        out += c;
  for (char c : out)
    if (!size.count(c))
      return cv.error(n) << "output index '" << c << "' not in inputs";
  auto inOut = [&](char c) { return out.find(c) != std::string::npos; };

  // Sum away indices that appear only in one operand and not in the output.
  SmallVector<TValue> ops;
  SmallVector<std::string> ts;
  for (size_t t = 0; t < terms.size(); ++t) {
    TValue v = n.in(t);
    std::string keep;
    SmallVector<int64_t> axes;
    for (size_t k = 0; k < terms[t].size(); ++k) {
      char c = terms[t][k];
      bool inOther = terms.size() == 2 &&
                     terms[1 - t].find(c) != std::string::npos;
      if (!inOut(c) && !inOther)
        axes.push_back(k);
      else
        keep += c;
    }
    if (!axes.empty()) {
      if (!isFloat(v.dt))
        return cv.error(n) << "integer reductions unsupported";
      v = cv.reduce(v, axes, false, cv.scalarOfType(v.elemType(), 0.0),
                    [](OpBuilder &b, Location l, Value x, Value acc) {
                      return addF(b, l, x, acc);
                    });
    }
    ops.push_back(v);
    ts.push_back(keep);
  }
  auto permuteTo = [&](const TValue &v, const std::string &from,
                       const std::string &to) {
    SmallVector<int64_t> perm;
    for (char c : to)
      perm.push_back(from.find(c));
    return cv.transpose(v, perm);
  };
  if (ops.size() == 1) {
    res.push_back(permuteTo(ops[0], ts[0], out));
    return success();
  }
  // Classify: batch (A,B,out), M (A,out), N (B,out), K (A,B).
  std::string bt, mt, nt, kt;
  for (char c : ts[0]) {
    bool inB = ts[1].find(c) != std::string::npos;
    if (inB && inOut(c)) bt += c;
    else if (inB) kt += c;
    else mt += c;
  }
  for (char c : ts[1])
    if (ts[0].find(c) == std::string::npos)
      nt += c;
  auto prod = [&](const std::string &s) {
    int64_t p = 1;
    for (char c : s) p *= size[c];
    return p;
  };
  auto prep = [&](TValue v, const std::string &term, const std::string &order,
                  SmallVector<int64_t> shape3) {
    v = permuteTo(v, term, order);
    SmallVector<int64_t> full;
    for (char c : order) full.push_back(size[c]);
    v = cv.broadcastTo(v, full);
    return cv.reshape(v, shape3);
  };
  int64_t B = prod(bt), M = prod(mt), N = prod(nt), K = prod(kt);
  TValue a = prep(ops[0], ts[0], bt + mt + kt, {B, M, K});
  TValue b = prep(ops[1], ts[1], bt + kt + nt, {B, K, N});
  if (a.dt != b.dt)
    return cv.error(n) << "operand types differ";
  TValue y = emitMatMul(cv, a, b, {B, M, N});
  std::string yt = bt + mt + nt;
  SmallVector<int64_t> ys;
  for (char c : yt) ys.push_back(size[c]);
  y = cv.reshape(y, ys);
  res.push_back(permuteTo(y, yt, out));
  return success();
}

//===----------------------------------------------------------------------===//
// Conv / ConvTranspose / pools
//===----------------------------------------------------------------------===//

struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padLo, padHi, out;
};

/// Resolves pads/out sizes of a conv/pool window over spatial dims `in`.
LogicalResult resolveWindow(Converter &cv, const Node &n,
                            ArrayRef<int64_t> in, ArrayRef<int64_t> kernel,
                            bool ceilMode, Window &w) {
  size_t S = in.size();
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = n.ints("strides", SmallVector<int64_t>(S, 1));
  w.dilations = n.ints("dilations", SmallVector<int64_t>(S, 1));
  SmallVector<int64_t> pads = n.ints("pads", SmallVector<int64_t>(2 * S, 0));
  if (w.kernel.size() != S || w.strides.size() != S ||
      w.dilations.size() != S || pads.size() != 2 * S)
    return cv.error(n) << "kernel/strides/dilations/pads do not match "
                       << S << " spatial dims";
  std::string ap = n.s("auto_pad", "NOTSET");
  w.padLo.assign(S, 0);
  w.padHi.assign(S, 0);
  w.out.assign(S, 0);
  for (size_t i = 0; i < S; ++i) {
    int64_t s = w.strides[i], ek = (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (s <= 0 || w.dilations[i] <= 0 || w.kernel[i] <= 0)
      return cv.error(n) << "non-positive kernel/stride/dilation";
    if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      int64_t o = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (o - 1) * s + ek - in[i]);
      int64_t small = total / 2;
      w.padLo[i] = ap == "SAME_UPPER" ? small : total - small;
      w.padHi[i] = total - w.padLo[i];
      w.out[i] = o;
      continue;
    }
    if (ap == "VALID") {
      w.out[i] = (in[i] - ek + s) / s;
    } else if (ap == "NOTSET" || ap.empty()) {
      w.padLo[i] = pads[i];
      w.padHi[i] = pads[i + S];
      int64_t eff = in[i] + w.padLo[i] + w.padHi[i] - ek;
      if (eff < 0)
        return cv.error(n) << "kernel larger than padded input";
      int64_t o = ceilMode ? (eff + s - 1) / s + 1 : eff / s + 1;
      // The last window must start inside the input or the left padding.
      if (ceilMode && (o - 1) * s >= in[i] + w.padLo[i])
        --o;
      w.out[i] = o;
    } else {
      return cv.error(n) << "unknown auto_pad '" << ap << "'";
    }
    if (w.out[i] <= 0)
      return cv.error(n) << "empty output";
  }
  return success();
}

/// Pads (N, C, spatial...) so every window of `w` is in bounds.
TValue padForWindow(Converter &cv, const TValue &x, const Window &w,
                    Value padValue) {
  int64_t S = w.kernel.size();
  SmallVector<int64_t> lo(2, 0), hi(2, 0);
  for (int64_t i = 0; i < S; ++i) {
    int64_t need = (w.out[i] - 1) * w.strides[i] +
                   (w.kernel[i] - 1) * w.dilations[i] + 1;
    int64_t have = x.shape()[2 + i] + w.padLo[i];
    lo.push_back(w.padLo[i]);
    hi.push_back(need - have); // may be < padHi (unused tail) or negative
  }
  return padOrSlice(cv, x, lo, hi, padValue);
}

/// y[n,g,m,o] = sum_{c,k} x[n,g,c,o*s+k*d] * w[g,m,c,k] (k flipped if asked).
/// `x`: (N,G,C/G,padded...), `wt`: (G,M/G,C/G,k...).
TValue convCore(Converter &cv, const TValue &x, const TValue &wt,
                const Window &w, bool flip) {
  int64_t S = w.kernel.size();
  int64_t N = x.shape()[0], G = x.shape()[1], Cg = x.shape()[2],
          Mg = wt.shape()[1];
  // Dims: n g m o0..oS-1 | c k0..kS-1
  int64_t D = 3 + S + 1 + S;
  auto d = [&](int64_t k) { return cv.b.getAffineDimExpr(k); };
  int64_t cDim = 3 + S;
  SmallVector<AffineExpr> xe = {d(0), d(1), d(cDim)}, we = {d(1), d(2), d(cDim)},
                          oe = {d(0), d(1), d(2)};
  for (int64_t i = 0; i < S; ++i) {
    AffineExpr o = d(3 + i), k = d(cDim + 1 + i);
    xe.push_back(o * w.strides[i] + k * w.dilations[i]);
    we.push_back(flip ? (w.kernel[i] - 1) - k : k);
    oe.push_back(o);
  }
  SmallVector<AffineMap> maps = {AffineMap::get(D, 0, xe, cv.ctx()),
                                 AffineMap::get(D, 0, we, cv.ctx()),
                                 AffineMap::get(D, 0, oe, cv.ctx())};
  SmallVector<IT> iters(3 + S, IT::parallel);
  iters.append(1 + S, IT::reduction);
  SmallVector<int64_t> os = {N, G, Mg};
  os.append(w.out.begin(), w.out.end());
  (void)Cg;
  Type et = x.elemType();
  Value init = filled(cv, os, et, cv.scalarOfType(et, 0.0));
  bool fl = isFloat(x.dt);
  Value y = generic(cv, {x.v, wt.v}, init, maps, iters,
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      if (fl)
                        return addF(b, l, a[2], mulF(b, l, a[0], a[1]));
                      return arith::AddIOp::create(
                          b, l, a[2], arith::MulIOp::create(b, l, a[0], a[1]));
                    });
  return {y, x.dt};
}

TValue addBias(Converter &cv, const TValue &y, const TValue &bias) {
  TValue bv = channelVec(cv, bias, y.rank());
  bool fl = isFloat(y.dt);
  return cv.elementwise({y, bv}, y.dt,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          if (fl) return addF(b, l, a[0], a[1]);
                          return arith::AddIOp::create(b, l, a[0], a[1]);
                        });
}

} // namespace

/// The Conv window of `n` over x (N,C,spatial...) and W (M,C/G,k...); the
/// padding is 0 and integer types accumulate in their own (wrapping) type.
FailureOr<TValue> mlir::qopt::onnx::emitConv(Converter &cv, const Node &n,
                                             TValue x, TValue wt) {
  int64_t R = x.rank(), S = R - 2;
  if (S < 1 || wt.rank() != R)
    return cv.error(n) << "X and W must have the same rank >= 3";
  int64_t G = n.i("group", 1), N = x.shape()[0], C = x.shape()[1],
          M = wt.shape()[0];
  if (G <= 0 || C % G || M % G || wt.shape()[1] != C / G)
    return cv.error(n) << "channels (" << C << ", W " << wt.type()
                       << ") do not match group " << G;
  SmallVector<int64_t> kernel(wt.shape().drop_front(2));
  if (n.hasAttr("kernel_shape") && n.ints("kernel_shape") != kernel)
    return cv.error(n) << "kernel_shape does not match W";
  Window w;
  if (failed(resolveWindow(cv, n, x.shape().drop_front(2), kernel, false, w)))
    return failure();
  TValue xp = padForWindow(cv, x, w, cv.scalarOfType(x.elemType(), 0.0));
  SmallVector<int64_t> xs = {N, G, C / G};
  xs.append(xp.shape().begin() + 2, xp.shape().end());
  xp = cv.reshape(xp, xs);
  SmallVector<int64_t> ws = {G, M / G, C / G};
  ws.append(kernel);
  TValue wr = cv.reshape(wt, ws);
  if (wr.dt != xp.dt)
    return cv.error(n) << "X and W types differ";
  TValue y = convCore(cv, xp, wr, w, false);
  if (isFloat(y.dt)) {
    // The layer the quantizers rewrite (lib/Transforms/ConvQuant.cpp): the
    // generic's operands are (padded x, filter (G, M/G, C/G, k...)).
    y.v.getDefiningOp()->setAttr("qopt.conv", cv.b.getUnitAttr());
    if (!n.name.empty())
      y.v.getDefiningOp()->setAttr("qopt.layer", cv.b.getStringAttr(n.name));
  }
  SmallVector<int64_t> ys = {N, M};
  ys.append(w.out);
  return cv.reshape(y, ys);
}

TValue mlir::qopt::onnx::emitChannelBias(Converter &cv, const TValue &y,
                                         const TValue &bias) {
  return addBias(cv, y, bias);
}

namespace {

LogicalResult convertConv(Converter &cv, const Node &n, Results &res) {
  if (!n.has(0) || !n.has(1))
    return cv.error(n) << "expects X and W";
  TValue x = n.in(0), wt = n.in(1);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  FailureOr<TValue> y = emitConv(cv, n, x, wt);
  if (failed(y))
    return failure();
  int64_t M = wt.shape()[0];
  if (n.has(2)) {
    if (n.in(2).numElements() != M)
      return cv.error(n) << "bias must have " << M << " elements";
    *y = addBias(cv, *y, n.in(2));
  }
  res.push_back(*y);
  return success();
}

LogicalResult convertConvTranspose(Converter &cv, const Node &n, Results &res) {
  if (!n.has(0) || !n.has(1))
    return cv.error(n) << "expects X and W";
  TValue x = n.in(0), wt = n.in(1);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  int64_t R = x.rank(), S = R - 2;
  if (S < 1 || wt.rank() != R)
    return cv.error(n) << "X and W must have the same rank >= 3";
  int64_t G = n.i("group", 1), N = x.shape()[0], C = x.shape()[1];
  if (G <= 0 || C % G || wt.shape()[0] != C)
    return cv.error(n) << "W " << wt.type() << " does not match " << C
                       << " input channels / group " << G;
  int64_t Mg = wt.shape()[1], M = Mg * G;
  SmallVector<int64_t> kernel(wt.shape().drop_front(2));
  auto strides = n.ints("strides", SmallVector<int64_t>(S, 1));
  auto dil = n.ints("dilations", SmallVector<int64_t>(S, 1));
  auto opad = n.ints("output_padding", SmallVector<int64_t>(S, 0));
  auto pads = n.ints("pads", SmallVector<int64_t>(2 * S, 0));
  auto oshape = n.ints("output_shape");
  if ((int64_t)oshape.size() == R)
    oshape.erase(oshape.begin(), oshape.begin() + 2);
  std::string ap = n.s("auto_pad", "NOTSET");
  if ((int64_t)strides.size() != S || (int64_t)dil.size() != S ||
      (int64_t)opad.size() != S || (int64_t)pads.size() != 2 * S ||
      (!oshape.empty() && (int64_t)oshape.size() != S))
    return cv.error(n) << "attribute sizes do not match " << S
                       << " spatial dims";
  Window w;
  w.kernel = kernel;
  w.strides.assign(S, 1);
  w.dilations = dil;
  SmallVector<int64_t> padLo(S), padHi(S);
  for (int64_t i = 0; i < S; ++i) {
    int64_t in = x.shape()[2 + i], ek = (kernel[i] - 1) * dil[i] + 1;
    int64_t full = strides[i] * (in - 1) + opad[i] + ek;
    if (!oshape.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      int64_t o = oshape.empty() ? in * strides[i] : oshape[i];
      int64_t total = full - o;
      // ONNX: SAME_UPPER puts the smaller half first.
      // Floor division: a negative total (output_shape larger than the
      // full result) extends the end with zeros, as the ONNX reference does.
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      if (ap == "SAME_UPPER") {
        padLo[i] = half;
        padHi[i] = total - half;
      } else {
        padLo[i] = total - half;
        padHi[i] = half;
      }
    } else if (ap == "VALID") {
      padLo[i] = padHi[i] = 0;
    } else {
      padLo[i] = pads[i];
      padHi[i] = pads[S + i];
    }
    w.out.push_back(full - padLo[i] - padHi[i]);
    if (w.out.back() <= 0)
      return cv.error(n) << "empty output";
  }
  // Zero-insert (stride), then pad so a flipped-kernel conv gathers.
  Type et = x.elemType();
  Value zero = cv.scalarOfType(et, 0.0);
  TValue xz = x;
  bool strided = false;
  for (int64_t s : strides) strided |= s != 1;
  if (strided) {
    SmallVector<int64_t> zs = {N, C}, off(R, 0), st = {1, 1};
    for (int64_t i = 0; i < S; ++i) {
      zs.push_back((x.shape()[2 + i] - 1) * strides[i] + 1);
      st.push_back(strides[i]);
    }
    Value z = filled(cv, zs, et, zero);
    Value ins = tensor::InsertSliceOp::create(cv.b, cv.loc, x.v, z,
                                              ValueRange{}, ValueRange{},
                                              ValueRange{}, off, x.shape(), st);
    xz = {ins, x.dt};
  }
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  for (int64_t i = 0; i < S; ++i) {
    int64_t ek1 = (kernel[i] - 1) * dil[i];
    lo.push_back(ek1 - padLo[i]);
    int64_t need = w.out[i] + ek1; // padded length for stride-1 windows
    hi.push_back(need - xz.shape()[2 + i] - lo.back());
  }
  TValue xp = padOrSlice(cv, xz, lo, hi, zero);
  SmallVector<int64_t> xs = {N, G, C / G};
  xs.append(xp.shape().begin() + 2, xp.shape().end());
  xp = cv.reshape(xp, xs);
  // W (C, M/G, k) -> (G, C/G, M/G, k) -> (G, M/G, C/G, k).
  SmallVector<int64_t> ws = {G, C / G, Mg};
  ws.append(kernel);
  TValue wr = cv.reshape(wt, ws);
  SmallVector<int64_t> perm = {0, 2, 1};
  for (int64_t i = 0; i < S; ++i) perm.push_back(3 + i);
  wr = cv.transpose(wr, perm);
  {
    // Flip the kernel's spatial dims (a gather: out[k] = w[K-1-k]).
    int64_t Rw = wr.rank();
    SmallVector<AffineExpr> fe;
    for (int64_t k = 0; k < Rw; ++k) {
      AffineExpr dk = cv.b.getAffineDimExpr(k);
      fe.push_back(k < 3 ? dk : (kernel[k - 3] - 1) - dk);
    }
    Value init = cv.emptyTensor(wr.shape(), wr.elemType());
    Value f = generic(cv, {wr.v}, init,
                      {AffineMap::get(Rw, 0, fe, cv.ctx()),
                       cv.b.getMultiDimIdentityMap(Rw)},
                      SmallVector<IT>(Rw, IT::parallel),
                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    wr = {f, wr.dt};
  }
  TValue y = convCore(cv, xp, wr, w, false);
  if (isFloat(y.dt)) {
    // The layer the quantizers rewrite (lib/Transforms/ConvQuant.cpp): the
    // generic's operands are (padded x, filter (G, M/G, C/G, k...)).
    y.v.getDefiningOp()->setAttr("qopt.conv", cv.b.getUnitAttr());
    if (!n.name.empty())
      y.v.getDefiningOp()->setAttr("qopt.layer", cv.b.getStringAttr(n.name));
  }
  SmallVector<int64_t> ys = {N, M};
  ys.append(w.out);
  y = cv.reshape(y, ys);
  if (n.has(2))
    y = addBias(cv, y, n.in(2));
  res.push_back(y);
  return success();
}

/// Max/Average pooling through one windowed linalg.generic.
LogicalResult convertPool(Converter &cv, const Node &n, Results &res,
                          bool isMax) {
  TValue x = n.in(0);
  int64_t R = x.rank(), S = R - 2;
  if (S < 1)
    return cv.error(n) << "input must have rank >= 3";
  if (isMax && n.numOutputs > 1 && !n.op->getResult(1).use_empty())
    return cv.error(n) << "the Indices output is unsupported";
  if (n.i("storage_order", 0) != 0 && n.numOutputs > 1)
    return cv.error(n) << "storage_order is unsupported";
  bool fl = isFloat(x.dt);
  if (!fl && (!isMax || bitWidth(x.dt) != 8))
    return cv.error(n) << "unsupported element type " << dtypeName(x.dt);
  auto kernel = n.ints("kernel_shape");
  Window w;
  if (failed(resolveWindow(cv, n, x.shape().drop_front(2), kernel,
                           n.i("ceil_mode", 0) != 0, w)))
    return failure();
  Type et = x.elemType();
  Value padV;
  if (!fl)
    padV = cv.scalarOfType(et, isUnsigned(x.dt) ? 0.0 : -128.0);
  else
    padV = cv.scalarOfType(et, isMax ? -INFINITY : 0.0);
  TValue xp = padForWindow(cv, x, w, padV);
  int64_t D = 2 + 2 * S;
  auto d = [&](int64_t k) { return cv.b.getAffineDimExpr(k); };
  SmallVector<AffineExpr> xe = {d(0), d(1)}, ke, oe = {d(0), d(1)};
  for (int64_t i = 0; i < S; ++i) {
    xe.push_back(d(2 + i) * w.strides[i] + d(2 + S + i) * w.dilations[i]);
    ke.push_back(d(2 + S + i));
    oe.push_back(d(2 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(D, 0, xe, cv.ctx()),
                                 AffineMap::get(D, 0, ke, cv.ctx()),
                                 AffineMap::get(D, 0, oe, cv.ctx())};
  SmallVector<IT> iters(2 + S, IT::parallel);
  iters.append(S, IT::reduction);
  SmallVector<int64_t> os = {x.shape()[0], x.shape()[1]};
  os.append(w.out);
  Value window = cv.emptyTensor(w.kernel, et);
  Value init = filled(cv, os, et, padV);
  bool uns = isUnsigned(x.dt);
  Value y = generic(cv, {xp.v, window}, init, maps, iters,
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      if (!isMax) return addF(b, l, a[0], a[2]);
                      if (fl) return arith::MaximumFOp::create(b, l, a[0], a[2]);
                      if (uns) return arith::MaxUIOp::create(b, l, a[0], a[2]);
                      return arith::MaxSIOp::create(b, l, a[0], a[2]);
                    });
  TValue out{y, x.dt};
  if (!isMax) {
    // Divisor per output position, computed on the host.
    bool incl = n.i("count_include_pad", 0) != 0;
    ConstTensor cnt(x.dt, w.out);
    SmallVector<int64_t> st = stridesOf(w.out);
    for (int64_t e = 0; e < cnt.size(); ++e) {
      int64_t c = 1;
      for (int64_t i = 0; i < S; ++i) {
        int64_t o = (e / st[i]) % w.out[i], in = x.shape()[2 + i];
        int64_t lo = incl ? -w.padLo[i] : 0, hi = incl ? in + w.padHi[i] : in;
        int64_t k = 0;
        for (int64_t j = 0; j < w.kernel[i]; ++j) {
          int64_t p = o * w.strides[i] + j * w.dilations[i] - w.padLo[i];
          k += p >= lo && p < hi;
        }
        c *= k;
      }
      cnt.set(e, (double)std::max<int64_t>(c, 1));
    }
    TValue cv2 = cv.constant(cnt);
    out = cv.elementwise({out, cv2}, x.dt,
                         [](OpBuilder &b, Location l, ValueRange a) {
                           return divF(b, l, a[0], a[1]);
                         });
  }
  res.push_back(out);
  return success();
}

LogicalResult convertGlobalPool(Converter &cv, const Node &n, Results &res,
                                bool isMax) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t k = 2; k < x.rank(); ++k) axes.push_back(k);
  if (!isMax) {
    res.push_back(meanKeep(cv, x, axes));
    return success();
  }
  res.push_back(cv.reduce(x, axes, true,
                          cv.scalarOfType(x.elemType(), -INFINITY),
                          [](OpBuilder &b, Location l, Value v, Value acc) {
                            return arith::MaximumFOp::create(b, l, v, acc);
                          }));
  return success();
}

LogicalResult convertLpPool(Converter &cv, const Node &n, Results &res) {
  return cv.error(n) << "LpPool is unsupported";
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

LogicalResult convertBatchNorm(Converter &cv, const Node &n, Results &res) {
  if (n.numInputs() != 5)
    return cv.error(n) << "expects 5 inputs";
  if (n.i("training_mode", 0) != 0)
    return cv.error(n) << "training_mode is unsupported";
  // Before opset 7 the default (is_test=0) is training mode, which
  // normalizes with batch statistics.
  if (n.opset < 7 && n.i("is_test", 0) == 0)
    return cv.error(n) << "is_test=0 (training mode) is unsupported";
  // Before opset 9, spatial=0 means per-activation parameters (C x D1 x ...).
  int64_t spatial = n.opset < 9 ? n.i("spatial", 1) : 1;
  if (spatial != 0 && spatial != 1)
    return cv.error(n) << "unsupported spatial=" << spatial;
  for (unsigned k = 1; k < n.numOutputs; ++k)
    if (!n.op->getResult(k).use_empty())
      return cv.error(n) << "training outputs are unsupported";
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  if (x.rank() < 2)
    return cv.error(n) << "input must have rank >= 2";
  // Parameters broadcast over N (spatial=0) or over N and D1... (spatial=1).
  SmallVector<int64_t> pshape(x.shape().drop_front());
  if (spatial)
    pshape.resize(1);
  int64_t P = 1;
  for (int64_t d : pshape)
    P *= d;
  for (unsigned k = 1; k < 5; ++k)
    if (n.in(k).numElements() != P)
      return cv.error(n) << "parameter #" << k << " must have " << P
                         << " elements" << (spatial ? "" : " (spatial=0)");
  auto paramVec = [&](const TValue &t) {
    if (spatial)
      return channelVec(cv, t, x.rank());
    SmallVector<int64_t> s = {1};
    s.append(pshape);
    return cv.reshape(t, s);
  };
  double eps = n.f("epsilon", 1e-5);
  auto sc = cv.getConst(n.in(1)), bi = cv.getConst(n.in(2)),
       mu = cv.getConst(n.in(3)), va = cv.getConst(n.in(4));
  TValue y;
  if (sc && bi && mu && va) {
    // y = x * a + c with a = scale / sqrt(var + eps), c = B - mean * a.
    ConstTensor a(x.dt, {P}), c(x.dt, {P});
    for (int64_t k = 0; k < P; ++k) {
      float av = (float)(sc->getF(k) /
                         std::sqrt((double)(float)(va->getF(k) + eps)));
      a.set(k, av);
      c.set(k, bi->getF(k) - mu->getF(k) * (double)av);
    }
    TValue av = paramVec(cv.constant(a));
    TValue cvv = paramVec(cv.constant(c));
    y = cv.elementwise({x, av, cvv}, x.dt,
                       [](OpBuilder &b, Location l, ValueRange v) {
                         return addF(b, l, mulF(b, l, v[0], v[1]), v[2]);
                       });
  } else {
    SmallVector<TValue> p;
    for (unsigned k = 1; k < 5; ++k) {
      TValue t = n.in(k);
      if (t.dt != x.dt) t = cv.castTo(t, x.dt);
      p.push_back(paramVec(t));
    }
    Type et = x.elemType();
    y = cv.elementwise({x, p[0], p[1], p[2], p[3]}, x.dt,
                       [&](OpBuilder &b, Location l, ValueRange v) {
                         Value d = subF(b, l, v[0], v[3]);
                         Value s = math::SqrtOp::create(
                             b, l, addF(b, l, v[4], cstF(b, l, et, eps)));
                         return addF(b, l, mulF(b, l, divF(b, l, d, s), v[1]),
                                     v[2]);
                       });
  }
  res.push_back(y);
  return success();
}

/// y * scale + bias with scale/bias broadcast (either may be absent).
TValue scaleShift(Converter &cv, TValue y, std::optional<TValue> scale,
                  std::optional<TValue> bias) {
  if (scale)
    y = cv.elementwise({y, *scale}, y.dt,
                       [](OpBuilder &b, Location l, ValueRange v) {
                         return mulF(b, l, v[0], v[1]);
                       });
  if (bias)
    y = cv.elementwise({y, *bias}, y.dt,
                       [](OpBuilder &b, Location l, ValueRange v) {
                         return addF(b, l, v[0], v[1]);
                       });
  return y;
}

LogicalResult convertInstanceNorm(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  if (x.rank() < 3 || n.numInputs() != 3)
    return cv.error(n) << "expects X (rank >= 3), scale and B";
  SmallVector<int64_t> axes;
  for (int64_t k = 2; k < x.rank(); ++k) axes.push_back(k);
  auto [mean, var] = meanVar(cv, x, axes);
  TValue y = normalize(cv, x, mean, var, n.f("epsilon", 1e-5));
  res.push_back(scaleShift(cv, y, channelVec(cv, n.in(1), x.rank()),
                           channelVec(cv, n.in(2), x.rank())));
  return success();
}

LogicalResult convertLayerNorm(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  auto axis = normalizeAxis(n.i("axis", -1), x.rank());
  if (!axis)
    return cv.error(n) << "axis out of range";
  SmallVector<int64_t> axes;
  for (int64_t k = *axis; k < x.rank(); ++k) axes.push_back(k);
  for (unsigned k = 1; k < 3; ++k)
    if (n.has(k)) {
      auto bs = broadcastDims(cv.dims(n.in(k)), cv.dims(x));
      if (!bs || staticShape(*bs) != x.shape())
        return cv.error(n) << "Scale/B do not broadcast to X";
    }
  auto [mean, var] = meanVar(cv, x, axes);
  double eps = n.f("epsilon", 1e-5);
  TValue y = normalize(cv, x, mean, var, eps);
  std::optional<TValue> sc, bi;
  if (n.has(1)) sc = n.in(1);
  if (n.has(2)) bi = n.in(2);
  res.push_back(scaleShift(cv, y, sc, bi));
  if (n.numOutputs > 1) {
    res.push_back(mean);
    Type et = x.elemType();
    res.push_back(cv.elementwise(
        {var}, x.dt, [&](OpBuilder &b, Location l, ValueRange v) {
          return math::RsqrtOp::create(b, l,
                                       addF(b, l, v[0], cstF(b, l, et, eps)));
        }));
  }
  return success();
}

LogicalResult convertGroupNorm(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  int64_t G = n.i("num_groups", 0);
  if (x.rank() < 2 || n.numInputs() != 3 || G <= 0 || x.shape()[1] % G)
    return cv.error(n) << "bad input rank, inputs or num_groups";
  int64_t N = x.shape()[0], C = x.shape()[1], Sz = 1;
  for (int64_t k = 2; k < x.rank(); ++k) Sz *= x.shape()[k];
  TValue xr = cv.reshape(x, {N, G, C / G, Sz});
  auto [mean, var] = meanVar(cv, xr, {2, 3});
  TValue y = normalize(cv, xr, mean, var, n.f("epsilon", 1e-5));
  TValue sc = n.in(1), bi = n.in(2);
  if (sc.numElements() == C && n.opset >= 21) {
    sc = cv.reshape(sc, {G, C / G, 1});
    bi = cv.reshape(bi, {G, C / G, 1});
  } else if (sc.numElements() == G) {
    sc = cv.reshape(sc, {G, 1, 1});
    bi = cv.reshape(bi, {G, 1, 1});
  } else {
    return cv.error(n) << "scale/bias size does not match";
  }
  y = scaleShift(cv, y, sc, bi);
  res.push_back(cv.reshape(y, x.shape()));
  return success();
}

LogicalResult convertLpNorm(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  auto axis = normalizeAxis(n.i("axis", -1), x.rank());
  int64_t p = n.i("p", 2);
  if (!axis || (p != 1 && p != 2))
    return cv.error(n) << "bad axis or p (only 1 and 2)";
  TValue t = cv.elementwise({x}, x.dt, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
    if (p == 1) return math::AbsFOp::create(b, l, v[0]);
    return mulF(b, l, v[0], v[0]);
  });
  TValue s = cv.reduce(t, {*axis}, true, cv.scalarOfType(x.elemType(), 0.0),
                       [](OpBuilder &b, Location l, Value v, Value acc) {
                         return addF(b, l, v, acc);
                       });
  res.push_back(cv.elementwise(
      {x, s}, x.dt, [&](OpBuilder &b, Location l, ValueRange v) {
        Value nrm = p == 1 ? v[1] : (Value)math::SqrtOp::create(b, l, v[1]);
        return divF(b, l, v[0], nrm);
      }));
  return success();
}

LogicalResult convertLRN(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  int64_t size = n.i("size", 0), R = x.rank();
  if (size <= 0 || R < 2)
    return cv.error(n) << "bad size or rank";
  double alpha = n.f("alpha", 1e-4), beta = n.f("beta", 0.75),
         bias = n.f("bias", 1.0);
  Type et = x.elemType();
  TValue sq = cv.elementwise({x}, x.dt, [](OpBuilder &b, Location l, ValueRange v) {
    return mulF(b, l, v[0], v[0]);
  });
  SmallVector<int64_t> lo(R, 0), hi(R, 0);
  lo[1] = (size - 1) / 2;
  hi[1] = size - 1 - lo[1];
  TValue sp = padOrSlice(cv, sq, lo, hi, cv.scalarOfType(et, 0.0));
  int64_t D = R + 1;
  auto d = [&](int64_t k) { return cv.b.getAffineDimExpr(k); };
  SmallVector<AffineExpr> xe, oe;
  for (int64_t k = 0; k < R; ++k) {
    xe.push_back(k == 1 ? d(1) + d(R) : d(k));
    oe.push_back(d(k));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(D, 0, xe, cv.ctx()),
                                 AffineMap::get(D, 0, {d(R)}, cv.ctx()),
                                 AffineMap::get(D, 0, oe, cv.ctx())};
  SmallVector<IT> iters(R, IT::parallel);
  iters.push_back(IT::reduction);
  Value win = cv.emptyTensor({size}, et);
  Value init = filled(cv, x.shape(), et, cv.scalarOfType(et, 0.0));
  Value ssum = generic(cv, {sp.v, win}, init, maps, iters,
                       [](OpBuilder &b, Location l, ValueRange a) {
                         return addF(b, l, a[0], a[2]);
                       });
  res.push_back(cv.elementwise(
      {x, TValue{ssum, x.dt}}, x.dt, [&](OpBuilder &b, Location l, ValueRange v) {
        Value t = addF(b, l, cstF(b, l, et, bias),
                       mulF(b, l, cstF(b, l, et, alpha / size), v[1]));
        Value p = math::PowFOp::create(b, l, t, cstF(b, l, et, beta));
        return divF(b, l, v[0], p);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

enum class SoftKind { Softmax, LogSoftmax, Hardmax };

LogicalResult convertSoftmax(Converter &cv, const Node &n, Results &res,
                             SoftKind kind) {
  TValue x = n.in(0);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  int64_t R = x.rank();
  bool legacy = n.opset < 13;
  auto axis = normalizeAxis(n.i("axis", legacy ? 1 : -1), R);
  if (R == 0 || !axis)
    return cv.error(n) << "axis out of range";
  TValue in = x;
  int64_t ax = *axis;
  if (legacy && cv.isDynamic(x))
    return cv.error(n) << "opset < 13 with dynamic dims is unsupported";
  if (legacy) {
    // Coerced to 2-D [prod(d < axis), prod(d >= axis)], axis 1.
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < R; ++k) (k < ax ? outer : inner) *= x.shape()[k];
    in = cv.reshape(x, {outer, inner});
    ax = 1;
  }
  Type et = x.elemType();
  TValue m = cv.reduce(in, {ax}, true, cv.scalarOfType(et, -INFINITY),
                       [](OpBuilder &b, Location l, Value v, Value acc) {
                         return arith::MaximumFOp::create(b, l, v, acc);
                       });
  TValue y;
  if (kind == SoftKind::Hardmax) {
    // First index along `ax` where x == max, then one-hot.
    int64_t r = in.rank();
    Type i64 = cv.b.getI64Type();
    SmallVector<int64_t> ks;
    for (int64_t k = 0; k < r; ++k)
      if (k != ax) ks.push_back(in.shape()[k]);
    TValue mb = cv.reduce(in, {ax}, false, cv.scalarOfType(et, -INFINITY),
                          [](OpBuilder &b, Location l, Value v, Value acc) {
                            return arith::MaximumFOp::create(b, l, v, acc);
                          });
    auto id = cv.b.getMultiDimIdentityMap(r);
    SmallVector<AffineExpr> me;
    for (int64_t k = 0; k < r; ++k)
      if (k != ax) me.push_back(cv.b.getAffineDimExpr(k));
    AffineMap mm = AffineMap::get(r, 0, me, cv.ctx());
    SmallVector<IT> iters(r, IT::parallel);
    iters[ax] = IT::reduction;
    Value init = filled(cv, ks, i64, cv.scalarOfType(i64, (double)in.shape()[ax]));
    Value idx = generic(cv, {in.v, mb.v}, init, {id, mm, mm}, iters,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value i = linalg::IndexOp::create(b, l, ax);
                          Value ii = arith::IndexCastOp::create(b, l, i64, i);
                          Value eq = arith::CmpFOp::create(
                              b, l, arith::CmpFPredicate::OEQ, a[0], a[1]);
                          Value cand = arith::SelectOp::create(b, l, eq, ii, a[2]);
                          return arith::MinSIOp::create(b, l, cand, a[2]);
                        });
    Value init2 = cv.emptyTensor(in.shape(), et);
    Value oh = generic(cv, {idx}, init2, {mm, id}, SmallVector<IT>(r, IT::parallel),
                       [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                         Value i = linalg::IndexOp::create(b, l, ax);
                         Value ii = arith::IndexCastOp::create(b, l, i64, i);
                         Value eq = arith::CmpIOp::create(
                             b, l, arith::CmpIPredicate::eq, ii, a[0]);
                         return arith::SelectOp::create(b, l, eq, cstF(b, l, et, 1.0),
                                                        cstF(b, l, et, 0.0));
                       });
    y = {oh, x.dt};
  } else {
    TValue e = cv.elementwise({in, m}, x.dt, [](OpBuilder &b, Location l, ValueRange v) {
      return math::ExpOp::create(b, l, subF(b, l, v[0], v[1]));
    });
    TValue s = cv.reduce(e, {ax}, true, cv.scalarOfType(et, 0.0),
                         [](OpBuilder &b, Location l, Value v, Value acc) {
                           return addF(b, l, v, acc);
                         });
    if (kind == SoftKind::Softmax)
      y = cv.elementwise({e, s}, x.dt, [](OpBuilder &b, Location l, ValueRange v) {
        return divF(b, l, v[0], v[1]);
      });
    else
      y = cv.elementwise({in, m, s}, x.dt,
                         [](OpBuilder &b, Location l, ValueRange v) {
                           return subF(b, l, subF(b, l, v[0], v[1]),
                                       math::LogOp::create(b, l, v[2]));
                         });
  }
  res.push_back(legacy ? cv.reshape(y, x.shape()) : y);
  return success();
}

//===----------------------------------------------------------------------===//
// Resize / Upsample
//===----------------------------------------------------------------------===//

/// Resizes one axis: out[..., o, ...] = sum_t w_t[o] * x[..., idx_t[o], ...]
/// with 1 (nearest) or 2 (linear) taps, computed by tensor.extract.
TValue resizeAxis(Converter &cv, const TValue &x, int64_t axis,
                  ArrayRef<SmallVector<int64_t>> idx,
                  ArrayRef<SmallVector<double>> wts) {
  int64_t R = x.rank(), O = idx[0].size();
  SmallVector<int64_t> os(x.shape());
  os[axis] = O;
  Type et = x.elemType();
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  AffineMap am = AffineMap::get(R, 0, {cv.b.getAffineDimExpr(axis)}, cv.ctx());
  for (auto &ix : idx) {
    ConstTensor c(DType::I64, {O});
    for (int64_t k = 0; k < O; ++k) c.setI(k, ix[k]);
    ins.push_back(cv.constant(c).v);
    maps.push_back(am);
  }
  for (auto &w : wts) {
    ConstTensor c(x.dt, {O});
    for (int64_t k = 0; k < O; ++k) c.set(k, w[k]);
    ins.push_back(cv.constant(c).v);
    maps.push_back(am);
  }
  maps.push_back(cv.b.getMultiDimIdentityMap(R));
  Value init = cv.emptyTensor(os, et);
  size_t T = idx.size();
  Value src = x.v;
  Value y = generic(cv, ins, init, maps, SmallVector<IT>(R, IT::parallel),
                    [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                      SmallVector<Value> pos;
                      for (int64_t k = 0; k < R; ++k)
                        pos.push_back(linalg::IndexOp::create(b, l, k));
                      Value acc;
                      for (size_t t = 0; t < T; ++t) {
                        pos[axis] = arith::IndexCastOp::create(
                            b, l, b.getIndexType(), a[t]);
                        Value v = tensor::ExtractOp::create(b, l, src, pos);
                        if (!wts.empty())
                          v = mulF(b, l, v, a[T + t]);
                        acc = acc ? addF(b, l, acc, v) : v;
                      }
                      return acc;
                    });
  return {y, x.dt};
}

LogicalResult resizeImpl(Converter &cv, const Node &n, Results &res,
                         const TValue &x, ArrayRef<double> scalesIn,
                         ArrayRef<int64_t> sizesIn, StringRef mode,
                         StringRef ctm, StringRef nearestMode) {
  int64_t R = x.rank();
  if (mode != "nearest" && mode != "linear")
    return cv.error(n) << "mode '" << mode << "' is unsupported";
  if (ctm == "tf_crop_and_resize")
    return cv.error(n) << "tf_crop_and_resize is unsupported";
  if (mode == "linear" && !isFloat(x.dt))
    return cv.error(n) << "linear mode needs a float input";
  TValue y = x;
  for (int64_t ax = 0; ax < R; ++ax) {
    int64_t in = x.shape()[ax], out;
    double scale;
    if (!sizesIn.empty()) {
      out = sizesIn[ax];
      scale = (double)out / (double)in;
    } else {
      scale = scalesIn[ax];
      out = (int64_t)std::floor((double)in * scale);
    }
    if (out <= 0 || scale <= 0)
      return cv.error(n) << "non-positive output size or scale";
    // The resized length the coordinate maps use: `out` with sizes, the
    // unrounded in * scale with scales (as the ONNX reference does).
    double lenR = sizesIn.empty() ? (double)in * scale : (double)out;
    SmallVector<int64_t> i0(out), i1(out);
    SmallVector<double> w0(out), w1(out);
    bool identity = out == in;
    for (int64_t o = 0; o < out; ++o) {
      double xo;
      if (ctm == "half_pixel")
        xo = ((double)o + 0.5) / scale - 0.5;
      else if (ctm == "pytorch_half_pixel")
        xo = lenR > 1 ? ((double)o + 0.5) / scale - 0.5 : 0.0;
      else if (ctm == "align_corners")
        xo = lenR == 1 ? 0.0 : (double)o * (double)(in - 1) / (lenR - 1);
      else if (ctm == "asymmetric")
        xo = (double)o / scale;
      else if (ctm == "tf_half_pixel_for_nn")
        xo = ((double)o + 0.5) / scale;
      else if (ctm == "half_pixel_symmetric") {
        double adj = (double)out / ((double)in * scale);
        double off = (double)in / 2.0 * (1.0 - adj);
        xo = off + ((double)o + 0.5) / scale - 0.5;
      } else
        return cv.error(n) << "unknown coordinate_transformation_mode '"
                           << ctm << "'";
      auto clampI = [&](int64_t v) {
        return std::min<int64_t>(std::max<int64_t>(v, 0), in - 1);
      };
      if (mode == "nearest") {
        double r;
        double fl = std::floor(xo), frac = xo - fl;
        if (nearestMode == "round_prefer_floor")
          r = frac == 0.5 ? fl : std::round(xo);
        else if (nearestMode == "round_prefer_ceil")
          r = frac == 0.5 ? fl + 1 : std::round(xo);
        else if (nearestMode == "floor")
          r = fl;
        else if (nearestMode == "ceil")
          r = std::ceil(xo);
        else
          return cv.error(n) << "unknown nearest_mode '" << nearestMode << "'";
        i0[o] = clampI((int64_t)r);
        identity &= i0[o] == o;
      } else {
        double fl = std::floor(xo);
        double ratio = xo - fl;
        i0[o] = clampI((int64_t)fl);
        i1[o] = clampI((int64_t)fl + 1);
        w0[o] = 1.0 - ratio;
        w1[o] = ratio;
        identity &= i0[o] == o && (w1[o] == 0.0 || i1[o] == o);
      }
    }
    if (identity)
      continue;
    if (mode == "nearest")
      y = resizeAxis(cv, y, ax, {i0}, {});
    else
      y = resizeAxis(cv, y, ax, {i0, i1}, {w0, w1});
  }
  res.push_back(y);
  return success();
}

LogicalResult convertResize(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  int64_t R = x.rank();
  SmallVector<double> scales;
  SmallVector<int64_t> sizes;
  std::string mode = n.s("mode", "nearest");
  std::string ctm, nm;
  auto readScales = [&](const TValue &t) -> LogicalResult {
    auto c = cv.getConst(t);
    if (!c)
      return cv.error(n) << "scales must be a constant";
    for (int64_t k = 0; k < c->size(); ++k)
      scales.push_back(c->getF(k));
    return success();
  };
  if (n.opset < 11) {
    if (n.has(1) && !cv.getConst(n.in(1)))
      return convertResizeRuntime(cv, n, res, x, n.in(1), false, {}, mode,
                                  "asymmetric", "floor");
    if (!n.has(1) || failed(readScales(n.in(1))))
      return cv.error(n) << "scales must be a constant";
    ctm = "asymmetric";
    nm = "floor";
  } else {
    ctm = n.s("coordinate_transformation_mode", "half_pixel");
    nm = n.s("nearest_mode", "round_prefer_floor");
    if (n.hasAttr("antialias") && n.i("antialias", 0))
      return cv.error(n) << "antialias is unsupported";
    std::string kar = n.s("keep_aspect_ratio_policy", "stretch");
    bool hasSizes = n.has(3) && n.in(3).numElements() > 0;
    bool hasScales = !hasSizes && n.has(2) && n.in(2).numElements() > 0;
    if ((hasSizes && !cv.getConst(n.in(3)) && kar == "stretch") ||
        (hasScales && !cv.getConst(n.in(2))))
      return convertResizeRuntime(cv, n, res, x, n.in(hasSizes ? 3 : 2),
                                  hasSizes, n.ints("axes"), mode, ctm, nm);
    if (hasSizes) {
      auto s = cv.getConstInts(n.in(3));
      if (!s)
        return cv.error(n) << "sizes must be a constant";
      sizes = *s;
    } else if (hasScales) {
      if (failed(readScales(n.in(2))))
        return failure();
    } else {
      return cv.error(n) << "needs scales or sizes";
    }
    auto axes = n.ints("axes");
    if (!axes.empty()) {
      SmallVector<double> fs(R, 1.0);
      SmallVector<int64_t> fz(x.shape());
      for (size_t k = 0; k < axes.size(); ++k) {
        auto a = normalizeAxis(axes[k], R);
        if (!a) return cv.error(n) << "axis out of range";
        if (!sizes.empty() && k < sizes.size()) fz[*a] = sizes[k];
        if (!scales.empty() && k < scales.size()) fs[*a] = scales[k];
      }
      if (!sizes.empty()) sizes = fz;
      else scales = fs;
    }

    if (!sizes.empty() && kar != "stretch")
      return cv.error(n) << "keep_aspect_ratio_policy '" << kar
                         << "' is unsupported";
  }
  if ((!scales.empty() && (int64_t)scales.size() != R) ||
      (!sizes.empty() && (int64_t)sizes.size() != R))
    return cv.error(n) << "scales/sizes must have " << R << " elements";
  return resizeImpl(cv, n, res, x, scales, sizes, mode, ctm, nm);
}

LogicalResult convertUpsample(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0);
  SmallVector<double> scales;
  if (n.has(1)) {
    auto c = cv.getConst(n.in(1));
    if (!c)
      return convertResizeRuntime(cv, n, res, x, n.in(1), false, {},
                                  n.s("mode", "nearest"), "asymmetric",
                                  "floor");
    for (int64_t k = 0; k < c->size(); ++k) scales.push_back(c->getF(k));
  } else {
    scales = n.floats("scales");
  }
  if ((int64_t)scales.size() != x.rank())
    return cv.error(n) << "scales must have " << x.rank() << " elements";
  return resizeImpl(cv, n, res, x, scales, {}, n.s("mode", "nearest"),
                    "asymmetric", "floor");
}

LogicalResult convertPRelu(Converter &cv, const Node &n, Results &res) {
  TValue x = n.in(0), s = n.in(1);
  if (failed(requireFloat(cv, n, x)))
    return failure();
  auto bs = broadcastShapes(x.shape(), s.shape());
  if (!bs || *bs != x.shape()) {
    // Legacy unidirectional form: slope of shape (C) against dim 1.
    if (x.rank() >= 2 && s.numElements() == x.shape()[1])
      s = channelVec(cv, s, x.rank());
    else
      return cv.error(n) << "slope does not broadcast to X";
  }
  Type et = x.elemType();
  res.push_back(cv.elementwiseTo(
      {x, s}, x.shape(), x.dt, [&](OpBuilder &b, Location l, ValueRange v) {
        Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, v[0],
                                          cstF(b, l, et, 0.0));
        return arith::SelectOp::create(b, l, neg, mulF(b, l, v[0], v[1]), v[0]);
      }));
  return success();
}

} // namespace

void mlir::qopt::onnx::registerNNOps(HandlerRegistry &r) {
  r.add("MatMul", convertMatMul);
  r.add("Gemm", convertGemm);
  r.add("Einsum", convertEinsum);
  r.add("Conv", convertConv);
  r.add("ConvTranspose", convertConvTranspose);
  r.add("MaxPool", [](Converter &cv, const Node &n, Results &res) {
    return convertPool(cv, n, res, true);
  });
  r.add("AveragePool", [](Converter &cv, const Node &n, Results &res) {
    return convertPool(cv, n, res, false);
  });
  r.add("GlobalAveragePool", [](Converter &cv, const Node &n, Results &res) {
    return convertGlobalPool(cv, n, res, false);
  });
  r.add("GlobalMaxPool", [](Converter &cv, const Node &n, Results &res) {
    return convertGlobalPool(cv, n, res, true);
  });
  (void)convertLpPool;
  r.add("BatchNormalization", convertBatchNorm);
  r.add("InstanceNormalization", convertInstanceNorm);
  r.add("LayerNormalization", convertLayerNorm);
  r.add("GroupNormalization", convertGroupNorm);
  r.add("LpNormalization", convertLpNorm);
  r.add("LRN", convertLRN);
  r.add("Softmax", [](Converter &cv, const Node &n, Results &res) {
    return convertSoftmax(cv, n, res, SoftKind::Softmax);
  });
  r.add("LogSoftmax", [](Converter &cv, const Node &n, Results &res) {
    return convertSoftmax(cv, n, res, SoftKind::LogSoftmax);
  });
  r.add("Hardmax", [](Converter &cv, const Node &n, Results &res) {
    return convertSoftmax(cv, n, res, SoftKind::Hardmax);
  });
  r.add("Resize", convertResize);
  r.add("Upsample", convertUpsample);
  if (!r.lookup("PRelu"))
    r.add("PRelu", convertPRelu);
}
