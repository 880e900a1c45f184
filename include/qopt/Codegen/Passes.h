//===- Passes.h - qopt code generation passes -------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_CODEGEN_PASSES_H
#define QOPT_CODEGEN_PASSES_H

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"

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
/// The same, streaming the bytes to `os` (`written`: bytes written).
LogicalResult externalizeWeights(ModuleOp module, int64_t threshold,
                                 llvm::raw_ostream &os, int64_t &written);

/// The externalization pass with an in-memory sink: the blob is appended to
/// `*sink` (which must outlive the pass run) instead of written to a file.
std::unique_ptr<Pass>
createQOptExternalizeWeightsPass(int64_t threshold, std::vector<char> *sink);

/// Name of the module attribute holding the ABI text (docs/abi.md).
inline constexpr const char *kABIAttrName = "qopt.abi";
/// Name of the module attribute naming the model function.
inline constexpr const char *kEntryFuncAttrName = "qopt.entry_func";

/// The model function: `qopt.entry_func` (default `main`), if defined.
func::FuncOp findEntryFunc(ModuleOp module);
/// Whether a shaped argument or result of `fn` has a dynamic dim (the
/// dynamic entry convention of docs/abi.md).
bool hasDynamicSignature(func::FuncOp fn);

/// Replaces (or appends) the `weights <bytes>` line of an ABI string.
std::string setABIWeightsBytes(llvm::StringRef abi, uint64_t bytes);

#define GEN_PASS_REGISTRATION
#include "qopt/Codegen/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif
