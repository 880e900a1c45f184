//===- ShapeOps.cpp - shape and data-movement ONNX ops --------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Reshape, Transpose, Concat, Split, Slice, Squeeze, Unsqueeze, Flatten,
// Shape, Size, Expand, Gather, GatherElements, Tile, ConstantOfShape, Range,
// Identity, Dropout, Pad, Trilu, CumSum, Where, Cast, CastLike, EyeLike,
// OneHot, DepthToSpace, SpaceToDepth.
//
// Every op folds on the host when its operands are small constants (this is
// what makes shape subgraphs disappear); shape-like operands (Reshape's
// shape, Slice's starts, ...) that are constants give static shapes, those
// computed at run time `?` dims (here, or RuntimeOperands.cpp).
//
//===----------------------------------------------------------------------===//
#include "RuntimeOperands.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

using Results = SmallVectorImpl<TValue>;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Input `k` is present and only known at run time.
bool runtimeInput(Converter &cv, const Node &node, unsigned k) {
  return node.has(k) && !cv.getConstInts(node.in(k));
}

LogicalResult needConst(Converter &cv, const Node &node, StringRef what) {
  return cv.error(node) << "'" << what
                        << "' must be a constant (pin dynamic inputs with "
                           "--input-shape)";
}

int64_t product(ArrayRef<int64_t> s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// Integer values of input `k` (a constant), or of attribute `key` for old
/// opsets (`fromAttr`). nullopt + error if the input is not constant.
/// `present` is set to whether either was given.
std::optional<SmallVector<int64_t>> intsArg(Converter &cv, const Node &node,
                                            bool fromAttr, StringRef key,
                                            unsigned k, bool &present) {
  if (fromAttr) {
    present = node.hasAttr(key);
    return node.ints(key);
  }
  present = node.has(k);
  if (!present)
    return SmallVector<int64_t>{};
  auto v = cv.getConstInts(node.in(k));
  if (!v) {
    (void)needConst(cv, node, key);
    return std::nullopt;
  }
  return v;
}

/// Builds an arith.constant from an ONNX TENSOR attribute (sign-aware
/// element type) and reads it back on the host.
std::optional<ConstTensor> attrConst(Converter &cv, Attribute a) {
  auto elems = dyn_cast_or_null<ElementsAttr>(a);
  if (!elems)
    return std::nullopt;
  auto ty = cast<ShapedType>(elems.getType());
  DType dt = dtypeOf(ty.getElementType());
  if (dt == DType::Undefined)
    return std::nullopt;
  auto rty = cv.tensorType(ty.getShape(), dt);
  TypedAttr attr;
  if (auto dense = dyn_cast<DenseElementsAttr>(a))
    attr = dense.getElementType() == rty.getElementType()
               ? dense
               : dense.bitcast(rty.getElementType()).reshape(rty);
  else if (auto res = dyn_cast<DenseResourceElementsAttr>(a))
    attr = DenseResourceElementsAttr::get(rty, res.getRawHandle());
  else
    return std::nullopt;
  auto op = arith::ConstantOp::create(cv.b, cv.loc, rty, attr);
  auto c = cv.getConst(TValue{op, dt});
  op->erase();
  return c;
}

/// Host gather: out[idx] = src[srcOf(idx)], or `fill` (element 0) if
/// srcOf returns a negative value.
ConstTensor hostMap(const ConstTensor &src, ArrayRef<int64_t> outShape,
                    function_ref<int64_t(ArrayRef<int64_t>)> srcOf,
                    const ConstTensor *fill = nullptr) {
  ConstTensor out(src.dt, outShape);
  forEachIndex(outShape, [&](ArrayRef<int64_t> idx, int64_t flat) {
    int64_t s = srcOf(idx);
    if (s >= 0)
      out.copyElem(flat, src, s);
    else if (fill)
      out.copyElem(flat, *fill, 0);
  });
  return out;
}

/// A numeric ONNX type this compiler can hold in a tensor.
bool supportedDType(DType dt) {
  int v = (int)dt;
  return v >= 1 && v <= 16 && dt != DType::String && bitWidth(dt) != 0;
}

bool foldable(ArrayRef<int64_t> outShape) {
  return product(outShape) <= Converter::kFoldLimit;
}

} // namespace

TValue onnx::indexGenericDims(
    Converter &cv, ArrayRef<OpFoldResult> outDims, DType dt,
    ArrayRef<Value> ins, ArrayRef<AffineMap> inMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  int64_t R = outDims.size();
  Value init = cv.emptyTensorOf(outDims, elementType(cv.ctx(), dt));
  SmallVector<AffineMap> maps(inMaps.begin(), inMaps.end());
  maps.push_back(cv.b.getMultiDimIdentityMap(R));
  SmallVector<utils::IteratorType> iters(R, utils::IteratorType::parallel);
  auto g = linalg::GenericOp::create(
      cv.b, cv.loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> idx;
        for (int64_t d = 0; d < R; ++d)
          idx.push_back(linalg::IndexOp::create(nb, nl, d));
        linalg::YieldOp::create(nb, nl, body(nb, nl, idx, args.drop_back()));
      });
  cv.recordDims(g.getResult(0), outDims);
  return {g.getResult(0), dt};
}

namespace {

TValue indexGeneric(
    Converter &cv, ArrayRef<int64_t> outShape, DType dt, ArrayRef<Value> ins,
    ArrayRef<AffineMap> inMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  SmallVector<OpFoldResult> dims;
  for (int64_t d : outShape)
    dims.push_back(cv.b.getIndexAttr(d));
  return indexGenericDims(cv, dims, dt, ins, inMaps, body);
}

/// normIndex against a run-time dim size (index-typed `dim`).
Value normIndexDyn(OpBuilder &b, Location l, Value x, Value dim) {
  Value i = x.getType().isIndex()
                ? x
                : arith::IndexCastOp::create(b, l, b.getIndexType(), x).getResult();
  Value zero = arith::ConstantIndexOp::create(b, l, 0);
  Value one = arith::ConstantIndexOp::create(b, l, 1);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  Value wrapped = arith::AddIOp::create(b, l, i, dim);
  i = arith::SelectOp::create(b, l, neg, wrapped, i);
  i = arith::MaxSIOp::create(b, l, i, zero);
  Value last = arith::MaxSIOp::create(b, l, arith::SubIOp::create(b, l, dim, one), zero);
  return arith::MinSIOp::create(b, l, i, last);
}

Value cIdx(OpBuilder &b, Location l, int64_t v) {
  return arith::ConstantIndexOp::create(b, l, v);
}

/// Index-typed, negative-wrapped and clamped to [0, dim).
Value normIndex(OpBuilder &b, Location l, Value x, int64_t dim) {
  Value i = x.getType().isIndex()
                ? x
                : arith::IndexCastOp::create(b, l, b.getIndexType(), x).getResult();
  Value zero = cIdx(b, l, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  Value wrapped = arith::AddIOp::create(b, l, i, cIdx(b, l, dim));
  i = arith::SelectOp::create(b, l, neg, wrapped, i);
  i = arith::MaxSIOp::create(b, l, i, zero);
  return arith::MinSIOp::create(b, l, i, cIdx(b, l, std::max<int64_t>(dim - 1, 0)));
}

// --- Folding-aware primitives ------------------------------------------------

TValue doReshape(Converter &cv, const TValue &v, ArrayRef<int64_t> shape) {
  if (v.shape() == shape)
    return v;
  if (cv.hasElements(v))
    return cv.fromElements(*cv.elements(v), shape, v.dt);
  if (auto cst = v.v.getDefiningOp<arith::ConstantOp>()) {
    auto ty = RankedTensorType::get(shape, v.elemType());
    TypedAttr attr;
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue()))
      attr = dense.reshape(ty);
    else if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
      attr = DenseResourceElementsAttr::get(ty, res.getRawHandle());
    if (attr)
      return {arith::ConstantOp::create(cv.b, cv.loc, ty, attr), v.dt};
  }
  return cv.reshape(v, shape);
}

TValue doTranspose(Converter &cv, const TValue &v, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(v.shape()[p]);
  if (auto c = cv.getConst(v)) {
    SmallVector<int64_t> st = stridesOf(c->shape);
    return cv.constant(hostMap(*c, shape, [&](ArrayRef<int64_t> o) {
      int64_t s = 0;
      for (size_t k = 0; k < perm.size(); ++k)
        s += o[k] * st[perm[k]];
      return s;
    }));
  }
  return cv.transpose(v, perm);
}

/// Strided slice; steps may be negative (start is then the highest index).
TValue doSlice(Converter &cv, const TValue &v, ArrayRef<int64_t> starts,
               ArrayRef<int64_t> sizes, ArrayRef<int64_t> steps) {
  int64_t R = v.rank();
  if (cv.hasElements(v)) {
    SmallVector<Value> in = *cv.elements(v), out;
    SmallVector<int64_t> st = stridesOf(v.shape());
    forEachIndex(sizes, [&](ArrayRef<int64_t> o, int64_t) {
      int64_t s = 0;
      for (int64_t k = 0; k < R; ++k)
        s += (starts[k] + o[k] * steps[k]) * st[k];
      out.push_back(in[s]);
    });
    return cv.fromElements(out, sizes, v.dt);
  }
  if (auto c = cv.getConst(v)) {
    SmallVector<int64_t> st = stridesOf(c->shape);
    return cv.constant(hostMap(*c, sizes, [&](ArrayRef<int64_t> o) {
      int64_t s = 0;
      for (int64_t k = 0; k < R; ++k)
        s += (starts[k] + o[k] * steps[k]) * st[k];
      return s;
    }));
  }
  bool anyNeg = llvm::any_of(steps, [](int64_t s) { return s < 0; });
  if (!anyNeg) {
    SmallVector<int64_t> offs(starts);
    for (int64_t k = 0; k < R; ++k)
      if (sizes[k] == 0)
        offs[k] = 0;
    return cv.slice(v, offs, sizes, steps);
  }
  Value src = v.v;
  return indexGeneric(cv, sizes, v.dt, {}, {},
                      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange) {
                        SmallVector<Value> si;
                        for (int64_t k = 0; k < R; ++k) {
                          Value m = arith::MulIOp::create(nb, nl, o[k],
                                                          cIdx(nb, nl, steps[k]));
                          si.push_back(arith::AddIOp::create(
                              nb, nl, m, cIdx(nb, nl, starts[k])));
                        }
                        return tensor::ExtractOp::create(nb, nl, src, si);
                      });
}

TValue doConcat(Converter &cv, ArrayRef<TValue> parts, int64_t axis) {
  SmallVector<int64_t> shape(parts[0].shape());
  shape[axis] = 0;
  for (const TValue &p : parts)
    shape[axis] += p.shape()[axis];
  bool allC = foldable(shape);
  SmallVector<ConstTensor> cs;
  for (const TValue &p : parts) {
    if (!allC)
      break;
    auto c = cv.getConst(p);
    if (!c)
      allC = false;
    else
      cs.push_back(*c);
  }
  if (allC) {
    ConstTensor out(parts[0].dt, shape);
    SmallVector<int64_t> st = stridesOf(shape);
    int64_t off = 0;
    for (const ConstTensor &c : cs) {
      forEachIndex(c.shape, [&](ArrayRef<int64_t> idx, int64_t flat) {
        int64_t d = 0;
        for (size_t k = 0; k < idx.size(); ++k)
          d += (idx[k] + ((int64_t)k == axis ? off : 0)) * st[k];
        out.copyElem(d, c, flat);
      });
      off += c.shape[axis];
    }
    return cv.constant(out);
  }
  if (shape[axis] == 0 || llvm::all_of(parts, [&](const TValue &p) {
        return p.shape()[axis] == 0;
      }))
    return cv.splat(parts[0].dt, shape, 0);
  return cv.concat(parts, axis);
}

TValue doBroadcast(Converter &cv, const TValue &v, ArrayRef<int64_t> shape) {
  if (v.shape() == shape)
    return v;
  if (foldable(shape))
    if (auto c = cv.getConst(v))
      return cv.constant(broadcastConst(*c, shape));
  return cv.broadcastTo(v, shape);
}

/// Reshape to dims that may be run-time values; keeps recorded elements.
TValue doReshapeDims(Converter &cv, const TValue &v,
                     ArrayRef<OpFoldResult> dims) {
  SmallVector<int64_t> shape = staticShape(dims);
  if (!cv.isDynamic(v) && !ShapedType::isDynamicShape(shape))
    return doReshape(cv, v, shape);
  return cv.reshapeToDims(v, dims);
}

/// `v` with unit dims inserted before the positions marked in `ins` (a
/// mask over the result rank).
TValue insertUnitDims(Converter &cv, const TValue &v, ArrayRef<bool> ins) {
  SmallVector<OpFoldResult> dims;
  int64_t j = 0;
  for (bool unit : ins)
    dims.push_back(unit ? OpFoldResult(cv.b.getIndexAttr(1)) : cv.dim(v, j++));
  return doReshapeDims(cv, v, dims);
}

//===----------------------------------------------------------------------===//
// Reshape family
//===----------------------------------------------------------------------===//

/// Reshape whose shape operand is computed at run time or whose input has
/// dynamic dims. Run-time entries are taken as sizes (>= 0; 0 copies the
/// input dim unless allowzero).
LogicalResult convertReshapeDynamic(Converter &cv, const Node &node,
                                    ArrayRef<OpFoldResult> spec,
                                    Results &res) {
  const TValue &x = node.in(0);
  bool allowZero = node.i("allowzero", 0) != 0;
  SmallVector<OpFoldResult> dims;
  int64_t inferAt = -1;
  OpBuilder &b = cv.b;
  for (auto [k, d] : llvm::enumerate(spec)) {
    std::optional<int64_t> c = getConstantIntValue(d);
    if (c && *c == 0 && !allowZero) {
      if ((int64_t)k >= x.rank())
        return cv.error(node) << "shape[" << k << "] = 0 copies a dimension "
                                 "the input does not have";
      dims.push_back(cv.dim(x, k));
    } else if (c && *c == -1) {
      if (inferAt >= 0)
        return cv.error(node) << "more than one -1 in shape";
      inferAt = k;
      dims.push_back(b.getIndexAttr(1));
    } else if (c && *c < 0) {
      return cv.error(node) << "invalid dimension " << *c << " in shape";
    } else if (!c && !allowZero && (int64_t)k < x.rank() &&
               d != cv.dim(x, k)) {
      Value v = cv.indexValue(d);
      Value zero = arith::ConstantIndexOp::create(b, cv.loc, 0);
      Value isZero = arith::CmpIOp::create(b, cv.loc, arith::CmpIPredicate::eq,
                                           v, zero);
      Value copied = cv.indexValue(cv.dim(x, k));
      dims.push_back(
          cv.fold(arith::SelectOp::create(b, cv.loc, isZero, copied, v)));
    } else {
      dims.push_back(d);
    }
  }
  if (inferAt >= 0)
    dims[inferAt] = cv.divDims(cv.product(cv.dims(x)), cv.product(dims));
  // A run-time entry may be -1 (ONNX allows one): inferred at run time.
  SmallVector<int64_t> runtime;
  for (auto [k, d] : llvm::enumerate(dims))
    if (!getConstantIntValue(d) && (int64_t)k != inferAt)
      if (auto v = dyn_cast<Value>(d); v && !v.getDefiningOp<tensor::DimOp>())
        runtime.push_back(k);
  if (inferAt < 0 && !runtime.empty()) {
    Location l = cv.loc;
    Value m1 = arith::ConstantIndexOp::create(b, l, -1);
    Value one = arith::ConstantIndexOp::create(b, l, 1);
    Value known = one;
    SmallVector<Value> isNeg(dims.size());
    for (auto [k, d] : llvm::enumerate(dims)) {
      Value v = cv.indexValue(d);
      if (llvm::is_contained(runtime, (int64_t)k)) {
        isNeg[k] = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, v, m1);
        v = arith::SelectOp::create(b, l, isNeg[k], one, v);
      }
      known = arith::MulIOp::create(b, l, known, v);
    }
    Value n = cv.indexValue(cv.product(cv.dims(x)));
    Value safe = arith::MaxSIOp::create(b, l, known, one);
    Value inferred = arith::DivUIOp::create(b, l, n, safe);
    for (int64_t k : runtime)
      dims[k] = arith::SelectOp::create(b, l, isNeg[k], inferred,
                                        cv.indexValue(dims[k]))
                    .getResult();
  }
  res.push_back(doReshapeDims(cv, x, dims));
  return success();
}

LogicalResult convertReshape(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  SmallVector<int64_t> spec;
  if (node.opset < 5) {
    spec = node.ints("shape");
  } else {
    auto s = cv.getConstInts(node.in(1));
    if (!s || cv.isDynamic(x)) {
      auto ds = cv.dimsOperand(node.in(1));
      if (!ds)
        return cv.error(node) << "'shape' must be a 1-D integer tensor of "
                                 "static length";
      return convertReshapeDynamic(cv, node, *ds, res);
    }
    spec = *s;
  }
  if (cv.isDynamic(x)) {
    SmallVector<OpFoldResult> ds;
    for (int64_t d : spec)
      ds.push_back(cv.b.getIndexAttr(d));
    return convertReshapeDynamic(cv, node, ds, res);
  }
  bool allowZero = node.i("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferAt = -1, known = 1;
  for (auto [k, d] : llvm::enumerate(spec)) {
    if (d == 0 && !allowZero) {
      if ((int64_t)k >= x.rank())
        return cv.error(node) << "shape[" << k << "] = 0 copies a dimension "
                                 "the input does not have";
      d = x.shape()[k];
    }
    if (d == -1) {
      if (inferAt >= 0)
        return cv.error(node) << "more than one -1 in shape";
      inferAt = k;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return cv.error(node) << "invalid dimension " << d << " in shape";
    shape.push_back(d);
    known *= d;
  }
  int64_t n = x.numElements();
  if (inferAt >= 0) {
    if (known == 0 || n % known)
      return cv.error(node) << "cannot infer -1: " << n
                            << " elements do not divide by " << known;
    shape[inferAt] = n / known;
  } else if (known != n) {
    return cv.error(node) << "cannot reshape " << n << " elements to "
                          << known;
  }
  res.push_back(doReshape(cv, x, shape));
  return success();
}

LogicalResult convertFlatten(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank(), axis = node.i("axis", 1);
  if (axis < -r || axis > r)
    return cv.error(node) << "axis " << axis << " out of range";
  if (axis < 0)
    axis += r;
  if (cv.isDynamic(x)) {
    SmallVector<OpFoldResult> ds = cv.dims(x);
    OpFoldResult a = cv.product(ArrayRef<OpFoldResult>(ds).take_front(axis));
    OpFoldResult b = cv.product(ArrayRef<OpFoldResult>(ds).drop_front(axis));
    res.push_back(doReshapeDims(cv, x, {a, b}));
    return success();
  }
  int64_t a = product(x.shape().take_front(axis));
  int64_t b = product(x.shape().drop_front(axis));
  res.push_back(doReshape(cv, x, {a, b}));
  return success();
}

LogicalResult convertSqueeze(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  if (node.opset >= 13 && runtimeInput(cv, node, 1))
    return convertSqueezeRuntime(cv, node, res);
  bool present;
  auto axes = intsArg(cv, node, node.opset < 13, "axes", 1, present);
  if (!axes)
    return failure();
  int64_t r = x.rank();
  SmallVector<bool> drop(r, false);
  if (!present) {
    for (int64_t k = 0; k < r; ++k)
      drop[k] = x.shape()[k] == 1;
  } else {
    for (int64_t a : *axes) {
      auto n = normalizeAxis(a, r);
      if (!n)
        return cv.error(node) << "axis " << a << " out of range";
      // A dynamic dim squeezed must be 1 at run time.
      if (x.shape()[*n] != 1 && !ShapedType::isDynamic(x.shape()[*n]))
        return cv.error(node) << "cannot squeeze dimension " << *n
                              << " of size " << x.shape()[*n];
      drop[*n] = true;
    }
  }
  SmallVector<OpFoldResult> dims;
  for (int64_t k = 0; k < r; ++k)
    if (!drop[k])
      dims.push_back(cv.dim(x, k));
  res.push_back(doReshapeDims(cv, x, dims));
  return success();
}

LogicalResult convertUnsqueeze(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  if (node.opset >= 13 && runtimeInput(cv, node, 1))
    return convertUnsqueezeRuntime(cv, node, res);
  bool present;
  auto axes = intsArg(cv, node, node.opset < 13, "axes", 1, present);
  if (!axes)
    return failure();
  int64_t R = x.rank() + axes->size();
  SmallVector<bool> ins(R, false);
  for (int64_t a : *axes) {
    auto n = normalizeAxis(a, R);
    if (!n || ins[*n])
      return cv.error(node) << "invalid or repeated axis " << a;
    ins[*n] = true;
  }
  res.push_back(insertUnitDims(cv, x, ins));
  return success();
}

LogicalResult convertIdentity(Converter &cv, const Node &node, Results &res) {
  if (!node.has(0))
    return cv.error(node) << "optional/sequence inputs are unsupported";
  res.push_back(node.in(0));
  return success();
}

LogicalResult convertDropout(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  // Before opset 7 the default (is_test=0) is training mode.
  if (node.opset < 7 && node.i("is_test", 0) == 0 &&
      node.f("ratio", 0.5) != 0)
    return cv.error(node) << "is_test=0 (training mode) is unsupported";
  if (node.opset >= 12 && node.has(2)) {
    auto train = cv.getConstInts(node.in(2));
    double ratio = 0.5;
    if (node.has(1))
      if (auto r = cv.getConst(node.in(1)))
        ratio = r->getF(0);
    if (train && !train->empty() && (*train)[0] != 0 && ratio != 0)
      return cv.error(node) << "training-mode Dropout is unsupported";
    if (!train) // training-mode Dropout (random masks) is not compiled
      return cv.error(node) << "a run-time 'training_mode' is unsupported: "
                               "it must be a constant (false)";
  }
  res.push_back(x);
  if (node.numOutputs > 1) {
    DType mdt = node.opset >= 10 ? DType::Bool : x.dt;
    res.push_back(cv.splat(mdt, x.shape(), 1));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Transpose, Concat, Split, Slice
//===----------------------------------------------------------------------===//

LogicalResult convertTranspose(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  SmallVector<int64_t> perm = node.ints("perm");
  if (!node.hasAttr("perm"))
    for (int64_t k = r - 1; k >= 0; --k)
      perm.push_back(k);
  if ((int64_t)perm.size() != r)
    return cv.error(node) << "perm has " << perm.size()
                          << " entries for rank " << r;
  SmallVector<bool> seen(r, false);
  for (int64_t &p : perm) {
    auto n = normalizeAxis(p, r);
    if (!n || seen[*n])
      return cv.error(node) << "perm is not a permutation";
    seen[*n] = true;
    p = *n;
  }
  res.push_back(doTranspose(cv, x, perm));
  return success();
}

LogicalResult convertConcat(Converter &cv, const Node &node, Results &res) {
  SmallVector<TValue> parts;
  for (unsigned k = 0; k < node.numInputs(); ++k)
    if (node.has(k))
      parts.push_back(node.in(k));
  if (parts.empty())
    return cv.error(node) << "no inputs";
  int64_t r = parts[0].rank();
  auto axis = normalizeAxis(node.i("axis", r == 1 ? 0 : 1), r);
  if (!node.hasAttr("axis") && node.opset >= 4 && r != 1)
    return cv.error(node) << "missing 'axis'";
  if (!axis)
    return cv.error(node) << "axis out of range";
  bool dynamic = false;
  for (const TValue &p : parts) {
    if (p.rank() != r || p.dt != parts[0].dt)
      return cv.error(node) << "inputs differ in rank or type";
    dynamic |= cv.isDynamic(p);
    for (int64_t k = 0; k < r; ++k)
      if (k != *axis && p.shape()[k] != parts[0].shape()[k] &&
          !ShapedType::isDynamic(p.shape()[k]) &&
          !ShapedType::isDynamic(parts[0].shape()[k]))
        return cv.error(node) << "input shapes differ outside the axis";
  }
  if (dynamic) {
    res.push_back(cv.concat(parts, *axis));
    return success();
  }
  // Run-time shape values (Concat(Unsqueeze(Shape(x)[0]), [8], [32])).
  if (r == 1 && llvm::any_of(parts, [&](const TValue &p) {
        return cv.hasElements(p);
      })) {
    SmallVector<Value> es;
    for (const TValue &p : parts) {
      auto e = cv.elements(p);
      if (!e)
        break;
      es.append(*e);
    }
    int64_t n = 0;
    for (const TValue &p : parts)
      n += p.shape()[0];
    if ((int64_t)es.size() == n && n <= 64) {
      res.push_back(cv.fromElements(es, {n}, parts[0].dt));
      return success();
    }
  }
  res.push_back(doConcat(cv, parts, *axis));
  return success();
}

LogicalResult convertSplit(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  auto axis = normalizeAxis(node.i("axis", 0), r);
  if (!axis)
    return cv.error(node) << "axis out of range";
  if (runtimeInput(cv, node, 1) && node.opset >= 2)
    return convertSplitRuntime(cv, node, res);
  int64_t dim = x.shape()[*axis];
  if (ShapedType::isDynamic(dim))
    return cv.error(node) << "splitting a dynamic dim is unsupported";
  bool present;
  auto split = intsArg(cv, node, node.opset < 13, "split", 1, present);
  if (!split)
    return failure();
  if (node.opset < 13 && !present && node.has(1)) { // Split-2 had an input too
    auto s = cv.getConstInts(node.in(1));
    if (!s)
      return needConst(cv, node, "split");
    split = s;
    present = true;
  }
  int64_t n = node.numOutputs;
  SmallVector<int64_t> sizes;
  if (present) {
    sizes = *split;
    if ((int64_t)sizes.size() != n)
      return cv.error(node) << "'split' has " << sizes.size()
                            << " entries for " << n << " outputs";
  } else {
    if (node.hasAttr("num_outputs"))
      n = node.i("num_outputs", n);
    if (n <= 0)
      return cv.error(node) << "invalid number of outputs";
    int64_t chunk = (dim + n - 1) / n;
    if (node.opset < 18 && dim % n)
      return cv.error(node) << "dimension " << dim
                            << " does not split evenly into " << n;
    for (int64_t k = 0; k < n; ++k)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - k * chunk)));
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return cv.error(node) << "negative split size";
    total += s;
  }
  if (total != dim)
    return cv.error(node) << "split sizes sum to " << total
                          << ", not the dimension " << dim;
  int64_t off = 0;
  for (int64_t s : sizes) {
    if (cv.isDynamic(x)) {
      SmallVector<OpFoldResult> starts(r, cv.b.getIndexAttr(0)),
          sz = cv.dims(x);
      starts[*axis] = cv.b.getIndexAttr(off);
      sz[*axis] = cv.b.getIndexAttr(s);
      res.push_back(cv.sliceDims(x, starts, sz, SmallVector<int64_t>(r, 1)));
    } else {
      SmallVector<int64_t> starts(r, 0), sz(x.shape()), steps(r, 1);
      starts[*axis] = off;
      sz[*axis] = s;
      res.push_back(doSlice(cv, x, starts, sz, steps));
    }
    off += s;
  }
  return success();
}

/// Slice start/end `v` on a dim of size `d`, negative from the end, clamped
/// to [0, d] (steps > 0).
OpFoldResult sliceBound(Converter &cv, OpFoldResult v, OpFoldResult d) {
  OpBuilder &b = cv.b;
  if (std::optional<int64_t> c = getConstantIntValue(v)) {
    if (*c < 0)
      return cv.maxDims(cv.addDims(d, v), b.getIndexAttr(0));
    return cv.minDims(v, d);
  }
  Value x = cv.indexValue(v), zero = arith::ConstantIndexOp::create(b, cv.loc, 0);
  Value neg = arith::CmpIOp::create(b, cv.loc, arith::CmpIPredicate::slt, x, zero);
  Value dv = cv.indexValue(d);
  Value wrapped = arith::AddIOp::create(b, cv.loc, x, dv);
  x = arith::SelectOp::create(b, cv.loc, neg, wrapped, x);
  x = arith::MaxSIOp::create(b, cv.loc, x, zero);
  return arith::MinSIOp::create(b, cv.loc, x, dv).getResult();
}

/// Slice with run-time starts/ends or a dynamic input (positive steps).
LogicalResult convertSliceDynamic(Converter &cv, const Node &node,
                                  Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  if (runtimeInput(cv, node, 3) || runtimeInput(cv, node, 4))
    return convertSliceRuntime(cv, node, res);
  if (node.has(4))
    if (auto st = cv.getConstInts(node.in(4)))
      if (llvm::any_of(*st, [](int64_t v) { return v <= 0; }))
        return convertSliceRuntime(cv, node, res);
  SmallVector<std::optional<SmallVector<OpFoldResult>>> ops;
  for (unsigned k = 1; k < 5; ++k)
    ops.push_back(node.has(k) ? cv.dimsOperand(node.in(k))
                              : std::optional<SmallVector<OpFoldResult>>());
  if (!ops[0] || !ops[1])
    return cv.error(node) << "starts/ends must be 1-D integer tensors of "
                             "static length";
  size_t m = ops[0]->size();
  SmallVector<int64_t> axes, steps;
  for (size_t k = 0; k < m; ++k) {
    int64_t a = k, st = 1;
    if (node.has(3)) {
      auto c = ops[2] && ops[2]->size() == m
                   ? getConstantIntValue((*ops[2])[k]) : std::nullopt;
      if (!c)
        return needConst(cv, node, "axes");
      a = *c;
    }
    if (node.has(4)) {
      auto c = ops[3] && ops[3]->size() == m
                   ? getConstantIntValue((*ops[3])[k]) : std::nullopt;
      if (!c)
        return needConst(cv, node, "steps");
      st = *c;
    }
    axes.push_back(a);
    steps.push_back(st);
  }
  if (ops[1]->size() != m)
    return cv.error(node) << "starts and ends differ in length";
  SmallVector<OpFoldResult> offs(r, cv.b.getIndexAttr(0)), sizes = cv.dims(x);
  SmallVector<int64_t> sp(r, 1);
  SmallVector<bool> seen(r, false);
  for (size_t k = 0; k < m; ++k) {
    auto a = normalizeAxis(axes[k], r);
    if (!a || seen[*a])
      return cv.error(node) << "invalid or repeated axis " << axes[k];
    seen[*a] = true;
    if (steps[k] <= 0)
      return cv.error(node) << "'starts' and 'ends' must be a constant and "
                               "dims static for steps <= 0";
    OpFoldResult d = cv.dim(x, *a);
    OpFoldResult s = sliceBound(cv, (*ops[0])[k], d);
    OpFoldResult e = sliceBound(cv, (*ops[1])[k], d);
    OpFoldResult n = cv.maxDims(cv.subDims(e, s), cv.b.getIndexAttr(0));
    offs[*a] = s;
    sizes[*a] = cv.divDims(n, cv.b.getIndexAttr(steps[k]), /*ceil=*/true);
    sp[*a] = steps[k];
  }
  res.push_back(cv.sliceDims(x, offs, sizes, sp));
  return success();
}

LogicalResult convertSlice(Converter &cv, const Node &node, Results &res) {
  if (node.opset >= 10 &&
      (cv.isDynamic(node.in(0)) ||
       llvm::any_of(llvm::seq<unsigned>(1, 5), [&](unsigned k) {
         return node.has(k) && !cv.isConst(node.in(k));
       })))
    return convertSliceDynamic(cv, node, res);
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  bool old = node.opset < 10, pStarts, pEnds, pAxes, pSteps;
  auto starts = intsArg(cv, node, old, "starts", 1, pStarts);
  if (!starts)
    return failure();
  auto ends = intsArg(cv, node, old, "ends", 2, pEnds);
  if (!ends)
    return failure();
  auto axes = intsArg(cv, node, old, "axes", 3, pAxes);
  if (!axes)
    return failure();
  std::optional<SmallVector<int64_t>> steps = SmallVector<int64_t>{};
  pSteps = false;
  if (!old) {
    steps = intsArg(cv, node, false, "steps", 4, pSteps);
    if (!steps)
      return failure();
  }
  size_t m = starts->size();
  if (ends->size() != m)
    return cv.error(node) << "starts and ends differ in length";
  if (!pAxes)
    for (size_t k = 0; k < m; ++k)
      axes->push_back(k);
  if (!pSteps)
    steps->assign(m, 1);
  if (axes->size() != m || steps->size() != m)
    return cv.error(node) << "axes/steps length differs from starts";
  SmallVector<int64_t> st(r, 0), sz(x.shape()), sp(r, 1);
  SmallVector<bool> seen(r, false);
  for (size_t k = 0; k < m; ++k) {
    auto a = normalizeAxis((*axes)[k], r);
    if (!a || seen[*a])
      return cv.error(node) << "invalid or repeated axis " << (*axes)[k];
    seen[*a] = true;
    int64_t d = x.shape()[*a], step = (*steps)[k];
    if (step == 0)
      return cv.error(node) << "step must not be 0";
    int64_t s = (*starts)[k], e = (*ends)[k];
    if (s < 0)
      s = s < -d ? -1 : s + d;
    if (e < 0)
      e = e < -d ? -1 : e + d;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
    }
    int64_t n = step > 0 ? (e - s + step - 1) / step : (s - e - step - 1) / -step;
    n = std::max<int64_t>(n, 0);
    st[*a] = n ? s : 0;
    sz[*a] = n;
    sp[*a] = step;
  }
  res.push_back(doSlice(cv, x, st, sz, sp));
  return success();
}

//===----------------------------------------------------------------------===//
// Shape, Size, Expand, Tile, ConstantOfShape, Range, EyeLike
//===----------------------------------------------------------------------===//

LogicalResult convertShape(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  int64_t s = node.i("start", 0), e = node.i("end", r);
  if (s < 0)
    s += r;
  if (e < 0)
    e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, 0, r);
  int64_t n = std::max<int64_t>(e - s, 0);
  // Dynamic dims are run-time elements (i64 casts of their SSA sizes).
  SmallVector<Value> es;
  for (int64_t k = 0; k < n; ++k) {
    OpFoldResult d = cv.dim(x, s + k);
    if (auto c = getConstantIntValue(d))
      es.push_back(cv.scalar(DType::I64, *c));
    else
      es.push_back(arith::IndexCastOp::create(cv.b, cv.loc, cv.b.getI64Type(),
                                              cast<Value>(d)));
  }
  res.push_back(cv.fromElements(es, {n}, DType::I64));
  return success();
}

LogicalResult convertSize(Converter &cv, const Node &node, Results &res) {
  ConstTensor c(DType::I64, {});
  c.setI(0, node.in(0).numElements());
  res.push_back(cv.constant(c));
  return success();
}

LogicalResult convertExpand(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  auto s = cv.getConstInts(node.in(1));
  if (!s || cv.isDynamic(x)) {
    auto ds = cv.dimsOperand(node.in(1));
    if (!ds)
      return cv.error(node) << "'shape' must be a 1-D integer tensor of "
                               "static length";
    auto dims = broadcastDims(cv.dims(x), *ds);
    if (!dims)
      return cv.error(node) << "input shape does not broadcast to the shape";
    res.push_back(cv.broadcastToDims(x, *dims));
    return success();
  }
  auto shape = broadcastShapes(x.shape(), *s);
  if (!shape)
    return cv.error(node) << "input shape does not broadcast to the shape";
  res.push_back(doBroadcast(cv, x, *shape));
  return success();
}

LogicalResult convertTile(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  SmallVector<int64_t> reps;
  if (node.opset < 6) {
    // Tile-1: scalar inputs `tiles` (copies) and `axis` (where).
    if (!node.has(1) || !node.has(2))
      return cv.error(node) << "Tile-1 expects inputs tiles and axis";
    auto t = cv.getConstInts(node.in(1)), a = cv.getConstInts(node.in(2));
    if (!t || t->size() != 1)
      return needConst(cv, node, "tiles");
    if (!a || a->size() != 1)
      return needConst(cv, node, "axis");
    auto axis = normalizeAxis((*a)[0], r);
    if (!axis)
      return cv.error(node) << "axis out of range";
    reps.assign(r, 1);
    reps[*axis] = (*t)[0];
  } else {
    if (runtimeInput(cv, node, 1))
      return convertTileRuntime(cv, node, res);
    auto s = cv.getConstInts(node.in(1));
    if (!s)
      return needConst(cv, node, "repeats");
    reps = *s;
  }
  if ((int64_t)reps.size() != r)
    return cv.error(node) << "repeats has " << reps.size()
                          << " entries for rank " << r;
  SmallVector<int64_t> shape, wide, wideIn;
  for (int64_t k = 0; k < r; ++k) {
    if (reps[k] < 0)
      return cv.error(node) << "negative repeat";
    shape.push_back(x.shape()[k] * reps[k]);
    wide.append({reps[k], x.shape()[k]});
    wideIn.append({1, x.shape()[k]});
  }
  if (foldable(shape))
    if (auto c = cv.getConst(x)) {
      SmallVector<int64_t> st = stridesOf(x.shape());
      res.push_back(cv.constant(hostMap(*c, shape, [&](ArrayRef<int64_t> o) {
        int64_t f = 0;
        for (int64_t k = 0; k < r; ++k)
          f += (o[k] % x.shape()[k]) * st[k];
        return f;
      })));
      return success();
    }
  TValue v = cv.reshape(x, wideIn);
  v = cv.broadcastTo(v, wide);
  res.push_back(cv.reshape(v, shape));
  return success();
}

LogicalResult convertConstantOfShape(Converter &cv, const Node &node,
                                     Results &res) {
  auto s = cv.getConstInts(node.in(0));
  ConstTensor val(DType::F32, {1});
  if (Attribute a = node.attr("value")) {
    auto c = attrConst(cv, a);
    if (!c || c->size() != 1)
      return cv.error(node) << "'value' must be a one-element tensor";
    val = *c;
  }
  if (!s) { // run-time shape: a fill
    auto ds = cv.dimsOperand(node.in(0));
    if (!ds)
      return cv.error(node) << "input must be a 1-D integer tensor of static "
                               "length";
    Value init = cv.emptyTensorOf(*ds, elementType(cv.ctx(), val.dt));
    Value fill = val.isFloatData() ? cv.scalar(val.dt, val.f[0])
                                   : cv.scalar(val.dt, (double)val.i[0]);
    if (!val.isFloatData()) {
      Type et = elementType(cv.ctx(), val.dt);
      fill = arith::ConstantOp::create(
          cv.b, cv.loc, et,
          IntegerAttr::get(et, APInt(et.getIntOrFloatBitWidth(),
                                     (uint64_t)val.i[0], false, true)));
    }
    Value r = linalg::FillOp::create(cv.b, cv.loc, ValueRange{fill},
                                     ValueRange{init})
                  .getResult(0);
    cv.recordDims(r, *ds);
    res.push_back({r, val.dt});
    return success();
  }
  for (int64_t d : *s)
    if (d < 0)
      return cv.error(node) << "negative dimension " << d;
  res.push_back(cv.splat(val.dt, *s, val.getF(0)));
  if (!val.isFloatData()) { // exact for 64-bit integers
    auto ty = cv.tensorType(*s, val.dt);
    Type et = ty.getElementType();
    res.back().v.getDefiningOp()->erase();
    Attribute elem = IntegerAttr::get(
        et, APInt(cast<IntegerType>(et).getWidth(), (uint64_t)val.i[0], false,
                  true));
    res.back() = {arith::ConstantOp::create(
                      cv.b, cv.loc, ty, SplatElementsAttr::get(ty, elem)),
                  val.dt};
  }
  return success();
}

/// Range with run-time operands: its length is an SSA size, e.g.
/// Range(0, Shape(x)[1], 1) is exactly as long as x's dim 1.
LogicalResult convertRangeDynamic(Converter &cv, const Node &node,
                                  Results &res) {
  DType dt = node.in(0).dt;
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  auto sv = cv.elements(node.in(0)), lv = cv.elements(node.in(1)),
       dv = cv.elements(node.in(2));
  if (!sv || !lv || !dv || sv->size() != 1 || lv->size() != 1 ||
      dv->size() != 1 || !(isInteger(dt) || isFloat(dt)))
    return cv.error(node) << "start, limit and delta must be numeric scalars";
  OpFoldResult n;
  auto cd = cv.getConst(node.in(2));
  if (isInteger(dt) && cd && cd->getI(0) != 0) {
    int64_t delta = cd->getI(0);
    auto s = cv.dimsOperand(node.in(0)), l = cv.dimsOperand(node.in(1));
    OpFoldResult span = delta > 0 ? cv.subDims((*l)[0], (*s)[0])
                                  : cv.subDims((*s)[0], (*l)[0]);
    n = cv.divDims(cv.maxDims(span, b.getIndexAttr(0)),
                   b.getIndexAttr(std::abs(delta)), true);
  } else {
    // ceil((limit - start) / delta) in f64, at least 0 (delta 0: empty).
    Type f64 = b.getF64Type();
    auto toF = [&](Value v) -> Value {
      return cv.castScalar(b, loc, v, dt, DType::F64);
    };
    Value span = arith::SubFOp::create(b, loc, toF((*lv)[0]), toF((*sv)[0]));
    Value q = math::CeilOp::create(
        b, loc, arith::DivFOp::create(b, loc, span, toF((*dv)[0])));
    Value zero = arith::ConstantOp::create(b, loc, f64, b.getFloatAttr(f64, 0));
    q = arith::MaximumFOp::create(b, loc, q, zero);
    Value ok = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, q,
                                     arith::ConstantOp::create(
                                         b, loc, f64, b.getFloatAttr(f64, 9e15)));
    q = arith::SelectOp::create(b, loc, ok, q, zero); // NaN/inf: empty
    n = arith::IndexCastOp::create(
            b, loc, b.getIndexType(),
            arith::FPToSIOp::create(b, loc, b.getI64Type(), q))
            .getResult();
  }
  Type et = elementType(cv.ctx(), dt);
  Value init = cv.emptyTensorOf({n}, et);
  Value st = (*sv)[0], de = (*dv)[0];
  auto map = b.getMultiDimIdentityMap(1);
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{map},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nl, ValueRange) {
        Value i = linalg::IndexOp::create(nb, nl, 0);
        Value ii = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), i);
        Value v;
        if (isFloat(dt)) {
          Value fi = cv.castScalar(nb, nl, ii, DType::I64, dt);
          v = arith::AddFOp::create(nb, nl, st,
                                    arith::MulFOp::create(nb, nl, fi, de));
        } else {
          Value ci = cv.castScalar(nb, nl, ii, DType::I64, dt);
          v = arith::AddIOp::create(nb, nl, st,
                                    arith::MulIOp::create(nb, nl, ci, de));
        }
        linalg::YieldOp::create(nb, nl, v);
      });
  cv.recordDims(g.getResult(0), {n});
  res.push_back({g.getResult(0), dt});
  return success();
}

LogicalResult convertRange(Converter &cv, const Node &node, Results &res) {
  auto s = cv.getConst(node.in(0)), l = cv.getConst(node.in(1)),
       d = cv.getConst(node.in(2));
  if (!s || !l || !d)
    return convertRangeDynamic(cv, node, res);
  DType dt = node.in(0).dt;
  int64_t n;
  if (isFloat(dt)) {
    double st = s->getF(0), lim = l->getF(0), de = d->getF(0);
    if (de == 0)
      return cv.error(node) << "delta is 0";
    n = std::max<int64_t>(0, (int64_t)std::ceil((lim - st) / de));
    if (n > Converter::kFoldLimit)
      return cv.error(node) << "range of " << n << " elements is too large";
    ConstTensor c(dt, {n});
    for (int64_t k = 0; k < n; ++k)
      c.set(k, st + k * de);
    res.push_back(cv.constant(c));
    return success();
  }
  int64_t st = s->getI(0), lim = l->getI(0), de = d->getI(0);
  if (de == 0)
    return cv.error(node) << "delta is 0";
  int64_t span = lim - st;
  n = de > 0 ? (span + de - 1) / de : (span + de + 1) / de;
  if ((de > 0 && span <= 0) || (de < 0 && span >= 0))
    n = 0;
  if (n > Converter::kFoldLimit)
    return cv.error(node) << "range of " << n << " elements is too large";
  ConstTensor c(dt, {n});
  for (int64_t k = 0; k < n; ++k)
    c.setI(k, st + k * de);
  res.push_back(cv.constant(c));
  return success();
}

LogicalResult convertEyeLike(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  if (x.rank() != 2)
    return cv.error(node) << "input must be 2-D";
  DType dt = node.hasAttr("dtype") ? (DType)node.i("dtype", 1) : x.dt;
  if (!supportedDType(dt))
    return cv.error(node) << "unsupported dtype";
  int64_t k = node.i("k", 0);
  if (foldable(x.shape())) {
    ConstTensor c(dt, x.shape());
    forEachIndex(x.shape(), [&](ArrayRef<int64_t> i, int64_t flat) {
      c.setI(flat, i[1] - i[0] == k);
    });
    res.push_back(cv.constant(c));
    return success();
  }
  Value one = cv.scalar(dt, 1), zero = cv.scalar(dt, 0);
  res.push_back(indexGeneric(
      cv, x.shape(), dt, {}, {},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange) -> Value {
        Value diff = arith::SubIOp::create(nb, nl, o[1], o[0]);
        Value eq = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, diff,
                                         cIdx(nb, nl, k));
        return arith::SelectOp::create(nb, nl, eq, one, zero);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// Gather, GatherElements, OneHot
//===----------------------------------------------------------------------===//

/// Gather on a dynamic input or with dynamic indices.
LogicalResult convertGatherDynamic(Converter &cv, const Node &node,
                                   int64_t axis, Results &res) {
  const TValue &data = node.in(0), &ind = node.in(1);
  int64_t r = data.rank(), q = ind.rank();
  SmallVector<OpFoldResult> dd = cv.dims(data), dims(dd.begin(), dd.begin() + axis);
  dims.append(cv.dims(ind));
  dims.append(dd.begin() + axis + 1, dd.end());
  OpFoldResult dim = dd[axis];
  auto ci = cv.getConst(ind);
  if (ci && q == 0) { // one slice, axis dropped
    int64_t v = ci->getI(0);
    OpFoldResult off = v < 0 ? cv.addDims(dim, cv.b.getIndexAttr(v))
                             : OpFoldResult(cv.b.getIndexAttr(v));
    SmallVector<OpFoldResult> offs(r, cv.b.getIndexAttr(0)), sizes = dd;
    offs[axis] = off;
    sizes[axis] = cv.b.getIndexAttr(1);
    TValue s = cv.sliceDims(data, offs, sizes, SmallVector<int64_t>(r, 1));
    res.push_back(doReshapeDims(cv, s, dims));
    return success();
  }
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0; k < q; ++k)
    exprs.push_back(cv.b.getAffineDimExpr(axis + k));
  AffineMap m = AffineMap::get(dims.size(), 0, exprs, cv.ctx());
  Value src = data.v, dimV = cv.indexValue(dim);
  res.push_back(indexGenericDims(
      cv, dims, data.dt, {ind.v}, {m},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange a) -> Value {
        SmallVector<Value> si(o.take_front(axis));
        si.push_back(normIndexDyn(nb, nl, a[0], dimV));
        for (int64_t k = axis + 1; k < r; ++k)
          si.push_back(o[k - 1 + q]);
        return tensor::ExtractOp::create(nb, nl, src, si);
      }));
  return success();
}

LogicalResult convertGather(Converter &cv, const Node &node, Results &res) {
  const TValue &data = node.in(0), &ind = node.in(1);
  int64_t r = data.rank(), q = ind.rank();
  auto axisOpt = normalizeAxis(node.i("axis", 0), r);
  if (!axisOpt)
    return cv.error(node) << "axis out of range";
  if (cv.isDynamic(data) || cv.isDynamic(ind))
    return convertGatherDynamic(cv, node, *axisOpt, res);
  int64_t axis = *axisOpt, dim = data.shape()[axis];
  SmallVector<int64_t> shape(data.shape().take_front(axis));
  shape.append(ind.shape().begin(), ind.shape().end());
  shape.append(data.shape().begin() + axis + 1, data.shape().end());
  auto ci = cv.getConst(ind);
  if (ci)
    for (int64_t k = 0; k < ci->size(); ++k) {
      int64_t v = ci->getI(k);
      if (v < -dim || v >= dim)
        return cv.error(node) << "index " << v << " out of range [" << -dim
                              << ", " << dim << ")";
    }
  if (ci && cv.hasElements(data)) {
    SmallVector<Value> es = *cv.elements(data), out;
    SmallVector<int64_t> st = stridesOf(data.shape()), ist = stridesOf(ind.shape());
    forEachIndex(shape, [&](ArrayRef<int64_t> o, int64_t) {
      int64_t f = 0, ii = 0;
      for (int64_t k = 0; k < q; ++k)
        ii += o[axis + k] * ist[k];
      int64_t v = ci->getI(ii);
      if (v < 0)
        v += dim;
      for (int64_t k = 0; k < axis; ++k)
        f += o[k] * st[k];
      f += v * st[axis];
      for (int64_t k = axis + 1; k < r; ++k)
        f += o[k - 1 + q] * st[k];
      out.push_back(es[f]);
    });
    res.push_back(cv.fromElements(out, shape, data.dt));
    return success();
  }
  if (ci && foldable(shape))
    if (auto cd = cv.getConst(data)) {
      SmallVector<int64_t> st = stridesOf(data.shape());
      SmallVector<int64_t> ist = stridesOf(ind.shape());
      res.push_back(cv.constant(hostMap(*cd, shape, [&](ArrayRef<int64_t> o) {
        int64_t f = 0, ii = 0;
        for (int64_t k = 0; k < q; ++k)
          ii += o[axis + k] * ist[k];
        int64_t v = ci->getI(ii);
        if (v < 0)
          v += dim;
        for (int64_t k = 0; k < axis; ++k)
          f += o[k] * st[k];
        f += v * st[axis];
        for (int64_t k = axis + 1; k < r; ++k)
          f += o[k - 1 + q] * st[k];
        return f;
      })));
      return success();
    }
  if (ci && q == 0) { // one slice, axis dropped
    int64_t v = ci->getI(0);
    if (v < 0)
      v += dim;
    SmallVector<int64_t> starts(r, 0), sizes(data.shape()), steps(r, 1);
    starts[axis] = v;
    sizes[axis] = 1;
    res.push_back(doReshape(cv, doSlice(cv, data, starts, sizes, steps), shape));
    return success();
  }
  int64_t R = shape.size();
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0; k < q; ++k)
    exprs.push_back(cv.b.getAffineDimExpr(axis + k));
  AffineMap m = AffineMap::get(R, 0, exprs, cv.ctx());
  Value src = data.v;
  res.push_back(indexGeneric(
      cv, shape, data.dt, {ind.v}, {m},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange a) -> Value {
        SmallVector<Value> si(o.take_front(axis));
        si.push_back(normIndex(nb, nl, a[0], dim));
        for (int64_t k = axis + 1; k < r; ++k)
          si.push_back(o[k - 1 + q]);
        return tensor::ExtractOp::create(nb, nl, src, si);
      }));
  return success();
}

LogicalResult convertGatherElements(Converter &cv, const Node &node,
                                    Results &res) {
  const TValue &data = node.in(0), &ind = node.in(1);
  int64_t r = data.rank();
  auto axisOpt = normalizeAxis(node.i("axis", 0), r);
  if (!axisOpt || ind.rank() != r)
    return cv.error(node) << "axis out of range or rank mismatch";
  int64_t axis = *axisOpt, dim = data.shape()[axis];
  ArrayRef<int64_t> shape = ind.shape();
  if (cv.allConst(node) && foldable(shape)) {
    auto cd = cv.getConst(data);
    auto ci = cv.getConst(ind);
    SmallVector<int64_t> st = stridesOf(data.shape());
    res.push_back(cv.constant(hostMap(*cd, shape, [&](ArrayRef<int64_t> o) {
      int64_t f = 0;
      for (int64_t k = 0; k < r; ++k)
        f += o[k] * st[k];
      int64_t flatI = 0;
      SmallVector<int64_t> ist = stridesOf(shape);
      for (int64_t k = 0; k < r; ++k)
        flatI += o[k] * ist[k];
      int64_t v = ci->getI(flatI);
      if (v < 0)
        v += dim;
      v = std::clamp<int64_t>(v, 0, dim - 1);
      return f + (v - o[axis]) * st[axis];
    })));
    return success();
  }
  Value src = data.v;
  res.push_back(indexGeneric(
      cv, shape, data.dt, {ind.v}, {cv.b.getMultiDimIdentityMap(r)},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange a) -> Value {
        SmallVector<Value> si(o);
        si[axis] = normIndex(nb, nl, a[0], dim);
        return tensor::ExtractOp::create(nb, nl, src, si);
      }));
  return success();
}

LogicalResult convertOneHot(Converter &cv, const Node &node, Results &res) {
  const TValue &ind = node.in(0), &vals = node.in(2);
  if (vals.numElements() != 2)
    return cv.error(node) << "'values' must have 2 elements";
  int64_t r = ind.rank();
  auto axisOpt = normalizeAxis(node.i("axis", -1), r + 1);
  if (!axisOpt)
    return cv.error(node) << "axis out of range";
  int64_t axis = *axisOpt;
  auto depthC = cv.getConst(node.in(1));
  if (!depthC)
    return convertOneHotRuntime(cv, node, axis, res);
  if (depthC->size() != 1)
    return cv.error(node) << "'depth' must have one element";
  int64_t depth = (int64_t)depthC->getF(0);
  SmallVector<int64_t> shape(ind.shape().take_front(axis));
  shape.push_back(depth);
  shape.append(ind.shape().begin() + axis, ind.shape().end());
  DType dt = vals.dt;
  auto cv_ = cv.getConst(vals);
  if (cv.allConst(node) && foldable(shape)) {
    auto ci = cv.getConst(ind);
    SmallVector<int64_t> ist = stridesOf(ind.shape());
    ConstTensor out(dt, shape);
    forEachIndex(shape, [&](ArrayRef<int64_t> o, int64_t flat) {
      int64_t fi = 0;
      for (int64_t k = 0, j = 0; k < r + 1; ++k)
        if (k != axis)
          fi += o[k] * ist[j++];
      int64_t v = (int64_t)ci->getF(fi);
      if (v < 0)
        v += depth;
      out.copyElem(flat, *cv_, v == o[axis] ? 1 : 0);
    });
    res.push_back(cv.constant(out));
    return success();
  }
  Value flatVals = doReshape(cv, vals, {2}).v;
  Value off = tensor::ExtractOp::create(cv.b, cv.loc, flatVals,
                                        ValueRange{cIdx(cv.b, cv.loc, 0)});
  Value on = tensor::ExtractOp::create(cv.b, cv.loc, flatVals,
                                       ValueRange{cIdx(cv.b, cv.loc, 1)});
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0; k < r + 1; ++k)
    if (k != axis)
      exprs.push_back(cv.b.getAffineDimExpr(k));
  AffineMap m = AffineMap::get(r + 1, 0, exprs, cv.ctx());
  DType idt = ind.dt;
  res.push_back(indexGeneric(
      cv, shape, dt, {ind.v}, {m},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange a) -> Value {
        Value i = cv.castScalar(nb, nl, a[0], idt, DType::I64);
        Value i64d = arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(depth));
        Value z = arith::ConstantOp::create(nb, nl, nb.getI64IntegerAttr(0));
        Value neg = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, i, z);
        i = arith::SelectOp::create(nb, nl, neg,
                                    arith::AddIOp::create(nb, nl, i, i64d), i);
        Value pos = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), o[axis]);
        Value eq = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, i, pos);
        return arith::SelectOp::create(nb, nl, eq, on, off);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

LogicalResult convertPad(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  std::string mode = node.s("mode", "constant");
  SmallVector<int64_t> pads;
  std::optional<ConstTensor> fill;
  TValue fillV;
  bool haveFillV = false;
  if (node.opset < 11) {
    pads = node.ints(node.opset < 2 ? "paddings" : "pads");
    ConstTensor f(x.dt, {});
    f.set(0, node.f("value", 0.0));
    fill = f;
  } else {
    auto p = cv.getConstInts(node.in(1));
    if (!p)
      return convertPadRuntime(cv, node, res);
    pads = *p;
    if (node.has(2) && node.in(2).numElements() > 0) {
      fill = cv.getConst(node.in(2));
      if (!fill) {
        fillV = node.in(2);
        haveFillV = true;
      } else {
        fill->shape.clear();
        fill->f.resize(fill->isFloatData() ? 1 : 0);
        fill->i.resize(fill->isFloatData() ? 0 : 1);
      }
    } else {
      fill = ConstTensor(x.dt, {});
    }
    if (node.has(3)) {
      auto axes = cv.getConstInts(node.in(3));
      if (!axes)
        return needConst(cv, node, "axes");
      if (pads.size() != 2 * axes->size())
        return cv.error(node) << "pads must have 2 entries per axis";
      SmallVector<int64_t> full(2 * r, 0);
      for (auto [k, a] : llvm::enumerate(*axes)) {
        auto n = normalizeAxis(a, r);
        if (!n)
          return cv.error(node) << "axis " << a << " out of range";
        full[*n] = pads[k];
        full[*n + r] = pads[k + axes->size()];
      }
      pads = full;
    }
  }
  if ((int64_t)pads.size() != 2 * r)
    return cv.error(node) << "pads has " << pads.size() << " entries for rank "
                          << r;
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return cv.error(node) << "unsupported mode '" << mode << "'";
  // Negative pads crop first.
  SmallVector<int64_t> starts(r, 0), sizes(x.shape()), steps(r, 1), lo(r), hi(r);
  bool crop = false;
  for (int64_t k = 0; k < r; ++k) {
    lo[k] = pads[k];
    hi[k] = pads[k + r];
    if (lo[k] < 0) {
      starts[k] = -lo[k];
      sizes[k] += lo[k];
      lo[k] = 0;
      crop = true;
    }
    if (hi[k] < 0) {
      sizes[k] += hi[k];
      hi[k] = 0;
      crop = true;
    }
    if (sizes[k] < 0)
      return cv.error(node) << "negative pads exceed the dimension";
  }
  TValue v = crop ? doSlice(cv, x, starts, sizes, steps) : x;
  SmallVector<int64_t> shape;
  bool any = false;
  for (int64_t k = 0; k < r; ++k) {
    shape.push_back(sizes[k] + lo[k] + hi[k]);
    any |= lo[k] || hi[k];
    if (mode != "constant" && (lo[k] || hi[k]) && sizes[k] == 0)
      return cv.error(node) << "cannot " << mode << "-pad an empty dimension";
    if (mode == "reflect" && (lo[k] >= sizes[k] || hi[k] >= sizes[k]))
      return cv.error(node) << "reflect pads must be smaller than the dimension";
  }
  if (!any) {
    res.push_back(v);
    return success();
  }
  ArrayRef<int64_t> in = sizes;
  auto srcHost = [&](int64_t o, int64_t k) -> int64_t {
    int64_t i = o - lo[k], d = in[k];
    if (i >= 0 && i < d)
      return i;
    if (mode == "constant")
      return -1;
    if (mode == "edge")
      return std::clamp<int64_t>(i, 0, d - 1);
    if (mode == "wrap")
      return ((i % d) + d) % d;
    return i < 0 ? -i : 2 * (d - 1) - i; // reflect
  };
  if (foldable(shape) && (!haveFillV))
    if (auto c = cv.getConst(v)) {
      SmallVector<int64_t> st = stridesOf(in);
      ConstTensor f = castConst(*fill, v.dt);
      res.push_back(cv.constant(hostMap(
          *c, shape,
          [&](ArrayRef<int64_t> o) -> int64_t {
            int64_t flat = 0;
            for (int64_t k = 0; k < r; ++k) {
              int64_t s = srcHost(o[k], k);
              if (s < 0)
                return -1;
              flat += s * st[k];
            }
            return flat;
          },
          &f)));
      return success();
    }
  if (mode == "constant") {
    Value pv;
    if (haveFillV)
      pv = tensor::ExtractOp::create(
          cv.b, cv.loc, doReshape(cv, fillV, {}).v, ValueRange{});
    else if (fill->isFloatData())
      pv = cv.scalar(v.dt, fill->f[0]);
    else // exact for 64-bit integers
      pv = arith::ConstantOp::create(
          cv.b, cv.loc, v.elemType(),
          IntegerAttr::get(v.elemType(),
                           APInt(bitWidth(v.dt), (uint64_t)fill->i[0], false,
                                 true)));
    Value empty = cv.emptyTensor(shape, v.elemType());
    Value filled = linalg::FillOp::create(cv.b, cv.loc, ValueRange{pv},
                                          ValueRange{empty})
                       .getResult(0);
    Value out = filled;
    if (v.numElements() > 0)
      out = tensor::InsertSliceOp::create(cv.b, cv.loc, v.v, filled,
                                          ValueRange{}, ValueRange{},
                                          ValueRange{}, lo, in,
                                          SmallVector<int64_t>(r, 1));
    res.push_back({out, v.dt});
    return success();
  }
  Value src = v.v;
  SmallVector<int64_t> inS(in);
  res.push_back(indexGeneric(
      cv, shape, v.dt, {}, {},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange) -> Value {
        SmallVector<Value> si;
        for (int64_t k = 0; k < r; ++k) {
          int64_t d = inS[k];
          Value i = arith::SubIOp::create(nb, nl, o[k], cIdx(nb, nl, lo[k]));
          if (!lo[k] && !hi[k]) {
            si.push_back(o[k]);
            continue;
          }
          Value zero = cIdx(nb, nl, 0), last = cIdx(nb, nl, d - 1);
          if (mode == "edge") {
            i = arith::MaxSIOp::create(nb, nl, i, zero);
            i = arith::MinSIOp::create(nb, nl, i, last);
          } else if (mode == "wrap") {
            Value dd = cIdx(nb, nl, d);
            i = arith::RemSIOp::create(nb, nl, i, dd);
            i = arith::AddIOp::create(nb, nl, i, dd);
            i = arith::RemSIOp::create(nb, nl, i, dd);
          } else { // reflect: i<0 -> -i; i>d-1 -> 2(d-1)-i
            Value neg = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt,
                                              i, zero);
            Value ni = arith::SubIOp::create(nb, nl, zero, i);
            i = arith::SelectOp::create(nb, nl, neg, ni, i);
            Value big = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sgt,
                                              i, last);
            Value twice = cIdx(nb, nl, 2 * (d - 1));
            Value ri = arith::SubIOp::create(nb, nl, twice, i);
            i = arith::SelectOp::create(nb, nl, big, ri, i);
          }
          si.push_back(i);
        }
        return tensor::ExtractOp::create(nb, nl, src, si);
      }));
  return success();
}

//===----------------------------------------------------------------------===//
// Trilu, CumSum, Where, Cast
//===----------------------------------------------------------------------===//

LogicalResult convertTrilu(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  if (r < 2)
    return cv.error(node) << "input must have rank >= 2";
  int64_t k = 0;
  Value kDyn; // a runtime k (index-typed)
  if (node.has(1)) {
    if (node.in(1).numElements() != 1)
      return cv.error(node) << "'k' must be a scalar";
    if (auto kc = cv.getConstInts(node.in(1))) {
      k = (*kc)[0];
    } else {
      Value kv = tensor::ExtractOp::create(
          cv.b, cv.loc, doReshape(cv, node.in(1), {}).v, ValueRange{});
      kDyn = arith::IndexCastOp::create(cv.b, cv.loc, cv.b.getIndexType(), kv);
    }
  }
  bool upper = node.i("upper", 1) != 0;
  auto keep = [&](int64_t i, int64_t j) {
    return upper ? j - i >= k : j - i <= k;
  };
  if (!kDyn && foldable(x.shape()))
    if (auto c = cv.getConst(x)) {
      ConstTensor z(x.dt, {});
      res.push_back(cv.constant(hostMap(
          *c, x.shape(),
          [&](ArrayRef<int64_t> o) -> int64_t {
            if (!keep(o[r - 2], o[r - 1]))
              return -1;
            int64_t f = 0;
            SmallVector<int64_t> st = stridesOf(x.shape());
            for (int64_t d = 0; d < r; ++d)
              f += o[d] * st[d];
            return f;
          },
          &z)));
      return success();
    }
  Value zero = cv.scalar(x.dt, 0);
  res.push_back(indexGeneric(
      cv, x.shape(), x.dt, {x.v}, {cv.b.getMultiDimIdentityMap(r)},
      [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange a) -> Value {
        Value diff = arith::SubIOp::create(nb, nl, o[r - 1], o[r - 2]);
        Value c = arith::CmpIOp::create(
            nb, nl, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
            diff, kDyn ? kDyn : cIdx(nb, nl, k));
        return arith::SelectOp::create(nb, nl, c, a[0], zero);
      }));
  return success();
}

LogicalResult convertCumSum(Converter &cv, const Node &node, Results &res) {
  const TValue &x = node.in(0);
  int64_t r = x.rank();
  auto ac = cv.getConstInts(node.in(1));
  if (!ac)
    return convertWithRuntimeAxis(cv, node, 1, r, convertCumSum, res);
  if (ac->size() != 1)
    return cv.error(node) << "'axis' must have one element";
  auto axisOpt = normalizeAxis((*ac)[0], r);
  if (!axisOpt)
    return cv.error(node) << "axis out of range";
  int64_t axis = *axisOpt;
  bool excl = node.i("exclusive", 0) != 0, rev = node.i("reverse", 0) != 0;
  if (foldable(x.shape()))
    if (auto c = cv.getConst(x)) {
      ConstTensor out(x.dt, x.shape());
      SmallVector<int64_t> st = stridesOf(x.shape());
      int64_t d = x.shape()[axis];
      forEachIndex(x.shape(), [&](ArrayRef<int64_t> o, int64_t flat) {
        if (o[axis] != 0)
          return;
        double accF = 0;
        int64_t accI = 0;
        for (int64_t t = 0; t < d; ++t) {
          int64_t j = rev ? d - 1 - t : t;
          int64_t f = flat + j * st[axis];
          if (excl)
            out.isFloatData() ? out.set(f, accF) : out.setI(f, accI);
          if (out.isFloatData())
            accF += c->f[f];
          else
            accI += c->i[f];
          if (!excl)
            out.isFloatData() ? out.set(f, accF) : out.setI(f, accI);
        }
      });
      res.push_back(cv.constant(out));
      return success();
    }
  // out[.., i, ..] = sum_j sel(j vs i) x[.., j, ..]: an extra reduction loop.
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t k = 0; k < r; ++k) {
    inExprs.push_back(cv.b.getAffineDimExpr(k == axis ? r : k));
    outExprs.push_back(cv.b.getAffineDimExpr(k));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(r + 1, 0, inExprs, cv.ctx()),
                                 AffineMap::get(r + 1, 0, outExprs, cv.ctx())};
  SmallVector<utils::IteratorType> iters(r, utils::IteratorType::parallel);
  iters.push_back(utils::IteratorType::reduction);
  Value zero = cv.scalar(x.dt, 0);
  Value init = linalg::FillOp::create(cv.b, cv.loc, ValueRange{zero},
                                      ValueRange{cv.emptyTensor(x.shape(),
                                                                x.elemType())})
                   .getResult(0);
  bool fl = isFloat(x.dt);
  auto pred = rev ? (excl ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::sge)
                  : (excl ? arith::CmpIPredicate::slt : arith::CmpIPredicate::sle);
  auto g = linalg::GenericOp::create(
      cv.b, cv.loc, TypeRange{init.getType()}, ValueRange{x.v},
      ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value i = linalg::IndexOp::create(nb, nl, axis);
        Value j = linalg::IndexOp::create(nb, nl, r);
        Value c = arith::CmpIOp::create(nb, nl, pred, j, i);
        Value v = arith::SelectOp::create(nb, nl, c, a[0], zero);
        Value s = fl ? arith::AddFOp::create(nb, nl, a[1], v).getResult()
                     : arith::AddIOp::create(nb, nl, a[1], v).getResult();
        linalg::YieldOp::create(nb, nl, s);
      });
  res.push_back({g.getResult(0), x.dt});
  return success();
}

LogicalResult convertWhere(Converter &cv, const Node &node, Results &res) {
  const TValue &c = node.in(0), &x = node.in(1), &y = node.in(2);
  if (x.dt != y.dt)
    return cv.error(node) << "X and Y differ in type";
  auto select = [](OpBuilder &nb, Location nl, ValueRange a) {
    return arith::SelectOp::create(nb, nl, a[0], a[1], a[2]).getResult();
  };
  if (cv.isDynamic(c) || cv.isDynamic(x) || cv.isDynamic(y)) {
    auto d1 = broadcastDims(cv.dims(c), cv.dims(x));
    auto dims = d1 ? broadcastDims(*d1, cv.dims(y)) : std::nullopt;
    if (!dims)
      return cv.error(node) << "inputs do not broadcast";
    TValue cb = c.dt == DType::Bool ? c : cv.castTo(c, DType::Bool);
    res.push_back(cv.elementwiseToDims({cb, x, y}, *dims, x.dt, select));
    return success();
  }
  auto s1 = broadcastShapes(c.shape(), x.shape());
  auto shape = s1 ? broadcastShapes(*s1, y.shape()) : std::nullopt;
  if (!shape)
    return cv.error(node) << "inputs do not broadcast";
  if (c.dt == DType::Bool && product(*shape) <= 64 &&
      (cv.hasElements(c) || cv.hasElements(x) || cv.hasElements(y))) {
    auto ce = cv.elements(c), xe = cv.elements(x), ye = cv.elements(y);
    SmallVector<Value> out;
    forEachIndex(*shape, [&](ArrayRef<int64_t> idx, int64_t) {
      auto at = [&](const TValue &t, ArrayRef<Value> es) {
        int64_t f = 0, st = 1;
        for (int64_t j = t.rank() - 1; j >= 0; --j) {
          int64_t i = idx[idx.size() - t.rank() + j];
          f += (t.shape()[j] == 1 ? 0 : i) * st;
          st *= t.shape()[j];
        }
        return es[f];
      };
      out.push_back(select(cv.b, cv.loc,
                           {at(c, *ce), at(x, *xe), at(y, *ye)}));
    });
    res.push_back(cv.fromElements(out, *shape, x.dt));
    return success();
  }
  if (cv.allConst(node) && foldable(*shape)) {
    ConstTensor cc = broadcastConst(*cv.getConst(c), *shape);
    ConstTensor xc = broadcastConst(*cv.getConst(x), *shape);
    ConstTensor yc = broadcastConst(*cv.getConst(y), *shape);
    ConstTensor out(x.dt, *shape);
    for (int64_t k = 0; k < out.size(); ++k)
      out.copyElem(k, cc.getI(k) ? xc : yc, k);
    res.push_back(cv.constant(out));
    return success();
  }
  TValue cb = c.dt == DType::Bool ? c : cv.castTo(c, DType::Bool);
  res.push_back(cv.elementwiseTo(
      {cb, x, y}, *shape, x.dt, [](OpBuilder &nb, Location nl, ValueRange a) {
        return arith::SelectOp::create(nb, nl, a[0], a[1], a[2]).getResult();
      }));
  return success();
}

LogicalResult castCommon(Converter &cv, const Node &node, DType to,
                         Results &res) {
  const TValue &x = node.in(0);
  if (to == DType::String || x.dt == DType::String)
    return cv.error(node) << "string tensors are unsupported";
  if (!supportedDType(to))
    return cv.error(node) << "unsupported target type " << (int)to;
  if (x.dt == to) {
    res.push_back(x);
    return success();
  }
  if (cv.hasElements(x)) {
    SmallVector<Value> out;
    for (Value e : *cv.elements(x))
      out.push_back(cv.castScalar(cv.b, cv.loc, e, x.dt, to));
    res.push_back(cv.fromElements(out, x.shape(), to));
    return success();
  }
  if (cv.isDynamic(x)) {
    res.push_back(cv.castTo(x, to));
    return success();
  }
  if (foldable(x.shape()))
    if (auto c = cv.getConst(x)) {
      res.push_back(cv.constant(castConst(*c, to)));
      return success();
    }
  res.push_back(cv.castTo(x, to));
  return success();
}

LogicalResult convertCast(Converter &cv, const Node &node, Results &res) {
  if (!node.hasAttr("to"))
    return cv.error(node) << "missing 'to'";
  if (auto s = dyn_cast_or_null<StringAttr>(node.attr("to"))) // Cast-1
    return cv.error(node) << "string 'to' (Cast-1) is unsupported";
  return castCommon(cv, node, (DType)node.i("to", 1), res);
}

LogicalResult convertCastLike(Converter &cv, const Node &node, Results &res) {
  return castCommon(cv, node, node.in(1).dt, res);
}

//===----------------------------------------------------------------------===//
// DepthToSpace / SpaceToDepth
//===----------------------------------------------------------------------===//

LogicalResult convertDepthToSpace(Converter &cv, const Node &node,
                                  Results &res) {
  const TValue &x = node.in(0);
  if (x.rank() != 4)
    return cv.error(node) << "input must be 4-D";
  int64_t b = node.i("blocksize", 0);
  int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2],
          W = x.shape()[3];
  if (b <= 0 || C % (b * b))
    return cv.error(node) << "channels not divisible by blocksize^2";
  std::string mode = node.s("mode", "DCR");
  int64_t c = C / (b * b);
  TValue v;
  if (mode == "DCR") {
    v = doReshape(cv, x, {N, b, b, c, H, W});
    v = doTranspose(cv, v, {0, 3, 4, 1, 5, 2});
  } else if (mode == "CRD") {
    v = doReshape(cv, x, {N, c, b, b, H, W});
    v = doTranspose(cv, v, {0, 1, 4, 2, 5, 3});
  } else {
    return cv.error(node) << "unknown mode '" << mode << "'";
  }
  res.push_back(doReshape(cv, v, {N, c, H * b, W * b}));
  return success();
}

LogicalResult convertSpaceToDepth(Converter &cv, const Node &node,
                                  Results &res) {
  const TValue &x = node.in(0);
  if (x.rank() != 4)
    return cv.error(node) << "input must be 4-D";
  int64_t b = node.i("blocksize", 0);
  int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2],
          W = x.shape()[3];
  if (b <= 0 || H % b || W % b)
    return cv.error(node) << "spatial dims not divisible by blocksize";
  TValue v = doReshape(cv, x, {N, C, H / b, b, W / b, b});
  v = doTranspose(cv, v, {0, 3, 5, 1, 2, 4});
  res.push_back(doReshape(cv, v, {N, C * b * b, H / b, W / b}));
  return success();
}

} // namespace

void mlir::qopt::onnx::registerShapeOps(HandlerRegistry &r) {
  r.add("Reshape", convertReshape);
  r.add("Flatten", convertFlatten);
  r.add("Squeeze", convertSqueeze);
  r.add("Unsqueeze", convertUnsqueeze);
  r.add("Identity", convertIdentity);
  r.add("Dropout", convertDropout);
  r.add("Transpose", convertTranspose);
  r.add("Concat", convertConcat);
  r.add("Split", convertSplit);
  r.add("Slice", convertSlice);
  r.add("Shape", convertShape);
  r.add("Size", convertSize);
  r.add("Expand", convertExpand);
  r.add("Tile", convertTile);
  r.add("ConstantOfShape", convertConstantOfShape);
  r.add("Range", convertRange);
  r.add("EyeLike", convertEyeLike);
  r.add("Gather", convertGather);
  r.add("GatherElements", convertGatherElements);
  r.add("OneHot", convertOneHot);
  r.add("Pad", convertPad);
  r.add("Trilu", convertTrilu);
  r.add("CumSum", convertCumSum);
  r.add("Where", convertWhere);
  r.add("Cast", convertCast);
  r.add("CastLike", convertCastLike);
  r.add("DepthToSpace", convertDepthToSpace);
  r.add("SpaceToDepth", convertSpaceToDepth);
}
