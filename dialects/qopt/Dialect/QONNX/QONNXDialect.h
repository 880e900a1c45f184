//===- QONNXDialect.h - the qonnx dialect -----------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_DIALECT_QONNX_QONNXDIALECT_H
#define QOPT_DIALECT_QONNX_QONNXDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qopt/Dialect/QONNX/QONNXDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "qopt/Dialect/QONNX/QONNXTypes.h.inc"

#define GET_OP_CLASSES
#include "qopt/Dialect/QONNX/QONNXOps.h.inc"

#endif
