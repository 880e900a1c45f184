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
                                       RankedTensorType zpTy, int64_t axis,
                                       int64_t blockSize) {
  if (!isa<IntegerType>(intTy.getElementType()) ||
      intTy.getElementType() != zpTy.getElementType())
    return op->emitOpError("(C1) integer side and zero_point must share an "
                           "integer element type");
  if (!isa<FloatType>(floatTy.getElementType()) ||
      floatTy.getElementType() != scaleTy.getElementType())
    return op->emitOpError("(C2) float side and scale must share a float "
                           "element type");
  if (scaleTy.getShape() != zpTy.getShape() ||
      (blockSize <= 0 && scaleTy.getRank() > 1))
    return op->emitOpError("(C3) scale and zero_point must have the same "
                           "shape of rank 0 or 1 (or the input's rank when "
                           "blocked)");
  if (intTy.getShape() != floatTy.getShape())
    return op->emitOpError("input and result shapes differ");
  if (blockSize < 0)
    return op->emitOpError("block_size must be >= 0");
  if (blockSize > 0) {
    int64_t rank = intTy.getRank();
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank)
      return op->emitOpError("axis ") << axis << " out of range for rank "
                                      << rank;
    if (scaleTy.getRank() != rank)
      return op->emitOpError("(C3) blocked scale must have the input's rank");
    for (int64_t d = 0; d < rank; ++d) {
      int64_t dim = intTy.getDimSize(d);
      if (ShapedType::isDynamic(dim))
        continue;
      int64_t want = d == a ? (dim + blockSize - 1) / blockSize : dim;
      if (scaleTy.getDimSize(d) != want)
        return op->emitOpError("(C4) blocked scale dimension ")
               << d << " must be " << want << ", got " << scaleTy.getDimSize(d);
    }
    return success();
  }
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
                           getAxis(), getBlockSize());
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantParams(*this, getInput().getType(), getResult().getType(),
                           getScale().getType(), getZeroPoint().getType(),
                           getAxis(), getBlockSize());
}

/// quantize(dequantize(q, s, z), s, z) == q exactly: |q*s/s - q| < 0.5, so
/// rounding recovers q and q is already inside the storage range.
OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  auto dq = getInput().getDefiningOp<DequantizeOp>();
  if (!dq || dq.getScale() != getScale() || dq.getZeroPoint() != getZeroPoint() ||
      dq.getAxis() != getAxis() || dq.getBlockSize() != getBlockSize() ||
      dq.getIsUnsigned() != getIsUnsigned() ||
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

LogicalResult DynamicQuantizeOp::verify() {
  RankedTensorType in = getInput().getType(), out = getResult().getType(),
                   st = getScale().getType(), zt = getZeroPoint().getType();
  auto it = dyn_cast<IntegerType>(out.getElementType());
  if (!isa<FloatType>(in.getElementType()) || !it || it.getWidth() > 16)
    return emitOpError("(C1) input must be float and result an integer of "
                       "at most 16 bits");
  if (in.getShape() != out.getShape())
    return emitOpError("input and result shapes differ");
  if (!st.getElementType().isF32() || zt.getElementType() != it)
    return emitOpError("(C2) scale must be f32 and zero_point of the result "
                       "element type");
  SmallVector<int64_t> want;
  if (getPerRow()) {
    if (in.getRank() < 1)
      return emitOpError("(C3) per_row needs an input of rank >= 1");
    want.assign(in.getShape().begin(), in.getShape().end() - 1);
  }
  if (st.getShape() != ArrayRef<int64_t>(want) || zt.getShape() != st.getShape())
    return emitOpError("(C3) scale/zero_point shape must be the input shape ")
           << (getPerRow() ? "without its last dimension" : "[] (per tensor)");
  return success();
}

LogicalResult ObserveOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  if (getIdAttr().getInt() < 0)
    return emitOpError("id must be >= 0");
  return success();
}

LogicalResult UnpackInt4Op::verify() {
  auto it = getInput().getType(), rt = getResult().getType();
  if (it.getRank() != 1 || !it.getElementType().isInteger(8))
    return emitOpError("(C1) input must be a 1-D i8 tensor");
  if (!rt.hasStaticShape() || !rt.getElementType().isInteger(8))
    return emitOpError("(C2) result must be a static-shape i8 tensor");
  int64_t n = rt.getNumElements();
  if (!it.isDynamicDim(0) && it.getDimSize(0) != (n + 1) / 2)
    return emitOpError("(C1) input must have ")
           << (n + 1) / 2 << " bytes for " << n << " int4 values, got "
           << it.getDimSize(0);
  return success();
}

LogicalResult QMatMulOp::verify() {
  RankedTensorType lt = getLhs().getType(), rt = getRhs().getType(),
                   ot = getResult().getType();
  auto narrow = [](Type t) {
    auto it = dyn_cast<IntegerType>(t);
    return it && it.getWidth() <= 8;
  };
  if (!narrow(lt.getElementType()) || !narrow(rt.getElementType()) ||
      getLhsZp().getType().getElementType() != lt.getElementType() ||
      getRhsZp().getType().getElementType() != rt.getElementType())
    return emitOpError("(C1) operands and zero points must be integers of at "
                       "most 8 bits, each zero point of its operand's type");
  if (!ot.getElementType().isInteger(32))
    return emitOpError("(C2) result must be i32");
  if (lt.getRank() < 2 || rt.getRank() < 2)
    return emitOpError("(C3) operands must have rank >= 2");
  int64_t M = lt.getDimSize(lt.getRank() - 2), K1 = lt.getDimSize(lt.getRank() - 1);
  int64_t K2 = rt.getDimSize(rt.getRank() - 2), N = rt.getDimSize(rt.getRank() - 1);
  if (K1 != K2)
    return emitOpError("(C3) contraction dimensions differ: ") << K1 << " vs " << K2;
  if (ot.getRank() < 2 || ot.getDimSize(ot.getRank() - 2) != M ||
      ot.getDimSize(ot.getRank() - 1) != N)
    return emitOpError("(C3) result must end in ") << M << "x" << N;
  auto checkZp = [&](RankedTensorType zt, int64_t n, StringRef what) -> LogicalResult {
    if (zt.getRank() == 0 || (zt.getRank() == 1 && zt.getDimSize(0) == n))
      return success();
    return emitOpError("(C4) ") << what << " zero point must be 0-D or of size " << n;
  };
  if (failed(checkZp(getLhsZp().getType(), M, "lhs")) ||
      failed(checkZp(getRhsZp().getType(), N, "rhs")))
    return failure();
  return success();
}

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/QOptOps.cpp.inc"
