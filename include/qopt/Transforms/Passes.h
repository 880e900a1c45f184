//===- Passes.h - qopt graph transformations --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_TRANSFORMS_PASSES_H
#define QOPT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"

namespace mlir {
namespace qopt {

#define GEN_PASS_DECL
#include "qopt/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qopt/Transforms/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif
