//===- EmitEntry.h - entry wrappers of qopt-emit-entry ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_EMITENTRY_H
#define QOPT_LIB_CODEGEN_EMITENTRY_H

#include "ABIText.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
/// Adds `qopt_entry_dyn(in_data, in_dims, out_alloc, out_data, out_dims,
/// weights)` and `qopt_entry(void **args)` (the same six pointers in an
/// array) around `fn`, the model function in the memref-descriptor
/// convention (docs/abi.md, "Dynamic entry").
LogicalResult emitDynamicEntry(ModuleOp module, LLVM::LLVMFuncOp fn,
                               const abi::Desc &desc);
} // namespace mlir::qopt

#endif
