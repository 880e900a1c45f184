//===- Passes.h - qopt code generation passes -------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_CODEGEN_PASSES_H
#define QOPT_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

#include <string>
#include <vector>

namespace mlir {
namespace qopt {

#define GEN_PASS_DECL
#include "qopt/Codegen/Passes.h.inc"

/// The externalization as a function, for drivers that keep the blob in
/// memory (JIT) or write it themselves. Appends to `blob`.
LogicalResult externalizeWeights(ModuleOp module, int64_t threshold,
                                 std::vector<char> &blob);

#define GEN_PASS_REGISTRATION
#include "qopt/Codegen/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif
