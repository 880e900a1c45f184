//===- QOptDialect.h - the qopt dialect -------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_DIALECT_QOPT_QOPTDIALECT_H
#define QOPT_DIALECT_QOPT_QOPTDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qopt/Dialect/QOpt/QOptDialect.h.inc"

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/QOptOps.h.inc"

#endif
