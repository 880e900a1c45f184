//===- QOptOps.cpp - qopt op verifiers and folders ------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Dialect/QOpt/QOptDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::qopt;

/// Shared checks of quantize/dequantize; `intTy` is the integer side.
static LogicalResult verifyQuantParams(Operation *op, RankedTensorType intTy,
                                       RankedTensorType floatTy,
                                       RankedTensorType scaleTy,
                                       RankedTensorType zpTy, int64_t axis) {
  if (!isa<IntegerType>(intTy.getElementType()) ||
      intTy.getElementType() != zpTy.getElementType())
    return op->emitOpError("(C1) integer side and zero_point must share an "
                           "integer element type");
  if (!isa<FloatType>(floatTy.getElementType()) ||
      floatTy.getElementType() != scaleTy.getElementType())
    return op->emitOpError("(C2) float side and scale must share a float "
                           "element type");
  if (scaleTy.getRank() > 1 || scaleTy.getShape() != zpTy.getShape())
    return op->emitOpError("(C3) scale and zero_point must have rank 0 or 1 "
                           "and the same shape");
  if (intTy.getShape() != floatTy.getShape())
    return op->emitOpError("input and result shapes differ");
  if (scaleTy.getRank() == 1) {
    int64_t rank = intTy.getRank();
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank)
      return op->emitOpError("axis ") << axis << " out of range for rank "
                                      << rank;
    if (!ShapedType::isDynamic(intTy.getDimSize(a)) &&
        intTy.getDimSize(a) != scaleTy.getDimSize(0))
      return op->emitOpError("(C4) per-axis scale has ")
             << scaleTy.getDimSize(0) << " elements but dimension " << a
             << " has " << intTy.getDimSize(a);
  }
  return success();
}

LogicalResult QuantizeOp::verify() {
  return verifyQuantParams(*this, getResult().getType(), getInput().getType(),
                           getScale().getType(), getZeroPoint().getType(),
                           getAxis());
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantParams(*this, getInput().getType(), getResult().getType(),
                           getScale().getType(), getZeroPoint().getType(),
                           getAxis());
}

/// quantize(dequantize(q, s, z), s, z) == q exactly: |q*s/s - q| < 0.5, so
/// rounding recovers q and q is already inside the storage range.
OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  auto dq = getInput().getDefiningOp<DequantizeOp>();
  if (!dq || dq.getScale() != getScale() || dq.getZeroPoint() != getZeroPoint() ||
      dq.getAxis() != getAxis() || dq.getIsUnsigned() != getIsUnsigned() ||
      dq.getInput().getType() != getType())
    return {};
  return dq.getInput();
}

LogicalResult MatMulOp::verify() {
  RankedTensorType lt = getLhs().getType(), rt = getRhs().getType(),
                   ot = getResult().getType();
  if (lt.getElementType() != rt.getElementType() ||
      lt.getElementType() != ot.getElementType())
    return emitOpError("(C1) operands and result must share an element type");
  if (lt.getRank() < 1 || rt.getRank() < 1)
    return emitOpError("operands must have rank >= 1");
  SmallVector<int64_t> l(lt.getShape()), r(rt.getShape());
  bool lvec = l.size() == 1, rvec = r.size() == 1;
  if (lvec) l.insert(l.begin(), 1);
  if (rvec) r.push_back(1);
  int64_t k1 = l.back(), k2 = r[r.size() - 2];
  if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
    return emitOpError("(C2) contraction dimensions differ: ")
           << k1 << " vs " << k2;
  SmallVector<int64_t> lb(l.begin(), l.end() - 2), rb(r.begin(), r.end() - 2);
  size_t nb = std::max(lb.size(), rb.size());
  SmallVector<int64_t> out;
  for (size_t i = 0; i < nb; ++i) {
    int64_t a = i + lb.size() >= nb ? lb[i + lb.size() - nb] : 1;
    int64_t b = i + rb.size() >= nb ? rb[i + rb.size() - nb] : 1;
    if (a != b && a != 1 && b != 1 && !ShapedType::isDynamic(a) &&
        !ShapedType::isDynamic(b))
      return emitOpError("(C3) batch dimensions do not broadcast: ")
             << a << " vs " << b;
    out.push_back(a == 1 ? b : a);
  }
  if (!lvec) out.push_back(l[l.size() - 2]);
  if (!rvec) out.push_back(r.back());
  if (ot.getRank() != (int64_t)out.size())
    return emitOpError("(C3) result rank must be ") << out.size();
  for (auto [want, got] : llvm::zip(out, ot.getShape()))
    if (!ShapedType::isDynamic(want) && !ShapedType::isDynamic(got) &&
        want != got)
      return emitOpError("(C3) result shape does not match the broadcast "
                         "matmul shape");
  return success();
}

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/QOptOps.cpp.inc"
