//===- ImportONNX.h - ONNX protobuf -> qonnx --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The importer is mechanical (docs/design.md): every node becomes a
// qonnx.node, initializers and Constant nodes become qonnx.node "Constant"
// with a `value` elements attribute, graph inputs become arguments of
// func.func @main. No shape logic, no folding.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_TARGET_ONNX_IMPORTONNX_H
#define QOPT_TARGET_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
namespace qopt {

struct ImportOptions {
  /// Directory that external data locations are resolved against (and may
  /// not escape). Empty: the model file's directory.
  std::string externalDataDir;
};

/// Imports a model file: binary protobuf, or the ONNX text format when the
/// file name ends in `.onnxtext`/`.txt` (or starts with `<`). On failure
/// emits one error diagnostic naming the file and node/tensor and returns
/// null.
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path, MLIRContext *ctx,
                                     const ImportOptions &opts = {});

/// Imports an in-memory model; `bufferName` names it in diagnostics.
OwningOpRef<ModuleOp> importONNXBuffer(llvm::StringRef bytes,
                                       llvm::StringRef bufferName,
                                       MLIRContext *ctx, bool isText,
                                       const ImportOptions &opts = {});

/// Specializes an imported model for a known input value: the graph input
/// `name` of @main becomes a Constant node holding `data` (ONNX dtype
/// `dtype`, C-order, `shape`), so shape-determining inputs (Reshape shapes,
/// Slice starts, ...) fold at compile time. Emits an error and fails if no
/// such input exists or the data does not match its declared type.
LogicalResult bindInputAsConstant(ModuleOp module, llvm::StringRef name,
                                  int32_t dtype, llvm::ArrayRef<int64_t> shape,
                                  llvm::ArrayRef<char> data);

} // namespace qopt
} // namespace mlir

#endif
