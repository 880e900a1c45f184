//===- ABIText.h - the ABI description text (docs/abi.md) -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The `qopt.abi` text as data: written by qopt-record-abi, read by
// qopt-emit-entry (the C runtime has its own reader, runtime/lib/Runtime.c).
// Version 1: static shapes only. Version 2: dims may be `?` or a dim name,
// plus `entry static|dynamic`, `dim NAME MAX` and `cache ...` lines.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CODEGEN_ABITEXT_H
#define QOPT_LIB_CODEGEN_ABITEXT_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::qopt::abi {

/// One input or output. `dims[i]` is the size, or -1 for a dynamic dim whose
/// name (possibly "") is `dimNames[i]`.
struct TensorDesc {
  std::string name;
  int dtype = 0;
  SmallVector<int64_t> dims;
  SmallVector<std::string> dimNames;
  bool isStatic() const { return !llvm::is_contained(dims, -1); }
};

/// An input updated in place as a KV cache (qopt-kv-cache-in-place): its
/// `axis` is the capacity; rows [total - new, total) are written.
struct CacheDesc {
  std::string input, present;
  int64_t axis = 0;
  std::string totalDim, newDim;
};

struct Desc {
  int version = 1;
  bool dynamic = false;
  SmallVector<TensorDesc> inputs, outputs;
  /// Named dims in order of first appearance and their bound (0: none).
  SmallVector<std::pair<std::string, int64_t>> dimMax;
  SmallVector<CacheDesc> caches;
  uint64_t weightBytes = 0;
};

/// `name` with every byte outside [A-Za-z0-9._-] as %XX.
std::string encodeName(StringRef name);
/// A dim name as a shape token: encodeName, and also `x` (the dim
/// separator) and a leading digit (so a name never reads as a number).
std::string encodeDimName(StringRef name);
/// Undoes either encoding; "%" alone is the empty name.
std::string decodeName(StringRef text);

/// The text: version 1 when every tensor is static, else version 2.
std::string print(const Desc &d);
/// Parses version 1 or 2; failure on malformed text.
LogicalResult parse(StringRef text, Desc &d);

/// Bytes per element of an ONNX dtype (0: unsupported).
int dtypeBytes(int dtype);

} // namespace mlir::qopt::abi

#endif
