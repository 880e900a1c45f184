//===- QONNXDialect.cpp - the qonnx dialect -------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Dialect/QONNX/QONNXDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qonnx;

#include "qopt/Dialect/QONNX/QONNXDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "qopt/Dialect/QONNX/QONNXTypes.cpp.inc"

void QONNXDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "qopt/Dialect/QONNX/QONNXTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "qopt/Dialect/QONNX/QONNXOps.cpp.inc"
      >();
}

LogicalResult NodeOp::verify() {
  if (getOpType().empty())
    return emitOpError("(C1) op_type must not be empty");
  // getOpset() is unsigned (I64Attr); read the signed value so that a
  // negative opset is rejected too.
  int64_t opset = getOpsetAttr().getInt();
  if (opset < 1)
    return emitOpError("(C2) opset must be >= 1, got ") << opset;
  return success();
}

#define GET_OP_CLASSES
#include "qopt/Dialect/QONNX/QONNXOps.cpp.inc"
