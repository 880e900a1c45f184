//===- QuantUtils.cpp - IR helpers shared by the quantization passes -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "QuantUtils.h"

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
  auto attr = dyn_cast<ElementsAttr>(a);
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
  ElementsAttr attr;
  if (auto r = dyn_cast_or_null<DenseResourceElementsAttr>(like)) {
    std::string name = (r.getRawHandle().getKey() + suffix).str();
    attr = DenseResourceElementsAttr::get(
        type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
  } else {
    attr = DenseElementsAttr::get(type, values);
  }
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(attr));
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
