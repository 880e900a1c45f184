//===- QuantUtils.cpp - IR helpers shared by the quantization passes -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "QuantUtils.h"
#include "qopt/Support/DerivedConstant.h"

#include "qopt/Transforms/OutlierQuant.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;

std::string mlir::qopt::locationName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      if (auto n = dyn_cast<NameLoc>(l))
        return n.getName().str();
  return "";
}

std::optional<WeightMatMul> mlir::qopt::matchWeightMatMul(MatMulOp op) {
  if (op->hasAttr(kKeepF32AttrName)) // LLM.int8()'s f32 outlier product
    return std::nullopt;
  auto cst = op.getRhs().getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  auto ty = dyn_cast<RankedTensorType>(cst.getType());
  if (!ty || ty.getRank() != 2 || !ty.hasStaticShape() ||
      !ty.getElementType().isF32())
    return std::nullopt;
  auto lt = op.getLhs().getType();
  if (lt.getRank() < 1 || !lt.getElementType().isF32())
    return std::nullopt;
  WeightMatMul m;
  m.op = op;
  m.weight = cst;
  m.K = ty.getDimSize(0);
  m.N = ty.getDimSize(1);
  if (auto s = op->getAttrOfType<StringAttr>(kLayerAttrName))
    m.layer = s.getValue().str();
  else
    m.layer = locationName(op.getLoc());
  if (auto r = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
    m.weightName = r.getRawHandle().getKey().str();
  else
    m.weightName = locationName(cst.getLoc());
  return m;
}

std::optional<std::vector<float>> mlir::qopt::readF32(Attribute a) {
  auto attr = dyn_cast_or_null<ElementsAttr>(a);
  if (!attr || !attr.getElementType().isF32())
    return std::nullopt;
  int64_t n = attr.getNumElements();
  std::vector<float> out;
  if (auto d = dyn_cast<DenseElementsAttr>(attr)) {
    out.reserve(n);
    for (float v : d.getValues<float>())
      out.push_back(v);
    return out;
  }
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> raw = blob->getData();
    if ((int64_t)raw.size() != n * 4)
      return std::nullopt;
    out.resize(n);
    std::memcpy(out.data(), raw.data(), raw.size());
    return out;
  }
  return std::nullopt;
}

LogicalResult ExcludeFilter::init(StringRef pattern, std::string &err) {
  if (pattern.empty())
    return success();
  re = std::make_unique<llvm::Regex>(pattern);
  if (!re->isValid(err))
    return failure();
  return success();
}

bool ExcludeFilter::excludes(StringRef layer, StringRef weightName) const {
  if (!re)
    return false;
  return (!layer.empty() && re->match(layer)) ||
         (!weightName.empty() && re->match(weightName));
}

Value mlir::qopt::makeI8Constant(OpBuilder &b, Location loc,
                                 RankedTensorType type, ArrayRef<int8_t> values,
                                 Attribute like, StringRef suffix) {
  return arith::ConstantOp::create(
      b, loc, cast<TypedAttr>(derivedConstantAttr(type, values, like, suffix)));
}

Value mlir::qopt::makeInt4Constant(OpBuilder &b, Location loc,
                                   RankedTensorType type,
                                   ArrayRef<int8_t> values, Attribute like,
                                   StringRef suffix) {
  int64_t n = (int64_t)values.size();
  std::vector<int8_t> packed((n + 1) / 2, 0);
  for (int64_t i = 0; i < n; ++i) {
    uint8_t nib = (uint8_t)values[i] & 0xF;
    packed[i / 2] |= (int8_t)(i % 2 ? nib << 4 : nib);
  }
  auto pty = RankedTensorType::get({(int64_t)packed.size()}, b.getI8Type());
  Value p = makeI8Constant(b, loc, pty, packed, like, (suffix + "p").str());
  p.getDefiningOp()->setAttr("qopt.bits", b.getI64IntegerAttr(4));
  return UnpackInt4Op::create(b, loc, type, p);
}

Value mlir::qopt::makeWeightConstant(OpBuilder &b, Location loc,
                                     RankedTensorType type,
                                     ArrayRef<int8_t> values, Attribute like,
                                     unsigned bits, bool packInt4) {
  // w4a8 asym stores q - zp (in [-15, 15]): that stays one per byte.
  bool fits = llvm::all_of(values, [](int8_t v) { return v >= -8 && v <= 7; });
  if (bits == 4 && fits && packInt4)
    return makeInt4Constant(b, loc, type, values, like, ".q4");
  Value v = makeI8Constant(b, loc, type, values, like,
                           bits == 4 ? ".q4" : ".q8");
  v.getDefiningOp()->setAttr("qopt.bits", b.getI64IntegerAttr(bits));
  return v;
}

Value mlir::qopt::makeF32Constant(OpBuilder &b, Location loc,
                                  ArrayRef<int64_t> shape,
                                  ArrayRef<float> values) {
  auto ty = RankedTensorType::get(shape, b.getF32Type());
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(ty, values));
}

Value mlir::qopt::makeZpConstant(OpBuilder &b, Location loc,
                                 ArrayRef<int64_t> shape,
                                 ArrayRef<int32_t> values) {
  auto ty = RankedTensorType::get(shape, b.getI8Type());
  SmallVector<int8_t> v(values.begin(), values.end());
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(ty, ArrayRef<int8_t>(v)));
}

Value mlir::qopt::buildDequantizedWeight(const WeightMatMul &m,
                                         const QuantizedWeight &q,
                                         unsigned bits, bool packInt4) {
  arith::ConstantOp weight = m.weight;
  OpBuilder b(weight);
  Location loc = weight.getLoc();
  auto qTy = RankedTensorType::get({m.K, m.N}, b.getI8Type());
  Value wq;
  if (bits == 4 || bits == 8) {
    wq = makeWeightConstant(b, loc, qTy, q.values, weight.getValue(), bits,
                            packInt4);
  } else {
    wq = makeI8Constant(b, loc, qTy, q.values, weight.getValue(),
                        ".q" + std::to_string(bits));
    wq.getDefiningOp()->setAttr("qopt.bits", b.getI64IntegerAttr(bits));
  }
  return makeWeightDequantize(b, loc, weight.getType(), wq, q.scales,
                              q.zeroPoints, m.N, q.numGroups, q.groupSize,
                              /*channelAxis=*/1);
}

Value mlir::qopt::makeWeightDequantize(OpBuilder &b, Location loc, Type type,
                                       Value wq, ArrayRef<float> scales,
                                       ArrayRef<int32_t> zps, int64_t channels,
                                       int64_t numGroups, int64_t groupSize,
                                       unsigned channelAxis) {
  SmallVector<int64_t> shape = {channels};
  int64_t axis = channelAxis, block = 0;
  if (numGroups > 1) {
    shape.insert(channelAxis == 1 ? shape.begin() : shape.end(), numGroups);
    axis = 1 - channelAxis;
    block = groupSize;
  }
  Value s = makeF32Constant(b, loc, shape, scales);
  Value z = makeZpConstant(b, loc, shape, zps);
  return DequantizeOp::create(b, loc, type, wq, s, z, (uint64_t)axis,
                              (uint64_t)block, false);
}

std::optional<std::vector<double>> mlir::qopt::readHessian(Operation *op,
                                                           int64_t K) {
  auto a = op->getAttr(kHessianAttrName);
  if (!a)
    return std::nullopt;
  auto t = dyn_cast<ElementsAttr>(a);
  if (!t || t.getShapedType().getShape() != ArrayRef<int64_t>{K, K})
    return std::nullopt;
  auto f = readF32(a);
  if (!f)
    return std::nullopt;
  return std::vector<double>(f->begin(), f->end());
}

SmallVector<WeightMatMul> mlir::qopt::hessianMatMuls(Operation *module) {
  SmallVector<WeightMatMul> todo;
  module->walk([&](MatMulOp op) {
    if (!op->hasAttr(kHessianAttrName))
      return;
    if (auto m = matchWeightMatMul(op))
      todo.push_back(*m);
  });
  return todo;
}

std::optional<HessianLayer>
mlir::qopt::takeHessianLayer(WeightMatMul &m, int64_t defaultBits,
                             StringRef pass, bool &ok) {
  ok = true;
  int64_t b = defaultBits;
  if (auto a = m.op->getAttrOfType<IntegerAttr>(kWeightBitsAttrName))
    b = a.getInt();
  auto h = readHessian(m.op, m.K);
  auto w = readF32(m.weight.getValue());
  m.op->removeAttr(kHessianAttrName);
  if (b == 32)
    return std::nullopt;
  ok = false;
  if (b != 4 && b != 8) {
    m.op.emitError(pass) << ": layer '" << m.layer << "' has "
                         << kWeightBitsAttrName << " " << b
                         << " (expected 4, 8 or 32)";
    return std::nullopt;
  }
  if (!h || !w) {
    m.op.emitError(pass) << ": layer '" << m.layer
                         << "': cannot read its weight or its f32 [" << m.K
                         << ", " << m.K << "] " << kHessianAttrName;
    return std::nullopt;
  }
  ok = true;
  return HessianLayer{b, std::move(*w), std::move(*h)};
}

std::optional<std::vector<int8_t>> mlir::qopt::readI8(Attribute a) {
  auto attr = dyn_cast_or_null<ElementsAttr>(a);
  if (!attr || !attr.getElementType().isInteger(8))
    return std::nullopt;
  int64_t n = attr.getNumElements();
  if (auto d = dyn_cast<DenseElementsAttr>(attr)) {
    std::vector<int8_t> out;
    for (int8_t v : d.getValues<int8_t>())
      out.push_back(v);
    return out;
  }
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || (int64_t)blob->getData().size() != n)
      return std::nullopt;
    std::vector<int8_t> out(n);
    std::memcpy(out.data(), blob->getData().data(), n);
    return out;
  }
  return std::nullopt;
}

static Attribute constAttr(Value v) {
  auto c = v.getDefiningOp<arith::ConstantOp>();
  return c ? c.getValue() : Attribute();
}

/// The f32 [K, N] weight of `deq` (constants, per axis 1 or blocked
/// along K); nullopt for any other form.
std::optional<std::vector<float>>
mlir::qopt::readDequantizedWeight(DequantizeOp deq, int64_t K, int64_t N) {
  auto v = readI8(constAttr(deq.getInput()));
  auto s = readF32(constAttr(deq.getScale()));
  auto z = readI8(constAttr(deq.getZeroPoint()));
  if (!v || !s || !z || deq.getIsUnsigned() || (int64_t)v->size() != K * N)
    return std::nullopt;
  int64_t block = deq.getBlockSize();
  bool perAxis = deq.getAxis() == 1 && block == 0;
  bool blocked = deq.getAxis() == 0 && block > 0;
  if (!perAxis && !blocked)
    return std::nullopt;
  int64_t G = perAxis ? 1 : (K + block - 1) / block;
  if ((int64_t)s->size() != G * N || (int64_t)z->size() != G * N)
    return std::nullopt;
  std::vector<float> w(K * N);
  for (int64_t k = 0; k < K; ++k) {
    int64_t g = perAxis ? 0 : k / block;
    for (int64_t n = 0; n < N; ++n)
      w[k * N + n] = dequantizeValue((*v)[k * N + n],
                                     {(*s)[g * N + n], (*z)[g * N + n]});
  }
  return w;
}

