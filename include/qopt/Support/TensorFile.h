//===- TensorFile.h - .npy and ONNX TensorProto tensor files ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_SUPPORT_TENSORFILE_H
#define QOPT_SUPPORT_TENSORFILE_H

#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <string>
#include <vector>

namespace qopt {
struct HostTensor {
  std::string name; ///< from a .pb file; empty for .npy
  int32_t dtype = 0; ///< ONNX data type number
  std::vector<int64_t> shape;
  std::vector<char> data;
};

/// Reads a little-endian, C-order .npy file. False + `err` on failure.
bool readNpy(llvm::StringRef path, HostTensor &t, std::string &err);
/// Parses .npy bytes; `what` names the source in errors (e.g. "'f.npz:x'").
bool parseNpy(llvm::StringRef bytes, const std::string &what, HostTensor &t,
              std::string &err);
/// Serializes `t` as .npy (version 1.0).
std::string encodeNpy(const HostTensor &t);
/// Writes `t` as .npy to `path` (through a temporary file renamed into
/// place). False + `err` on failure.
bool writeNpy(llvm::StringRef path, const HostTensor &t, std::string &err);
/// Reads a binary ONNX TensorProto (.pb).
bool readTensorProto(llvm::StringRef path, HostTensor &t, std::string &err);
size_t dtypeSize(int32_t dtype);
} // namespace qopt

#endif
