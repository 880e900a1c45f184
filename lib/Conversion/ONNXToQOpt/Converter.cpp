//===- Converter.cpp - ONNX node legalization framework -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "Converter.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

//===----------------------------------------------------------------------===//
// DType
//===----------------------------------------------------------------------===//

bool onnx::isFloat(DType dt) {
  return dt == DType::F32 || dt == DType::F64 || dt == DType::F16 ||
         dt == DType::BF16;
}
bool onnx::isUnsigned(DType dt) {
  return dt == DType::U8 || dt == DType::U16 || dt == DType::U32 ||
         dt == DType::U64;
}
bool onnx::isSigned(DType dt) {
  return dt == DType::I8 || dt == DType::I16 || dt == DType::I32 ||
         dt == DType::I64;
}

unsigned onnx::bitWidth(DType dt) {
  switch (dt) {
  case DType::Bool: return 1;
  case DType::U8: case DType::I8: return 8;
  case DType::U16: case DType::I16: case DType::F16: case DType::BF16: return 16;
  case DType::U32: case DType::I32: case DType::F32: return 32;
  case DType::U64: case DType::I64: case DType::F64: return 64;
  default: return 0;
  }
}

const char *onnx::dtypeName(DType dt) {
  switch (dt) {
  case DType::F32: return "float";
  case DType::U8: return "uint8";
  case DType::I8: return "int8";
  case DType::U16: return "uint16";
  case DType::I16: return "int16";
  case DType::I32: return "int32";
  case DType::I64: return "int64";
  case DType::String: return "string";
  case DType::Bool: return "bool";
  case DType::F16: return "float16";
  case DType::F64: return "double";
  case DType::U32: return "uint32";
  case DType::U64: return "uint64";
  case DType::BF16: return "bfloat16";
  default: return "undefined";
  }
}

Type onnx::elementType(MLIRContext *ctx, DType dt) {
  switch (dt) {
  case DType::F32: return Float32Type::get(ctx);
  case DType::F64: return Float64Type::get(ctx);
  case DType::F16: return Float16Type::get(ctx);
  case DType::BF16: return BFloat16Type::get(ctx);
  case DType::String: case DType::Undefined: return {};
  default: return IntegerType::get(ctx, bitWidth(dt));
  }
}

DType onnx::dtypeOf(Type t) {
  if (t.isF32()) return DType::F32;
  if (t.isF64()) return DType::F64;
  if (t.isF16()) return DType::F16;
  if (t.isBF16()) return DType::BF16;
  auto it = dyn_cast<IntegerType>(t);
  if (!it) return DType::Undefined;
  bool u = it.isUnsigned();
  switch (it.getWidth()) {
  case 1: return DType::Bool;
  case 8: return u ? DType::U8 : DType::I8;
  case 16: return u ? DType::U16 : DType::I16;
  case 32: return u ? DType::U32 : DType::I32;
  case 64: return u ? DType::U64 : DType::I64;
  default: return DType::Undefined;
  }
}

//===----------------------------------------------------------------------===//
// ConstTensor
//===----------------------------------------------------------------------===//

ConstTensor::ConstTensor(DType dt, ArrayRef<int64_t> shape)
    : dt(dt), shape(shape) {
  if (isFloatData())
    f.assign(size(), 0.0);
  else
    i.assign(size(), 0);
}

int64_t ConstTensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Wraps `v` to the value range of integer dtype `dt` (two's complement).
static int64_t wrapInt(DType dt, int64_t v) {
  unsigned w = bitWidth(dt);
  if (dt == DType::Bool)
    return v != 0;
  if (w >= 64)
    return v;
  uint64_t mask = (1ULL << w) - 1, u = (uint64_t)v & mask;
  if (isSigned(dt) && (u >> (w - 1)))
    return (int64_t)(u | ~mask);
  return (int64_t)u;
}

void ConstTensor::set(int64_t k, double v) {
  if (isFloatData()) {
    f[k] = dt == DType::F32 ? (double)(float)v : v;
  } else if (dt == DType::Bool) {
    i[k] = v != 0.0;
  } else if (std::isnan(v)) {
    i[k] = 0;
  } else {
    i[k] = wrapInt(dt, (int64_t)std::trunc(v));
  }
}

void ConstTensor::setI(int64_t k, int64_t v) {
  if (isFloatData())
    set(k, (double)v);
  else
    i[k] = wrapInt(dt, v);
}

void ConstTensor::copyElem(int64_t dst, const ConstTensor &from, int64_t src) {
  if (isFloatData())
    f[dst] = from.f[src];
  else
    i[dst] = from.i[src];
}

SmallVector<int64_t> onnx::stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t k = (int64_t)shape.size() - 2; k >= 0; --k)
    s[k] = s[k + 1] * shape[k + 1];
  return s;
}

std::optional<SmallVector<int64_t>>
onnx::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t n = std::max(a.size(), b.size());
  SmallVector<int64_t> out(n);
  for (size_t k = 0; k < n; ++k) {
    int64_t x = k + a.size() >= n ? a[k + a.size() - n] : 1;
    int64_t y = k + b.size() >= n ? b[k + b.size() - n] : 1;
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[k] = x == 1 ? y : x;
  }
  return out;
}

std::optional<SmallVector<OpFoldResult>>
onnx::broadcastDims(ArrayRef<OpFoldResult> a, ArrayRef<OpFoldResult> b) {
  size_t n = std::max(a.size(), b.size());
  SmallVector<OpFoldResult> out;
  for (size_t k = 0; k < n; ++k) {
    bool hasX = k + a.size() >= n, hasY = k + b.size() >= n;
    if (!hasX || !hasY) {
      out.push_back(hasX ? a[k + a.size() - n] : b[k + b.size() - n]);
      continue;
    }
    OpFoldResult x = a[k + a.size() - n], y = b[k + b.size() - n];
    std::optional<int64_t> cx = getConstantIntValue(x),
                           cy = getConstantIntValue(y);
    if (cx && *cx == 1)
      out.push_back(y);
    else if (cy && *cy == 1)
      out.push_back(x);
    else if (cx && cy && *cx != *cy)
      return std::nullopt;
    else
      out.push_back(cy && !cx ? y : x);
  }
  return out;
}

SmallVector<int64_t> onnx::staticShape(ArrayRef<OpFoldResult> dims) {
  SmallVector<int64_t> s;
  for (OpFoldResult d : dims)
    s.push_back(getConstantIntValue(d).value_or(ShapedType::kDynamic));
  return s;
}

std::optional<int64_t> onnx::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Node
//===----------------------------------------------------------------------===//

Attribute Node::attr(StringRef key) const { return op.getAttrs().get(key); }

int64_t Node::i(StringRef key, int64_t def) const {
  if (auto a = dyn_cast_or_null<IntegerAttr>(attr(key)))
    return a.getInt();
  return def;
}

double Node::f(StringRef key, double def) const {
  Attribute a = attr(key);
  if (auto fa = dyn_cast_or_null<FloatAttr>(a))
    return fa.getValueAsDouble();
  if (auto ia = dyn_cast_or_null<IntegerAttr>(a))
    return (double)ia.getInt();
  return def;
}

std::string Node::s(StringRef key, StringRef def) const {
  if (auto a = dyn_cast_or_null<StringAttr>(attr(key)))
    return a.str();
  return def.str();
}

SmallVector<int64_t> Node::ints(StringRef key, ArrayRef<int64_t> def) const {
  Attribute a = attr(key);
  if (auto d = dyn_cast_or_null<DenseI64ArrayAttr>(a))
    return SmallVector<int64_t>(d.asArrayRef());
  if (auto ia = dyn_cast_or_null<IntegerAttr>(a))
    return {ia.getInt()};
  return SmallVector<int64_t>(def);
}

SmallVector<double> Node::floats(StringRef key, ArrayRef<double> def) const {
  Attribute a = attr(key);
  if (auto d = dyn_cast_or_null<DenseF32ArrayAttr>(a)) {
    SmallVector<double> out;
    for (float x : d.asArrayRef())
      out.push_back(x);
    return out;
  }
  if (auto fa = dyn_cast_or_null<FloatAttr>(a))
    return {fa.getValueAsDouble()};
  return SmallVector<double>(def);
}

//===----------------------------------------------------------------------===//
// Converter: diagnostics, types, constants
//===----------------------------------------------------------------------===//

InFlightDiagnostic Converter::error(const Node &node) {
  return emitError(node.op.getLoc())
         << "node '" << node.name << "' (" << node.type << ", opset "
         << node.opset << "): ";
}

RankedTensorType Converter::tensorType(ArrayRef<int64_t> shape,
                                       DType dt) const {
  return RankedTensorType::get(shape, elementType(ctx(), dt));
}

TValue Converter::constant(const ConstTensor &c) {
  RankedTensorType ty = tensorType(c.shape, c.dt);
  DenseElementsAttr attr;
  int64_t n = c.size();
  switch (c.dt) {
  case DType::F32: {
    SmallVector<float> v(c.f.begin(), c.f.end());
    attr = DenseElementsAttr::get(ty, ArrayRef<float>(v));
    break;
  }
  case DType::F64:
    attr = DenseElementsAttr::get(ty, ArrayRef<double>(c.f));
    break;
  case DType::F16:
  case DType::BF16: {
    const llvm::fltSemantics &sem = cast<FloatType>(ty.getElementType()).getFloatSemantics();
    SmallVector<APFloat> v;
    v.reserve(n);
    for (double x : c.f) {
      APFloat a(x);
      bool lost;
      a.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      v.push_back(a);
    }
    attr = DenseElementsAttr::get(ty, v);
    break;
  }
  case DType::Bool: {
    SmallVector<bool> v;
    for (int64_t x : c.i)
      v.push_back(x != 0);
    attr = DenseElementsAttr::get(ty, ArrayRef<bool>(v));
    break;
  }
  default: {
    unsigned w = bitWidth(c.dt);
    SmallVector<APInt> v;
    v.reserve(n);
    for (int64_t x : c.i)
      v.push_back(APInt(w, (uint64_t)x, /*isSigned=*/false, /*implicitTrunc=*/true));
    attr = DenseElementsAttr::get(ty, v);
    break;
  }
  }
  Value v = arith::ConstantOp::create(b, loc, ty, attr);
  return {v, c.dt};
}

TValue Converter::splat(DType dt, ArrayRef<int64_t> shape, double v) {
  RankedTensorType ty = tensorType(shape, dt);
  Attribute elem;
  Type et = ty.getElementType();
  if (auto ft = dyn_cast<FloatType>(et))
    elem = FloatAttr::get(ft, v);
  else
    elem = IntegerAttr::get(et, APInt(cast<IntegerType>(et).getWidth(),
                                      (uint64_t)(int64_t)v, false, true));
  auto attr = SplatElementsAttr::get(ty, elem);
  return {arith::ConstantOp::create(b, loc, ty, attr), dt};
}

Value Converter::scalarOfType(Type t, double v) {
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(b, loc, ft, FloatAttr::get(ft, v));
  auto it = cast<IntegerType>(t);
  return arith::ConstantOp::create(
      b, loc, it,
      IntegerAttr::get(it, APInt(it.getWidth(), (uint64_t)(int64_t)v, false, true)));
}

Value Converter::scalar(DType dt, double v) {
  return scalarOfType(elementType(ctx(), dt), v);
}

/// Raw little-endian bytes of element `k` of width `w` bits (w >= 8).
static int64_t readRawInt(const char *p, unsigned w, bool isSignedTy) {
  switch (w) {
  case 8: return isSignedTy ? (int64_t)*(const int8_t *)p : (int64_t)*(const uint8_t *)p;
  case 16: { int16_t s; uint16_t u; std::memcpy(&s, p, 2); std::memcpy(&u, p, 2); return isSignedTy ? s : u; }
  case 32: { int32_t s; uint32_t u; std::memcpy(&s, p, 4); std::memcpy(&u, p, 4); return isSignedTy ? s : (int64_t)u; }
  default: { int64_t s; std::memcpy(&s, p, 8); return s; }
  }
}

std::optional<ConstTensor> Converter::getConst(const TValue &v,
                                               int64_t maxElems) const {
  auto cst = v.v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  auto ty = dyn_cast<RankedTensorType>(v.v.getType());
  if (!ty || !ty.hasStaticShape() || ty.getNumElements() > maxElems)
    return std::nullopt;
  ConstTensor c(v.dt, ty.getShape());
  int64_t n = c.size();
  Attribute value = cst.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (c.isFloatData()) {
      int64_t k = 0;
      for (APFloat x : dense.getValues<APFloat>())
        c.f[k++] = x.convertToDouble();
      if (dense.isSplat())
        for (; k < n; ++k) c.f[k] = c.f[0];
    } else {
      int64_t k = 0;
      bool sgn = isSigned(v.dt);
      for (APInt x : dense.getValues<APInt>())
        c.i[k++] = v.dt == DType::Bool ? (int64_t)!x.isZero()
                   : sgn ? x.getSExtValue() : (int64_t)x.getZExtValue();
      if (dense.isSplat())
        for (; k < n; ++k) c.i[k] = c.i[0];
    }
    return c;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    unsigned w = std::max(8u, bitWidth(v.dt));
    if ((int64_t)data.size() < n * (int64_t)(w / 8))
      return std::nullopt;
    for (int64_t k = 0; k < n; ++k) {
      const char *p = data.data() + k * (w / 8);
      switch (v.dt) {
      case DType::F32: { float x; std::memcpy(&x, p, 4); c.f[k] = x; break; }
      case DType::F64: { double x; std::memcpy(&x, p, 8); c.f[k] = x; break; }
      case DType::F16:
      case DType::BF16: {
        uint16_t bits; std::memcpy(&bits, p, 2);
        APFloat a(v.dt == DType::F16 ? APFloat::IEEEhalf() : APFloat::BFloat(),
                  APInt(16, bits));
        c.f[k] = a.convertToDouble();
        break;
      }
      case DType::Bool: c.i[k] = *p != 0; break;
      default: c.i[k] = readRawInt(p, w, isSigned(v.dt)); break;
      }
    }
    return c;
  }
  return std::nullopt;
}

std::optional<SmallVector<int64_t>>
Converter::getConstInts(const TValue &v) const {
  // A zero-element tensor has no data to wait for (empty axes, pads, ...).
  if (v.type().hasStaticShape() && v.numElements() == 0)
    return SmallVector<int64_t>{};
  auto c = getConst(v);
  if (!c)
    return std::nullopt;
  SmallVector<int64_t> out;
  for (int64_t k = 0; k < c->size(); ++k)
    out.push_back(c->getI(k));
  return out;
}

bool Converter::isConst(const TValue &v) const {
  return (bool)v.v.getDefiningOp<arith::ConstantOp>();
}

bool Converter::allConst(const Node &node) const {
  for (auto &in : node.inputs)
    if (in && (!isConst(*in) || in->numElements() > kFoldLimit))
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// Converter: dynamic dims and run-time shape values
//===----------------------------------------------------------------------===//

OpFoldResult Converter::dim(const TValue &v, int64_t k) {
  int64_t s = v.shape()[k];
  if (!ShapedType::isDynamic(s))
    return b.getIndexAttr(s);
  SmallVector<OpFoldResult> &known = dimsOf[v.v];
  if (known.empty())
    known.resize(v.rank());
  if (known[k].isNull())
    known[k] = tensor::DimOp::create(b, loc, v.v, k).getResult();
  return known[k];
}

SmallVector<OpFoldResult> Converter::dims(const TValue &v) {
  SmallVector<OpFoldResult> out;
  for (int64_t k = 0; k < v.rank(); ++k)
    out.push_back(dim(v, k));
  return out;
}

void Converter::recordDims(Value v, ArrayRef<OpFoldResult> ds) {
  auto ty = cast<RankedTensorType>(v.getType());
  if (ty.hasStaticShape() || (int64_t)ds.size() != ty.getRank())
    return;
  SmallVector<OpFoldResult> &known = dimsOf[v];
  known.assign(ds.begin(), ds.end());
  for (int64_t k = 0; k < ty.getRank(); ++k)
    if (!ty.isDynamicDim(k))
      known[k] = b.getIndexAttr(ty.getDimSize(k));
}

Value Converter::indexValue(OpFoldResult d) {
  if (auto v = dyn_cast<Value>(d))
    return v;
  return arith::ConstantIndexOp::create(b, loc, *getConstantIntValue(d));
}

// Sums, differences, products with a constant and divisions by a constant
// are affine: composed and folded, so `d - (d - 1)` is 1 at compile time.
OpFoldResult Converter::addDims(OpFoldResult x, OpFoldResult y) {
  AffineExpr s0, s1;
  bindSymbols(ctx(), s0, s1);
  return affine::makeComposedFoldedAffineApply(b, loc, s0 + s1, {x, y});
}

OpFoldResult Converter::subDims(OpFoldResult x, OpFoldResult y) {
  AffineExpr s0, s1;
  bindSymbols(ctx(), s0, s1);
  return affine::makeComposedFoldedAffineApply(b, loc, s0 - s1, {x, y});
}

OpFoldResult Converter::mulDims(OpFoldResult x, OpFoldResult y) {
  auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
  AffineExpr s0, s1;
  bindSymbols(ctx(), s0, s1);
  if (cx || cy)
    return affine::makeComposedFoldedAffineApply(
        b, loc, cy ? s0 * *cy : s1 * *cx, {x, y});
  return arith::MulIOp::create(b, loc, indexValue(x), indexValue(y)).getResult();
}

OpFoldResult Converter::divDims(OpFoldResult x, OpFoldResult y, bool ceil) {
  auto cy = getConstantIntValue(y);
  AffineExpr s0, s1;
  bindSymbols(ctx(), s0, s1);
  if (cy && *cy > 0)
    return affine::makeComposedFoldedAffineApply(
        b, loc, ceil ? s0.ceilDiv(*cy) : s0.floorDiv(*cy), {x, y});
  if (x == y)
    return b.getIndexAttr(1);
  Value vx = indexValue(x), vy = indexValue(y);
  if (ceil)
    return arith::CeilDivSIOp::create(b, loc, vx, vy).getResult();
  return arith::FloorDivSIOp::create(b, loc, vx, vy).getResult();
}

/// Dims never come near 2^62: a bound that large is no bound.
static bool huge(std::optional<int64_t> c) {
  return c && (*c >= (int64_t(1) << 62) || *c <= -(int64_t(1) << 62));
}

OpFoldResult Converter::minDims(OpFoldResult x, OpFoldResult y) {
  auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
  if (huge(cx) && *cx > 0)
    return y;
  if (huge(cy) && *cy > 0)
    return x;
  AffineExpr s0, s1;
  bindSymbols(ctx(), s0, s1);
  return affine::makeComposedFoldedAffineMin(
      b, loc, AffineMap::get(0, 2, {s0, s1}, ctx()), {x, y});
}

/// Sizes of tensors and sums/positive multiples of them are >= 0.
static bool nonNegative(OpFoldResult d) {
  if (auto c = getConstantIntValue(d))
    return *c >= 0;
  Value v = cast<Value>(d);
  if (v.getDefiningOp<tensor::DimOp>())
    return true;
  auto apply = v.getDefiningOp<affine::AffineApplyOp>();
  if (!apply || !llvm::all_of(apply.getOperands(), [](Value o) {
        return nonNegative(o);
      }))
    return false;
  bool ok = true;
  apply.getAffineMap().getResult(0).walk([&](AffineExpr e) {
    if (auto bin = dyn_cast<AffineBinaryOpExpr>(e)) {
      if (e.getKind() == AffineExprKind::Add)
        return;
      auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
      ok &= e.getKind() != AffineExprKind::Mod && c && c.getValue() > 0;
    } else if (auto c = dyn_cast<AffineConstantExpr>(e)) {
      ok &= c.getValue() >= 0;
    }
  });
  return ok;
}

OpFoldResult Converter::maxDims(OpFoldResult x, OpFoldResult y) {
  auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
  if ((huge(cx) && *cx < 0) || (cx && *cx == 0 && nonNegative(y)))
    return y;
  if ((huge(cy) && *cy < 0) || (cy && *cy == 0 && nonNegative(x)))
    return x;
  AffineExpr s0, s1;
  bindSymbols(ctx(), s0, s1);
  return affine::makeComposedFoldedAffineMax(
      b, loc, AffineMap::get(0, 2, {s0, s1}, ctx()), {x, y});
}

OpFoldResult Converter::product(ArrayRef<OpFoldResult> ds) {
  OpFoldResult p = b.getIndexAttr(1);
  for (OpFoldResult d : ds)
    p = mulDims(p, d);
  return p;
}

Value Converter::countOf(const TValue &v, ArrayRef<int64_t> axes, Type t) {
  SmallVector<OpFoldResult> ds;
  for (int64_t a : axes)
    ds.push_back(dim(v, a));
  OpFoldResult n = product(ds);
  if (auto c = getConstantIntValue(n))
    return scalarOfType(t, (double)*c);
  Value i = arith::IndexCastOp::create(b, loc, b.getI64Type(), indexValue(n));
  if (isa<FloatType>(t))
    return arith::SIToFPOp::create(b, loc, t, i);
  return t.isInteger(64) ? i : arith::TruncIOp::create(b, loc, t, i).getResult();
}

Value Converter::fold(Value v) {
  Operation *op = v.getDefiningOp();
  if (!op || op->getNumResults() != 1 || isa<arith::ConstantOp>(op))
    return v;
  if (!llvm::all_of(op->getOperands(), [](Value o) {
        return matchPattern(o, m_Constant());
      }))
    return v;
  SmallVector<Value> res;
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(op);
  if (failed(b.tryFold(op, res)) || res.size() != 1)
    return v;
  v.replaceAllUsesWith(res[0]);
  op->erase();
  return res[0];
}

std::optional<SmallVector<Value>> Converter::elements(const TValue &v,
                                                      bool extract) {
  auto it = elems.find(v.v);
  if (it != elems.end())
    return it->second;
  if (!v.type().hasStaticShape() || v.numElements() > 64)
    return std::nullopt;
  Type et = v.elemType();
  SmallVector<Value> out;
  if (auto c = getConst(v)) {
    for (int64_t k = 0; k < c->size(); ++k) {
      if (c->isFloatData())
        out.push_back(scalarOfType(et, c->f[k]));
      else
        out.push_back(arith::ConstantOp::create(
            b, loc, et,
            IntegerAttr::get(et, APInt(et.getIntOrFloatBitWidth(),
                                       (uint64_t)c->i[k], false, true))));
    }
    return out;
  }
  if (!extract)
    return std::nullopt;
  SmallVector<int64_t> st = stridesOf(v.shape());
  for (int64_t k = 0, n = v.numElements(); k < n; ++k) {
    SmallVector<Value> idx;
    for (int64_t d = 0; d < v.rank(); ++d)
      idx.push_back(arith::ConstantIndexOp::create(b, loc, (k / st[d]) % v.shape()[d]));
    out.push_back(tensor::ExtractOp::create(b, loc, v.v, idx));
  }
  return out;
}

TValue Converter::fromElements(ArrayRef<Value> es, ArrayRef<int64_t> shape,
                               DType dt) {
  SmallVector<Value> folded;
  bool allConst = true;
  for (Value e : es) {
    folded.push_back(fold(e));
    allConst &= matchPattern(folded.back(), m_Constant());
  }
  if (allConst) {
    ConstTensor c(dt, shape);
    for (auto [k, e] : llvm::enumerate(folded)) {
      Attribute a;
      matchPattern(e, m_Constant(&a));
      if (auto fa = dyn_cast<FloatAttr>(a))
        c.set(k, fa.getValueAsDouble());
      else if (isUnsigned(dt) || dt == DType::Bool)
        c.setI(k, (int64_t)cast<IntegerAttr>(a).getValue().getZExtValue());
      else
        c.setI(k, cast<IntegerAttr>(a).getValue().getSExtValue());
    }
    return constant(c);
  }
  auto ty = tensorType(shape, dt);
  Value t = tensor::FromElementsOp::create(b, loc, ty, folded);
  elems[t] = folded;
  return {t, dt};
}

std::optional<SmallVector<OpFoldResult>>
Converter::dimsOperand(const TValue &v) {
  if (v.rank() > 1 || !isInteger(v.dt))
    return std::nullopt;
  auto es = elements(v);
  if (!es)
    return std::nullopt;
  SmallVector<OpFoldResult> out;
  for (Value e : *es) {
    e = fold(e);
    APInt c;
    if (matchPattern(e, m_ConstantInt(&c))) {
      out.push_back(b.getIndexAttr(isUnsigned(v.dt) ? (int64_t)c.getZExtValue()
                                                    : c.getSExtValue()));
      continue;
    }
    if (auto cast = e.getDefiningOp<arith::IndexCastOp>())
      if (cast.getIn().getType().isIndex()) {
        out.push_back(cast.getIn());
        continue;
      }
    out.push_back(
        arith::IndexCastOp::create(b, loc, b.getIndexType(), e).getResult());
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Converter: structured ops
//===----------------------------------------------------------------------===//

Value Converter::emptyTensor(ArrayRef<int64_t> shape, Type elemType) {
  return tensor::EmptyOp::create(b, loc, shape, elemType);
}

Value Converter::emptyTensorOf(ArrayRef<OpFoldResult> ds, Type elemType) {
  Value e = tensor::EmptyOp::create(b, loc, ds, elemType);
  recordDims(e, ds);
  return e;
}

/// Same dims (equal constants or the same SSA value).
static bool sameDims(ArrayRef<OpFoldResult> a, ArrayRef<OpFoldResult> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b)) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx || cy ? cx != cy : x != y)
      return false;
  }
  return true;
}

/// The reassociation of `d` onto segments: per intermediate dim, the dims
/// of `d` in it. `d`'s dynamic dims are `dyn` (positions); static runs
/// between them become one intermediate dim unless their product is 1, in
/// which case they join the next dynamic dim's group (the last's if none).
static SmallVector<ReassociationIndices>
segmentGroups(ArrayRef<int64_t> shape, ArrayRef<int64_t> dyn,
              SmallVectorImpl<int64_t> *inter) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  int64_t prev = 0;
  for (size_t k = 0; k <= dyn.size(); ++k) {
    int64_t end = k < dyn.size() ? dyn[k] : (int64_t)shape.size();
    ReassociationIndices seg;
    int64_t prod = 1;
    for (int64_t i = prev; i < end; ++i) {
      seg.push_back(i);
      prod *= shape[i];
    }
    if (prod != 1) {
      groups.push_back(seg);
      if (inter)
        inter->push_back(prod);
    } else {
      pending.append(seg);
    }
    if (k < dyn.size()) {
      pending.push_back(dyn[k]);
      groups.push_back(pending);
      pending.clear();
      if (inter)
        inter->push_back(ShapedType::kDynamic);
    }
    prev = end + 1;
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending);
  for (ReassociationIndices &g : groups)
    llvm::sort(g);
  return groups;
}

std::optional<TValue>
Converter::reshapeKeepingDynamicDims(const TValue &v,
                                     ArrayRef<OpFoldResult> ds) {
  // Only where both sides have the same dynamic dims in the same order and
  // equal static products between them: then every collapse / expand group
  // holds at most one dynamic dim (expand-strided-metadata needs that).
  SmallVector<OpFoldResult> src = dims(v);
  SmallVector<int64_t> ss = staticShape(src), ts = staticShape(ds), sd, td;
  for (int64_t k = 0; k < (int64_t)ss.size(); ++k)
    if (ShapedType::isDynamic(ss[k]))
      sd.push_back(k);
  for (int64_t k = 0; k < (int64_t)ts.size(); ++k)
    if (ShapedType::isDynamic(ts[k]))
      td.push_back(k);
  if (sd.empty() || sd.size() != td.size())
    return std::nullopt;
  for (size_t k = 0; k < sd.size(); ++k)
    if (src[sd[k]] != ds[td[k]])
      return std::nullopt;
  SmallVector<int64_t> interS, interT;
  SmallVector<ReassociationIndices> gs = segmentGroups(ss, sd, &interS);
  SmallVector<ReassociationIndices> gt = segmentGroups(ts, td, &interT);
  if (interS != interT)
    return std::nullopt;
  Type et = v.elemType();
  Value x = v.v;
  if (gs.size() != ss.size())
    x = tensor::CollapseShapeOp::create(b, loc, x, gs);
  if (gt.size() != ts.size()) {
    x = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(ts, et), x,
                                      gt, ds);
  } else if (x.getType() != RankedTensorType::get(ts, et)) {
    x = tensor::CastOp::create(b, loc, RankedTensorType::get(ts, et), x);
  }
  recordDims(x, ds);
  return TValue{x, v.dt};
}

TValue Converter::reshapeToDims(const TValue &v, ArrayRef<OpFoldResult> ds) {
  SmallVector<int64_t> shape = staticShape(ds);
  if (!isDynamic(v) && !ShapedType::isDynamicShape(shape))
    return reshape(v, shape);
  if (sameDims(dims(v), ds))
    return v;
  if (auto r = reshapeKeepingDynamicDims(v, ds))
    return *r;
  Type et = v.elemType();
  Value x = v.v;
  // Through a 1-D view, as for static shapes.
  OpFoldResult n = product(dims(v));
  if (v.rank() != 1) {
    ReassociationIndices all;
    for (int64_t k = 0; k < v.rank(); ++k)
      all.push_back(k);
    auto flatTy = RankedTensorType::get(staticShape({n}), et);
    x = v.rank() == 0
            ? tensor::ExpandShapeOp::create(b, loc, flatTy, x,
                                            ArrayRef<ReassociationIndices>{})
                  .getResult()
            : tensor::CollapseShapeOp::create(
                  b, loc, flatTy, x, ArrayRef<ReassociationIndices>{all})
                  .getResult();
  }
  auto outTy = RankedTensorType::get(shape, et);
  // expand_shape needs a dynamic source dim for a group with dynamic dims.
  if (ShapedType::isDynamicShape(shape) && shape.size() > 1 &&
      cast<RankedTensorType>(x.getType()).hasStaticShape())
    x = tensor::CastOp::create(
        b, loc, RankedTensorType::get({ShapedType::kDynamic}, et), x);
  if (shape.empty()) {
    x = tensor::CollapseShapeOp::create(b, loc, outTy, x,
                                        ArrayRef<ReassociationIndices>{});
  } else if (shape.size() == 1) {
    if (x.getType() != outTy)
      x = tensor::CastOp::create(b, loc, outTy, x);
  } else if (llvm::count(shape, ShapedType::kDynamic) > 1) {
    // expand-strided-metadata (MLIR 22) crashes on an expand_shape group
    // with two dynamic dims: a reshape by a shape tensor.
    SmallVector<Value> ext;
    for (OpFoldResult d : ds)
      ext.push_back(indexValue(d));
    Value st = tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({(int64_t)ds.size()}, b.getIndexType()),
        ext);
    x = tensor::ReshapeOp::create(b, loc, outTy, x, st);
  } else {
    ReassociationIndices all;
    for (size_t k = 0; k < shape.size(); ++k)
      all.push_back(k);
    x = tensor::ExpandShapeOp::create(b, loc, outTy, x,
                                      ArrayRef<ReassociationIndices>{all}, ds);
  }
  recordDims(x, ds);
  return {x, v.dt};
}

TValue Converter::reshape(const TValue &v, ArrayRef<int64_t> shape) {
  if (v.shape() == shape)
    return v;
  Type et = v.elemType();
  Value x = v.v;
  int64_t n = v.numElements();
  // Through a 1-D view: collapse everything, then expand into `shape`.
  if (v.rank() == 0) {
    x = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get({1}, et), x,
                                      ArrayRef<ReassociationIndices>{});
  } else if (v.rank() > 1) {
    ReassociationIndices all;
    for (int64_t k = 0; k < v.rank(); ++k)
      all.push_back(k);
    x = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({n}, et),
                                        x, ArrayRef<ReassociationIndices>{all});
  }
  if (shape.empty()) {
    x = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({}, et), x,
                                        ArrayRef<ReassociationIndices>{});
  } else if (shape.size() > 1) {
    ReassociationIndices all;
    for (size_t k = 0; k < shape.size(); ++k)
      all.push_back(k);
    x = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(shape, et),
                                      x, ArrayRef<ReassociationIndices>{all});
  }
  return {x, v.dt};
}

TValue Converter::elementwiseToDims(ArrayRef<TValue> ins,
                                    ArrayRef<OpFoldResult> outDims,
                                    DType outDt, ScalarFn body) {
  SmallVector<int64_t> outShape = staticShape(outDims);
  int64_t R = outShape.size();
  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  for (const TValue &in : ins) {
    int64_t r = in.rank();
    assert(r <= R && "input rank exceeds output rank");
    SmallVector<OpFoldResult> kept;
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < r; ++j) {
      int64_t d = R - r + j;
      if (in.shape()[j] == 1 && outShape[d] != 1)
        continue; // broadcast dim: dropped from the operand
      kept.push_back(dim(in, j));
      exprs.push_back(b.getAffineDimExpr(d));
    }
    TValue x = (int64_t)kept.size() == r ? in : reshapeToDims(in, kept);
    operands.push_back(x.v);
    maps.push_back(AffineMap::get(R, 0, exprs, ctx()));
  }
  Value init = emptyTensorOf(outDims, elementType(ctx(), outDt));
  maps.push_back(b.getMultiDimIdentityMap(R));
  SmallVector<utils::IteratorType> iters(R, utils::IteratorType::parallel);
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, operands, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  recordDims(g.getResult(0), outDims);
  return {g.getResult(0), outDt};
}

TValue Converter::elementwiseTo(ArrayRef<TValue> ins, ArrayRef<int64_t> outShape,
                                DType outDt, ScalarFn body) {
  SmallVector<OpFoldResult> dims;
  for (int64_t d : outShape)
    dims.push_back(b.getIndexAttr(d));
  return elementwiseToDims(ins, dims, outDt, body);
}

TValue Converter::elementwise(ArrayRef<TValue> ins, DType outDt, ScalarFn body) {
  SmallVector<OpFoldResult> ds;
  for (const TValue &in : ins) {
    auto s = broadcastDims(ds, dims(in));
    assert(s && "caller must check broadcast compatibility");
    ds = *s;
  }
  return elementwiseToDims(ins, ds, outDt, body);
}

TValue Converter::reduce(
    const TValue &in, ArrayRef<int64_t> axes, bool keepDims, Value init,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  int64_t R = in.rank();
  SmallVector<bool> red(R, false);
  for (int64_t a : axes)
    red[a] = true;
  if (isDynamic(in)) {
    SmallVector<OpFoldResult> outDims, keptDims;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iters;
    for (int64_t d = 0; d < R; ++d) {
      iters.push_back(red[d] ? utils::IteratorType::reduction
                             : utils::IteratorType::parallel);
      if (!red[d]) {
        outDims.push_back(dim(in, d));
        outExprs.push_back(b.getAffineDimExpr(d));
      }
      keptDims.push_back(red[d] ? OpFoldResult(b.getIndexAttr(1)) : dim(in, d));
    }
    Type et = init.getType();
    Value filled = linalg::FillOp::create(b, loc, ValueRange{init},
                                          ValueRange{emptyTensorOf(outDims, et)})
                       .getResult(0);
    recordDims(filled, outDims);
    SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(R),
                                   AffineMap::get(R, 0, outExprs, ctx())};
    auto g = linalg::GenericOp::create(
        b, loc, TypeRange{filled.getType()}, ValueRange{in.v},
        ValueRange{filled}, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, combine(nb, nl, args[0], args[1]));
        });
    recordDims(g.getResult(0), outDims);
    TValue out{g.getResult(0), et != in.elemType() ? dtypeOf(et) : in.dt};
    if (keepDims)
      out = reshapeToDims(out, keptDims);
    return out;
  }
  SmallVector<int64_t> outShape, keptShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < R; ++d) {
    iters.push_back(red[d] ? utils::IteratorType::reduction
                           : utils::IteratorType::parallel);
    if (!red[d]) {
      outShape.push_back(in.shape()[d]);
      outExprs.push_back(b.getAffineDimExpr(d));
    }
    keptShape.push_back(red[d] ? 1 : in.shape()[d]);
  }
  Type et = init.getType();
  Value empty = emptyTensor(outShape, et);
  Value filled =
      linalg::FillOp::create(b, loc, ValueRange{init}, ValueRange{empty})
          .getResult(0);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(R),
                                 AffineMap::get(R, 0, outExprs, ctx())};
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{filled.getType()}, ValueRange{in.v}, ValueRange{filled},
      maps, iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, combine(nb, nl, args[0], args[1]));
      });
  TValue out{g.getResult(0), dtypeOf(et) == DType::Undefined ? in.dt : in.dt};
  // The accumulator may differ from the input type (e.g. f32 for means).
  if (et != in.elemType())
    out.dt = dtypeOf(et);
  if (keepDims)
    out = reshape(out, keptShape);
  return out;
}

TValue Converter::broadcastToDims(const TValue &v, ArrayRef<OpFoldResult> ds) {
  if (sameDims(dims(v), ds))
    return v;
  return elementwiseToDims({v}, ds, v.dt,
                           [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

TValue Converter::broadcastTo(const TValue &v, ArrayRef<int64_t> shape) {
  if (v.shape() == shape)
    return v;
  return elementwiseTo({v}, shape, v.dt,
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

TValue Converter::transpose(const TValue &v, ArrayRef<int64_t> perm) {
  bool identity = true;
  for (size_t k = 0; k < perm.size(); ++k)
    identity &= perm[k] == (int64_t)k;
  if (identity)
    return v;
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(v.shape()[p]);
  // A transposed constant (Gemm transB weights, ...) folds on the host, so
  // the weight stays a constant that quantization passes can see.
  if (auto c = getConst(v)) {
    ConstTensor out(v.dt, shape);
    SmallVector<int64_t> inStrides = stridesOf(v.shape());
    SmallVector<int64_t> outStrides = stridesOf(shape);
    for (int64_t k = 0, n = out.size(); k < n; ++k) {
      int64_t rem = k, src = 0;
      for (size_t d = 0; d < shape.size(); ++d) {
        int64_t idx = rem / outStrides[d];
        rem %= outStrides[d];
        src += idx * inStrides[perm[d]];
      }
      out.copyElem(k, *c, src);
    }
    return constant(out);
  }
  SmallVector<OpFoldResult> ds;
  for (int64_t p : perm)
    ds.push_back(dim(v, p));
  Value init = isDynamic(v) ? emptyTensorOf(ds, v.elemType())
                            : emptyTensor(shape, v.elemType());
  auto t = linalg::TransposeOp::create(b, loc, v.v, init, perm);
  recordDims(t.getResult()[0], ds);
  return {t.getResult()[0], v.dt};
}

Value Converter::castScalar(OpBuilder &nb, Location nl, Value x, DType from,
                            DType to) {
  Type toTy = elementType(ctx(), to);
  if (from == to)
    return x;
  if (to == DType::Bool) {
    if (isFloat(from)) {
      Value z = arith::ConstantOp::create(nb, nl, x.getType(),
                                          nb.getFloatAttr(x.getType(), 0.0));
      return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNE, x, z);
    }
    Value z = arith::ConstantOp::create(nb, nl, x.getType(),
                                        nb.getIntegerAttr(x.getType(), 0));
    return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ne, x, z);
  }
  if (isFloat(from) && isFloat(to)) {
    unsigned fw = bitWidth(from), tw = bitWidth(to);
    if (fw == tw) // f16 <-> bf16
      return arith::TruncFOp::create(
          nb, nl, toTy, arith::ExtFOp::create(nb, nl, nb.getF32Type(), x));
    if (fw < tw)
      return arith::ExtFOp::create(nb, nl, toTy, x);
    return arith::TruncFOp::create(nb, nl, toTy, x);
  }
  if (isFloat(from)) {
    if (isUnsigned(to))
      return arith::FPToUIOp::create(nb, nl, toTy, x);
    return arith::FPToSIOp::create(nb, nl, toTy, x);
  }
  bool srcUnsigned = isUnsigned(from) || from == DType::Bool;
  if (isFloat(to)) {
    if (srcUnsigned)
      return arith::UIToFPOp::create(nb, nl, toTy, x);
    return arith::SIToFPOp::create(nb, nl, toTy, x);
  }
  unsigned fw = bitWidth(from), tw = bitWidth(to);
  if (fw == tw)
    return x;
  if (fw > tw)
    return arith::TruncIOp::create(nb, nl, toTy, x);
  if (srcUnsigned)
    return arith::ExtUIOp::create(nb, nl, toTy, x);
  return arith::ExtSIOp::create(nb, nl, toTy, x);
}

TValue Converter::castTo(const TValue &v, DType to) {
  if (v.dt == to)
    return v;
  DType from = v.dt;
  return elementwise({v}, to, [&](OpBuilder &nb, Location nl, ValueRange a) {
    return castScalar(nb, nl, a[0], from, to);
  });
}

TValue Converter::slice(const TValue &v, ArrayRef<int64_t> offsets,
                        ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides) {
  bool whole = true;
  for (int64_t k = 0; k < v.rank(); ++k)
    whole &= offsets[k] == 0 && sizes[k] == v.shape()[k] && strides[k] == 1;
  if (whole)
    return v;
  auto ty = RankedTensorType::get(sizes, v.elemType());
  Value s = tensor::ExtractSliceOp::create(b, loc, ty, v.v, ValueRange{},
                                           ValueRange{}, ValueRange{}, offsets,
                                           sizes, strides);
  return {s, v.dt};
}

TValue Converter::sliceDims(const TValue &v, ArrayRef<OpFoldResult> offsets,
                            ArrayRef<OpFoldResult> sizes,
                            ArrayRef<int64_t> strides) {
  SmallVector<int64_t> so = staticShape(offsets), ss = staticShape(sizes);
  if (!isDynamic(v) && !ShapedType::isDynamicShape(so) &&
      !ShapedType::isDynamicShape(ss))
    return slice(v, so, ss, strides);
  bool whole = sameDims(dims(v), sizes) &&
               llvm::all_of(strides, [](int64_t s) { return s == 1; }) &&
               llvm::all_of(so, [](int64_t o) { return o == 0; });
  if (whole)
    return v;
  SmallVector<OpFoldResult> st;
  for (int64_t s : strides)
    st.push_back(b.getIndexAttr(s));
  auto ty = RankedTensorType::get(ss, v.elemType());
  Value r = tensor::ExtractSliceOp::create(b, loc, ty, v.v, offsets, sizes, st);
  recordDims(r, sizes);
  return {r, v.dt};
}

TValue Converter::concat(ArrayRef<TValue> parts, int64_t axis) {
  if (parts.size() == 1)
    return parts[0];
  if (llvm::any_of(parts, [&](const TValue &p) { return isDynamic(p); })) {
    SmallVector<OpFoldResult> ds = dims(parts[0]);
    OpFoldResult total = b.getIndexAttr(0);
    for (const TValue &p : parts)
      total = addDims(total, dim(p, axis));
    ds[axis] = total;
    Value acc = emptyTensorOf(ds, parts[0].elemType());
    OpFoldResult off = b.getIndexAttr(0);
    SmallVector<OpFoldResult> ones(ds.size(), b.getIndexAttr(1));
    for (const TValue &p : parts) {
      SmallVector<OpFoldResult> offs(ds.size(), b.getIndexAttr(0));
      offs[axis] = off;
      acc = tensor::InsertSliceOp::create(b, loc, p.v, acc, offs, dims(p), ones);
      recordDims(acc, ds);
      off = addDims(off, dim(p, axis));
    }
    return {acc, parts[0].dt};
  }
  SmallVector<int64_t> shape(parts[0].shape());
  shape[axis] = 0;
  for (const TValue &p : parts)
    shape[axis] += p.shape()[axis];
  Value acc = emptyTensor(shape, parts[0].elemType());
  int64_t off = 0;
  for (const TValue &p : parts) {
    if (p.shape()[axis] == 0)
      continue;
    SmallVector<int64_t> offs(shape.size(), 0), strides(shape.size(), 1);
    offs[axis] = off;
    acc = tensor::InsertSliceOp::create(b, loc, p.v, acc, ValueRange{},
                                        ValueRange{}, ValueRange{}, offs,
                                        p.shape(), strides);
    off += p.shape()[axis];
  }
  return {acc, parts[0].dt};
}

bool onnx::handlesDynamicShapes(StringRef opType) {
  // Handlers reviewed for `?` dims (shapes as SSA values, shape operands
  // computed at run time). The rest see static shapes only.
  static const llvm::StringSet<> ops = {
      // elementwise (emitNary)
      "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Sqrt", "Exp", "Log",
      "Reciprocal", "Sigmoid", "Tanh", "Relu", "Erf", "Cos", "Sin", "Floor",
      "Ceil", "Round", "Equal", "Less", "LessOrEqual", "Greater",
      "GreaterOrEqual", "And", "Or", "Xor", "Not", "Where", "Cast", "Max",
      "Min", "Gelu", "Softplus", "LeakyRelu", "HardSigmoid", "HardSwish",
      "Clip",
      // shapes and data movement
      "Shape", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity",
      "Transpose", "Concat", "Slice", "Split", "Gather", "Range", "Expand",
      "ConstantOfShape",
      // index data (IndexOps.cpp, DataDependentOps.cpp)
      "GatherND", "ScatterND", "ScatterElements", "Scatter", "TopK",
      "NonZero", "Compress", "Unique",
      // reductions and NN
      "ReduceMean", "ReduceSum", "ReduceMax", "Softmax", "MatMul",
      "LayerNormalization"};
  return ops.contains(opType);
}

const HandlerRegistry &onnx::getHandlerRegistry() {
  static HandlerRegistry *r = [] {
    auto *reg = new HandlerRegistry();
    registerElementwiseOps(*reg);
    registerShapeOps(*reg);
    registerReductionOps(*reg);
    registerNNOps(*reg);
    registerQuantOps(*reg);
    registerIndexOps(*reg);
    registerDataDependentOps(*reg);
    return reg;
  }();
  return *r;
}

//===----------------------------------------------------------------------===//
// Host-side helpers for folding
//===----------------------------------------------------------------------===//

void onnx::forEachIndex(
    ArrayRef<int64_t> shape,
    function_ref<void(ArrayRef<int64_t> idx, int64_t flat)> fn) {
  for (int64_t d : shape)
    if (d == 0)
      return;
  SmallVector<int64_t> idx(shape.size(), 0);
  int64_t flat = 0;
  while (true) {
    fn(idx, flat++);
    int64_t k = (int64_t)shape.size() - 1;
    for (; k >= 0; --k) {
      if (++idx[k] < shape[k])
        break;
      idx[k] = 0;
    }
    if (k < 0)
      return;
  }
}

ConstTensor onnx::broadcastConst(const ConstTensor &c, ArrayRef<int64_t> shape) {
  if (ArrayRef<int64_t>(c.shape) == shape)
    return c;
  ConstTensor out(c.dt, shape);
  SmallVector<int64_t> st = stridesOf(c.shape);
  int64_t r = c.rank(), R = shape.size();
  forEachIndex(shape, [&](ArrayRef<int64_t> idx, int64_t flat) {
    int64_t src = 0;
    for (int64_t j = 0; j < r; ++j)
      if (c.shape[j] != 1)
        src += idx[R - r + j] * st[j];
    out.copyElem(flat, c, src);
  });
  return out;
}

ConstTensor onnx::castConst(const ConstTensor &c, DType to) {
  if (c.dt == to)
    return c;
  ConstTensor out(to, c.shape);
  for (int64_t k = 0, n = c.size(); k < n; ++k) {
    if (c.isFloatData())
      out.set(k, c.f[k]);
    else if (isFloat(to) && c.dt == DType::U64)
      out.set(k, (double)(uint64_t)c.i[k]);
    else
      out.setI(k, c.i[k]);
  }
  return out;
}
