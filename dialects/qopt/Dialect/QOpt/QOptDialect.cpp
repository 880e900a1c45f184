//===- QOptDialect.cpp - the qopt dialect ---------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Dialect/QOpt/QOptDialect.h"

using namespace mlir;
using namespace mlir::qopt;

#include "qopt/Dialect/QOpt/QOptDialect.cpp.inc"

void QOptDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qopt/Dialect/QOpt/QOptOps.cpp.inc"
      >();
}
