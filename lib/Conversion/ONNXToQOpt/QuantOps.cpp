//===- QuantOps.cpp - ONNX quantization ops -------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked: qopt.
// quantize / qopt.dequantize, docs/semantics.md §1-2), DynamicQuantizeLinear
// (qopt.dynamic_quantize, §4), MatMulInteger / QLinearMatMul (qopt.qmatmul,
// §5, + the requantization of §8), ConvInteger / QLinearConv (the Conv window
// on i32 operands after subtracting the zero points, §7).
//
//===----------------------------------------------------------------------===//
#include "Converter.h"

#include "qopt/Dialect/QOpt/QOptDialect.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

using Results = SmallVectorImpl<TValue>;

Value cstF32(OpBuilder &b, Location l, double v) {
  return arith::ConstantOp::create(b, l, b.getF32Type(), b.getF32FloatAttr(v));
}

/// A one-element tensor as a 0-D one (opset-10 models use shape [1]).
TValue scalarIfSingle(Converter &cv, TValue v) {
  if (v.rank() > 0 && v.numElements() == 1)
    return cv.reshape(v, {});
  return v;
}

Value toF32(OpBuilder &b, Location l, Value v) {
  Type f32 = b.getF32Type();
  if (v.getType() == f32)
    return v;
  if (v.getType().getIntOrFloatBitWidth() > 32)
    return arith::TruncFOp::create(b, l, f32, v);
  return arith::ExtFOp::create(b, l, f32, v);
}

/// ext32(x) of an ONNX integer scalar (zero- or sign-extended by its type).
Value ext32(OpBuilder &b, Location l, Value v, DType dt) {
  Type i32 = b.getI32Type();
  unsigned w = v.getType().getIntOrFloatBitWidth();
  if (w == 32)
    return v;
  if (w > 32)
    return arith::TruncIOp::create(b, l, i32, v);
  return isUnsigned(dt) ? (Value)arith::ExtUIOp::create(b, l, i32, v)
                        : (Value)arith::ExtSIOp::create(b, l, i32, v);
}

/// ext32(x) - ext32(zp) as an i32 tensor (zp broadcasts against x).
TValue minusZeroPoint(Converter &cv, const TValue &x,
                      std::optional<TValue> zp) {
  if (!zp)
    return cv.elementwise({x}, DType::I32,
                          [&](OpBuilder &b, Location l, ValueRange a) {
                            return ext32(b, l, a[0], x.dt);
                          });
  return cv.elementwise({x, *zp}, DType::I32,
                        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return arith::SubIOp::create(
                              b, l, ext32(b, l, a[0], x.dt),
                              ext32(b, l, a[1], zp->dt));
                        });
}

//===----------------------------------------------------------------------===//
// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear
//===----------------------------------------------------------------------===//

/// Scale/zero point as qopt wants them: 0-D, 1-D along `axis`, or blocked
/// (the data's rank, `block_size` along `axis`); scale in `floatDt`.
LogicalResult quantParams(Converter &cv, const Node &n, const TValue &data,
                          DType floatDt, DType intDt, int64_t &axis,
                          int64_t &blockSize, TValue &scale, TValue &zp) {
  scale = n.in(1);
  if (!isFloat(scale.dt))
    return cv.error(n) << "scale must be a float tensor";
  blockSize = n.opset >= 21 ? n.i("block_size", 0) : 0;
  if (blockSize < 0)
    return cv.error(n) << "block_size must be >= 0";
  if (n.has(2) && n.in(2).numElements() > 0) {
    zp = n.in(2);
    if (zp.shape() != scale.shape() &&
        zp.numElements() != scale.numElements())
      return cv.error(n) << "scale and zero point shapes differ";
    zp = cv.reshape(zp, scale.shape());
  } else {
    zp = cv.splat(intDt, scale.shape(), 0.0);
  }
  auto a = normalizeAxis(n.i("axis", 1), std::max<int64_t>(data.rank(), 1));
  if (blockSize > 0) {
    if (!a || scale.rank() != data.rank())
      return cv.error(n) << "blocked scale must have the input's rank and a "
                            "valid axis";
    for (int64_t d = 0; d < data.rank(); ++d) {
      int64_t want = d == *a ? (data.shape()[d] + blockSize - 1) / blockSize
                             : data.shape()[d];
      if (scale.shape()[d] != want)
        return cv.error(n) << "blocked scale dimension " << d << " must be "
                           << want;
    }
    axis = *a;
    if (scale.dt != floatDt)
      scale = cv.castTo(scale, floatDt);
    return success();
  }
  if (scale.rank() > 1)
    return cv.error(n) << "scale must be a scalar or 1-D";
  if (scale.rank() == 1 && scale.numElements() == 1 &&
      (data.rank() == 0 || n.opset < 13)) {
    scale = cv.reshape(scale, {});
    zp = cv.reshape(zp, {});
  }
  if (scale.rank() == 1) {
    if (!a || *a >= data.rank() || data.shape()[*a] != scale.numElements()) {
      if (scale.numElements() != 1)
        return cv.error(n) << "per-axis scale does not match the axis dim";
      scale = cv.reshape(scale, {});
      zp = cv.reshape(zp, {});
    }
  }
  axis = a ? *a : 1;
  if (scale.dt != floatDt)
    scale = cv.castTo(scale, floatDt);
  return success();
}

LogicalResult convertQuantizeLinear(Converter &cv, const Node &n, Results &res) {
  if (n.numInputs() < 2 || !n.has(0) || !n.has(1))
    return cv.error(n) << "expects x and y_scale";
  TValue x = n.in(0);
  if (!isFloat(x.dt))
    return cv.error(n) << "expects a float input, got " << dtypeName(x.dt);
  DType outDt = DType::U8;
  if (n.has(2))
    outDt = n.in(2).dt;
  else if (n.i("output_dtype", 0) != 0)
    outDt = (DType)n.i("output_dtype", 2);
  if (!isInteger(outDt) || bitWidth(outDt) > 32)
    return cv.error(n) << "unsupported output type " << dtypeName(outDt);
  int64_t axis, block;
  TValue scale, zp;
  if (failed(quantParams(cv, n, x, x.dt, outDt, axis, block, scale, zp)))
    return failure();
  auto ty = cv.tensorType(x.shape(), outDt);
  auto q = qopt::QuantizeOp::create(cv.b, cv.loc, ty, x.v, scale.v, zp.v,
                                    (uint64_t)axis, (uint64_t)block,
                                    isUnsigned(outDt));
  res.push_back({q.getResult(), outDt});
  return success();
}

LogicalResult convertDequantizeLinear(Converter &cv, const Node &n,
                                      Results &res) {
  if (n.numInputs() < 2 || !n.has(0) || !n.has(1))
    return cv.error(n) << "expects x and x_scale";
  TValue x = n.in(0);
  if (!isInteger(x.dt) || bitWidth(x.dt) > 32)
    return cv.error(n) << "unsupported input type " << dtypeName(x.dt);
  if (n.has(2) && n.in(2).dt != x.dt)
    return cv.error(n) << "x and x_zero_point types differ";
  DType fdt = n.in(1).dt;
  if (!isFloat(fdt))
    return cv.error(n) << "scale must be a float tensor";
  int64_t axis, block;
  TValue scale, zp;
  if (failed(quantParams(cv, n, x, fdt, x.dt, axis, block, scale, zp)))
    return failure();
  auto ty = cv.tensorType(x.shape(), fdt);
  auto d = qopt::DequantizeOp::create(cv.b, cv.loc, ty, x.v, scale.v, zp.v,
                                      (uint64_t)axis, (uint64_t)block,
                                      isUnsigned(x.dt));
  res.push_back({d.getResult(), fdt});
  return success();
}

LogicalResult convertDynamicQuantizeLinear(Converter &cv, const Node &n,
                                           Results &res) {
  if (!n.has(0))
    return cv.error(n) << "expects x";
  TValue x = n.in(0);
  if (x.dt != DType::F32)
    return cv.error(n) << "expects a float input, got " << dtypeName(x.dt);
  auto qt = cv.tensorType(x.shape(), DType::U8);
  auto st = cv.tensorType({}, DType::F32);
  auto zt = cv.tensorType({}, DType::U8);
  auto q = qopt::DynamicQuantizeOp::create(cv.b, cv.loc, qt, st, zt, x.v,
                                           /*per_row=*/false,
                                           /*symmetric=*/false,
                                           /*is_unsigned=*/true);
  res.push_back({q.getResult(), DType::U8});
  res.push_back({q.getScale(), DType::F32});
  res.push_back({q.getZeroPoint(), DType::U8});
  return success();
}

//===----------------------------------------------------------------------===//
// MatMulInteger / QLinearMatMul
//===----------------------------------------------------------------------===//

bool is8Bit(DType dt) { return dt == DType::U8 || dt == DType::I8; }

/// A zero point for qopt.qmatmul: 0-D, or 1-D of `n` elements when the given
/// tensor holds `n` values along `dimFromEnd` (-2 rows, -1 columns) only.
FailureOr<TValue> qmatmulZp(Converter &cv, const Node &node, unsigned idx,
                            DType dt, int64_t n, int64_t dimFromEnd) {
  if (!node.has(idx) || node.in(idx).numElements() == 0)
    return cv.splat(dt, {}, 0.0);
  TValue zp = node.in(idx);
  if (zp.dt != dt)
    return cv.error(node) << "zero point type " << dtypeName(zp.dt)
                          << " differs from its operand's "
                          << dtypeName(dt);
  if (zp.numElements() == 1)
    return cv.reshape(zp, {});
  // Shape (n), or (..., n, 1) / (..., 1, n) with every other dim 1.
  bool ok = zp.numElements() == n;
  if (ok && zp.rank() >= 2) {
    int64_t at = zp.rank() + dimFromEnd;
    for (int64_t d = 0; d < zp.rank(); ++d)
      ok &= d == at || zp.shape()[d] == 1;
  }
  if (!ok)
    return cv.error(node) << "unsupported zero point shape " << zp.type()
                          << " (scalar or " << n << " per "
                          << (dimFromEnd == -2 ? "row" : "column") << ")";
  return cv.reshape(zp, {n});
}

/// ONNX MatMulInteger on (a, b, a_zp, b_zp) input indices; i32 result.
FailureOr<TValue> emitQMatMul(Converter &cv, const Node &n, unsigned ia,
                              unsigned ib, unsigned iaz, unsigned ibz) {
  if (!n.has(ia) || !n.has(ib))
    return cv.error(n) << "expects A and B";
  TValue a = n.in(ia), b = n.in(ib);
  if (!is8Bit(a.dt) || !is8Bit(b.dt))
    return cv.error(n) << "operands must be uint8/int8, got "
                       << dtypeName(a.dt) << " and " << dtypeName(b.dt);
  bool av = a.rank() == 1, bv = b.rank() == 1;
  if (a.rank() == 0 || b.rank() == 0)
    return cv.error(n) << "operands must have rank >= 1";
  if (av)
    a = cv.reshape(a, {1, a.shape()[0]});
  if (bv)
    b = cv.reshape(b, {b.shape()[0], 1});
  int64_t M = a.shape()[a.rank() - 2], K = a.shape().back(),
          N = b.shape().back();
  if (b.shape()[b.rank() - 2] != K)
    return cv.error(n) << "incompatible shapes " << n.in(ia).type() << " and "
                       << n.in(ib).type();
  auto bs = broadcastShapes(a.shape().drop_back(2), b.shape().drop_back(2));
  if (!bs)
    return cv.error(n) << "batch dimensions do not broadcast";
  FailureOr<TValue> az = qmatmulZp(cv, n, iaz, a.dt, M, -2);
  FailureOr<TValue> bz = qmatmulZp(cv, n, ibz, b.dt, N, -1);
  if (failed(az) || failed(bz))
    return failure();
  SmallVector<int64_t> full = *bs;
  full.push_back(M);
  full.push_back(N);
  auto ty = cv.tensorType(full, DType::I32);
  Value y = qopt::QMatMulOp::create(cv.b, cv.loc, ty, a.v, b.v, az->v, bz->v,
                                    isUnsigned(a.dt), isUnsigned(b.dt));
  TValue r{y, DType::I32};
  SmallVector<int64_t> out = *bs;
  if (!av) out.push_back(M);
  if (!bv) out.push_back(N);
  if (ArrayRef<int64_t>(out) != r.shape())
    r = cv.reshape(r, out);
  return r;
}

LogicalResult convertMatMulInteger(Converter &cv, const Node &n, Results &res) {
  FailureOr<TValue> y = emitQMatMul(cv, n, 0, 1, 2, 3);
  if (failed(y))
    return failure();
  res.push_back(*y);
  return success();
}

/// docs/semantics.md §8: y = saturate(roundeven(f32(acc) * m) + y_zp) with
/// m = (a_scale * b_scale) / y_scale in f32; the scales broadcast against
/// `acc` (each already shaped for it), y_zp is 0-D.
LogicalResult requantize(Converter &cv, const Node &n, const TValue &acc,
                         const TValue &sa, const TValue &sb, const TValue &sy,
                         const TValue &yzp, Results &res) {
  DType odt = yzp.dt;
  if (!is8Bit(odt))
    return cv.error(n) << "output zero point must be uint8/int8";
  for (const TValue *s : {&sa, &sb, &sy})
    if (s->dt != DType::F32)
      return cv.error(n) << "scales must be float32";
  for (const TValue *s : {&sa, &sb})
    if (!broadcastShapes(acc.shape(), s->shape()) ||
        *broadcastShapes(acc.shape(), s->shape()) != acc.shape())
      return cv.error(n) << "scale of shape " << s->type()
                         << " does not match the output";
  bool uns = isUnsigned(odt);
  double qmin = uns ? 0 : -128, qmax = uns ? 255 : 127;
  res.push_back(cv.elementwiseTo(
      {acc, sa, sb, sy, yzp}, acc.shape(), odt,
      [&](OpBuilder &b, Location l, ValueRange v) -> Value {
        Value m = arith::DivFOp::create(
            b, l, arith::MulFOp::create(b, l, v[1], v[2]), v[3]);
        Value f = arith::SIToFPOp::create(b, l, b.getF32Type(), v[0]);
        Value q = math::RoundEvenOp::create(b, l,
                                            arith::MulFOp::create(b, l, f, m));
        Value z = arith::SIToFPOp::create(b, l, b.getF32Type(),
                                          ext32(b, l, v[4], odt));
        q = arith::AddFOp::create(b, l, q, z);
        q = arith::MaxNumFOp::create(b, l, q, cstF32(b, l, qmin));
        q = arith::MinNumFOp::create(b, l, q, cstF32(b, l, qmax));
        Value i = arith::FPToSIOp::create(b, l, b.getI32Type(), q);
        return arith::TruncIOp::create(b, l, b.getI8Type(), i);
      }));
  return success();
}

LogicalResult convertQLinearMatMul(Converter &cv, const Node &n, Results &res) {
  if (n.numInputs() < 8)
    return cv.error(n) << "expects 8 inputs";
  for (unsigned k : {1u, 4u, 6u, 7u})
    if (!n.has(k))
      return cv.error(n) << "input " << k << " is required";
  FailureOr<TValue> acc = emitQMatMul(cv, n, 0, 3, 2, 5);
  if (failed(acc))
    return failure();
  // a_scale: scalar or per row (M) -> (M, 1); b_scale: scalar or (N).
  TValue sa = scalarIfSingle(cv, n.in(1)), sb = scalarIfSingle(cv, n.in(4));
  if (sa.rank() > 0 && acc->rank() >= 2)
    sa = cv.reshape(sa, {sa.numElements(), 1});
  if (sb.rank() > 0)
    sb = cv.reshape(sb, {sb.numElements()});
  TValue sy = scalarIfSingle(cv, n.in(6)), yz = scalarIfSingle(cv, n.in(7));
  if (sy.rank() != 0 || yz.rank() != 0)
    return cv.error(n) << "y_scale and y_zero_point must be scalars";
  return requantize(cv, n, *acc, sa, sb, sy, yz, res);
}

//===----------------------------------------------------------------------===//
// ConvInteger / QLinearConv
//===----------------------------------------------------------------------===//

/// W minus its zero point (scalar or per output channel), i32.
FailureOr<TValue> weightMinusZp(Converter &cv, const Node &n, const TValue &w,
                                unsigned izp) {
  if (!n.has(izp) || n.in(izp).numElements() == 0)
    return minusZeroPoint(cv, w, std::nullopt);
  TValue zp = scalarIfSingle(cv, n.in(izp));
  if (zp.dt != w.dt)
    return cv.error(n) << "w and w_zero_point types differ";
  if (zp.rank() != 0) {
    if (zp.numElements() != w.shape()[0])
      return cv.error(n) << "w_zero_point must be a scalar or have one "
                            "element per output channel";
    SmallVector<int64_t> s(w.rank(), 1);
    s[0] = w.shape()[0];
    zp = cv.reshape(zp, s);
  }
  return minusZeroPoint(cv, w, zp);
}

FailureOr<TValue> emitQConv(Converter &cv, const Node &n, unsigned ix,
                            unsigned ixz, unsigned iw, unsigned iwz) {
  if (!n.has(ix) || !n.has(iw))
    return cv.error(n) << "expects x and w";
  TValue x = n.in(ix), w = n.in(iw);
  if (!is8Bit(x.dt) || !is8Bit(w.dt))
    return cv.error(n) << "x and w must be uint8/int8";
  if (x.rank() < 3 || w.rank() != x.rank())
    return cv.error(n) << "x and w must have the same rank >= 3";
  std::optional<TValue> xz;
  if (n.has(ixz) && n.in(ixz).numElements() > 0) {
    xz = scalarIfSingle(cv, n.in(ixz));
    if (xz->rank() != 0 || xz->dt != x.dt)
      return cv.error(n) << "x_zero_point must be a scalar of x's type";
  }
  // Padding is applied after the subtraction: padded elements are x_zp.
  TValue xi = minusZeroPoint(cv, x, xz);
  FailureOr<TValue> wi = weightMinusZp(cv, n, w, iwz);
  if (failed(wi))
    return failure();
  return emitConv(cv, n, xi, *wi);
}

LogicalResult convertConvInteger(Converter &cv, const Node &n, Results &res) {
  FailureOr<TValue> y = emitQConv(cv, n, 0, 2, 1, 3);
  if (failed(y))
    return failure();
  res.push_back(*y);
  return success();
}

LogicalResult convertQLinearConv(Converter &cv, const Node &n, Results &res) {
  if (n.numInputs() < 8)
    return cv.error(n) << "expects at least 8 inputs";
  for (unsigned k : {1u, 4u, 6u, 7u})
    if (!n.has(k))
      return cv.error(n) << "input " << k << " is required";
  FailureOr<TValue> acc = emitQConv(cv, n, 0, 2, 3, 5);
  if (failed(acc))
    return failure();
  int64_t M = acc->shape()[1], R = acc->rank();
  if (n.has(8)) {
    TValue bias = n.in(8);
    if (bias.dt != DType::I32 || bias.numElements() != M)
      return cv.error(n) << "B must be int32 with " << M << " elements";
    *acc = emitChannelBias(cv, *acc, bias);
  }
  TValue sx = scalarIfSingle(cv, n.in(1)), sw = scalarIfSingle(cv, n.in(4));
  if (sx.rank() != 0)
    return cv.error(n) << "x_scale must be a scalar";
  if (sw.rank() != 0) {
    if (sw.numElements() != M)
      return cv.error(n) << "w_scale must be a scalar or have " << M
                         << " elements";
    SmallVector<int64_t> s(R, 1);
    s[1] = M;
    sw = cv.reshape(sw, s);
  }
  TValue sy = scalarIfSingle(cv, n.in(6)), yz = scalarIfSingle(cv, n.in(7));
  if (sy.rank() != 0 || yz.rank() != 0)
    return cv.error(n) << "y_scale and y_zero_point must be scalars";
  return requantize(cv, n, *acc, sx, sw, sy, yz, res);
}

} // namespace

void mlir::qopt::onnx::registerQuantOps(HandlerRegistry &r) {
  r.add("QuantizeLinear", convertQuantizeLinear);
  r.add("DequantizeLinear", convertDequantizeLinear);
  r.add("DynamicQuantizeLinear", convertDynamicQuantizeLinear);
  r.add("MatMulInteger", convertMatMulInteger);
  r.add("QLinearMatMul", convertQLinearMatMul);
  r.add("ConvInteger", convertConvInteger);
  r.add("QLinearConv", convertQLinearConv);
}
