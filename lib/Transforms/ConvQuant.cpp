//===- ConvQuant.cpp - conv layers for the quantization passes ------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The importer lowers a float ONNX Conv to one linalg.generic (tagged
// `qopt.conv`, NNOps.cpp emitConv) over the padded input and the filter
// reshaped to (G, M/G, C/G, k...). The quantizers rewrite that generic:
// weight-only schemes dequantize the filter in front of it, integer schemes
// replace it by the same loop nest over i8 operands with an i32
// accumulator and an f32 epilogue (docs/quantization.md "Conv layers").
//
//===----------------------------------------------------------------------===//
#include "QuantUtils.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::qopt;

std::optional<WeightConv> mlir::qopt::matchWeightConv(linalg::GenericOp op) {
  if (!op->hasAttr(kConvAttrName) || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op->getNumResults() != 1)
    return std::nullopt;
  auto xt = dyn_cast<RankedTensorType>(op.getDpsInputs()[0].getType());
  auto ft = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  auto yt = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!xt || !ft || !yt || ft.getRank() < 4 || !ft.hasStaticShape() ||
      !xt.hasStaticShape() || !yt.hasStaticShape() ||
      !xt.getElementType().isF32() || !ft.getElementType().isF32() ||
      !yt.getElementType().isF32())
    return std::nullopt;
  // The filter: a constant behind reshapes (row-major order is unchanged).
  Value v = op.getDpsInputs()[1];
  while (Operation *d = v.getDefiningOp()) {
    if (auto e = dyn_cast<tensor::ExpandShapeOp>(d))
      v = e.getSrc();
    else if (auto c = dyn_cast<tensor::CollapseShapeOp>(d))
      v = c.getSrc();
    else if (auto r = dyn_cast<tensor::ReshapeOp>(d))
      v = r.getSource();
    else
      break;
  }
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  auto ct = dyn_cast<RankedTensorType>(cst.getType());
  if (!ct || !ct.hasStaticShape() || !ct.getElementType().isF32() ||
      ct.getNumElements() != ft.getNumElements())
    return std::nullopt;
  WeightConv wc;
  wc.op = op;
  wc.weight = cst;
  wc.filterType = ft;
  wc.G = ft.getDimSize(0);
  wc.M = wc.G * ft.getDimSize(1);
  wc.K = ft.getNumElements() / wc.M;
  if (auto s = op->getAttrOfType<StringAttr>(kLayerAttrName))
    wc.layer = s.getValue().str();
  else
    wc.layer = locationName(op.getLoc());
  if (auto r = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
    wc.weightName = r.getRawHandle().getKey().str();
  else
    wc.weightName = locationName(cst.getLoc());
  return wc;
}

QuantizedFilter mlir::qopt::quantizeFilter(ArrayRef<float> w, int64_t M,
                                           int64_t K, unsigned bits,
                                           bool symmetric, int64_t groupSize) {
  QuantizedFilter q;
  if (groupSize <= 0 || groupSize >= K || K % groupSize)
    groupSize = K;
  q.groupSize = groupSize;
  q.numGroups = K / groupSize;
  QRange r = QRange::get(bits, /*isUnsigned=*/false);
  q.values.resize(M * K);
  q.scales.resize(M * q.numGroups);
  q.zeroPoints.resize(M * q.numGroups);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t g = 0; g < q.numGroups; ++g) {
      const float *row = w.data() + m * K + g * groupSize;
      float lo = 0.0f, hi = 0.0f, amax = 0.0f;
      for (int64_t k = 0; k < groupSize; ++k) {
        lo = std::min(lo, row[k]);
        hi = std::max(hi, row[k]);
        amax = std::max(amax, std::fabs(row[k]));
      }
      QParams p = symmetric ? symmetricParams(amax, r)
                            : asymmetricParams(lo, hi, r);
      q.scales[m * q.numGroups + g] = p.scale;
      q.zeroPoints[m * q.numGroups + g] = p.zeroPoint;
      for (int64_t k = 0; k < groupSize; ++k)
        q.values[m * K + g * groupSize + k] =
            (int8_t)quantizeValue(row[k], p, r);
    }
  return q;
}

/// [M, K] -> (G, M/G, C/G, k...): M splits into (G, M/G), K into the rest.
static Value expandToFilter(OpBuilder &b, Location loc, Value mk,
                            RankedTensorType filterType) {
  int64_t R = filterType.getRank();
  auto et = cast<RankedTensorType>(mk.getType()).getElementType();
  ReassociationIndices rest = llvm::to_vector(llvm::seq<int64_t>(2, R));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(filterType.getShape(), et), mk,
      ArrayRef<ReassociationIndices>{{0, 1}, rest});
}

static Value makeMKConstant(OpBuilder &b, WeightConv &wc,
                            const QuantizedFilter &q, unsigned bits,
                            bool packInt4) {
  auto ty = RankedTensorType::get({wc.M, wc.K}, b.getI8Type());
  return makeWeightConstant(b, wc.weight.getLoc(), ty, q.values,
                            wc.weight.getValue(), bits, packInt4);
}

Value mlir::qopt::makeFilterConstant(OpBuilder &b, WeightConv &wc,
                                     const QuantizedFilter &q, unsigned bits,
                                     bool packInt4) {
  return expandToFilter(b, wc.weight.getLoc(),
                        makeMKConstant(b, wc, q, bits, packInt4),
                        wc.filterType);
}

void mlir::qopt::dequantizeFilter(OpBuilder &b, WeightConv &wc,
                                  const QuantizedFilter &q, unsigned bits,
                                  bool packInt4) {
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(wc.op);
  Location loc = wc.weight.getLoc();
  Value wq = makeMKConstant(b, wc, q, bits, packInt4);
  auto ft = RankedTensorType::get({wc.M, wc.K}, b.getF32Type());
  Value deq = makeWeightDequantize(b, loc, ft, wq, q.scales, q.zeroPoints,
                                   wc.M, q.numGroups, q.groupSize,
                                   /*channelAxis=*/0);
  wc.op.getDpsInputOperand(1)->set(expandToFilter(b, loc, deq, wc.filterType));
}

Value mlir::qopt::buildIntegerConv(OpBuilder &b, linalg::GenericOp op,
                                   Value xq, Value zx, bool xUnsigned,
                                   Value wq, Value zw, bool wUnsigned,
                                   ValueRange scales, StringRef tag) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto yt = cast<RankedTensorType>(op->getResult(0).getType());
  // 0-D parameters broadcast; [G, M/G] ones follow loop dims d1, d2.
  auto paramMap = [&](Value v, unsigned D) {
    if (cast<RankedTensorType>(v.getType()).getRank() == 0)
      return AffineMap::get(D, 0, {}, ctx);
    return AffineMap::get(D, 0, {b.getAffineDimExpr(1), b.getAffineDimExpr(2)},
                          ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  unsigned D = op.getNumLoops();
  SmallVector<AffineMap> imaps = {maps[0], maps[1], paramMap(zx, D),
                                  paramMap(zw, D), maps[2]};
  Value zero = arith::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(0));
  Value init = tensor::EmptyOp::create(b, loc, yt.getShape(), i32);
  init = linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{init})
             .getResult(0);
  auto ext = [&](OpBuilder &nb, Location l, Value v, bool uns) -> Value {
    if (uns)
      return arith::ExtUIOp::create(nb, l, i32, v);
    return arith::ExtSIOp::create(nb, l, i32, v);
  };
  auto iconv = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{xq, wq, zx, zw},
      ValueRange{init}, imaps, op.getIteratorTypesArray(),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value x = arith::SubIOp::create(nb, l, ext(nb, l, a[0], xUnsigned),
                                        ext(nb, l, a[2], xUnsigned));
        Value w = arith::SubIOp::create(nb, l, ext(nb, l, a[1], wUnsigned),
                                        ext(nb, l, a[3], wUnsigned));
        Value p = arith::MulIOp::create(nb, l, x, w);
        linalg::YieldOp::create(nb, l,
                                Value(arith::AddIOp::create(nb, l, a[4], p)));
      });
  iconv->setAttr(kQuantAttrName, StringAttr::get(ctx, tag));
  if (auto layer = op->getAttr(kLayerAttrName))
    iconv->setAttr(kLayerAttrName, layer);

  // Epilogue over the output (N, G, M/G, out...): f32(acc) * scales[0] * ...
  int64_t R = yt.getRank();
  AffineMap id = b.getMultiDimIdentityMap(R);
  SmallVector<AffineMap> emaps = {id};
  SmallVector<Value> eins = {iconv.getResult(0)};
  for (Value s : scales) {
    emaps.push_back(paramMap(s, R));
    eins.push_back(s);
  }
  emaps.push_back(id);
  Value out = tensor::EmptyOp::create(b, loc, yt.getShape(), f32);
  SmallVector<utils::IteratorType> par(R, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{yt}, eins, ValueRange{out}, emaps, par,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value v = arith::SIToFPOp::create(nb, l, f32, a[0]);
               for (size_t k = 1; k + 1 < a.size(); ++k)
                 v = arith::MulFOp::create(nb, l, v, a[k]);
               linalg::YieldOp::create(nb, l, v);
             })
      .getResult(0);
}

void mlir::qopt::replaceWithIntegerConv(OpBuilder &b, WeightConv &wc,
                                        Value xq, Value zx, bool xUnsigned,
                                        Value sx, Value wq,
                                        const QuantizedFilter &q,
                                        StringRef tag) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(wc.op);
  Location loc = wc.op.getLoc();
  int64_t G = wc.G, Mg = wc.M / wc.G;
  bool wZp = llvm::any_of(q.zeroPoints, [](int32_t z) { return z != 0; });
  Value zw = wZp ? makeZpConstant(b, loc, {G, Mg}, q.zeroPoints)
                 : makeZpConstant(b, loc, {}, {0});
  Value sw = makeF32Constant(b, loc, {G, Mg}, q.scales);
  Value y = buildIntegerConv(b, wc.op, xq, zx, xUnsigned, wq, zw,
                             /*wUnsigned=*/false, ValueRange{sx, sw}, tag);
  wc.op->getResult(0).replaceAllUsesWith(y);
  wc.op->erase();
}
