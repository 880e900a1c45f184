//===- QuantUtils.h - IR helpers shared by the quantization passes -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_TRANSFORMS_QUANTUTILS_H
#define QOPT_LIB_TRANSFORMS_QUANTUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"
#include "qopt/Transforms/QuantMath.h"
#include "llvm/Support/Regex.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir {
namespace qopt {

/// Attribute naming the ONNX node a matmul came from (set by the importer).
inline constexpr const char *kLayerAttrName = "qopt.layer";
/// Attribute recording the scheme a quantizer applied to an op.
inline constexpr const char *kQuantAttrName = "qopt.quant";

/// A qopt.matmul whose rhs is a constant f32 [K, N] weight.
struct WeightMatMul {
  MatMulOp op;
  arith::ConstantOp weight;
  int64_t K = 0, N = 0;
  std::string layer;      ///< qopt.layer, else the location name
  std::string weightName; ///< resource key of the constant, or ""
};

/// Matches `op` (any rank lhs, 2-D f32 constant rhs); nullopt otherwise.
std::optional<WeightMatMul> matchWeightMatMul(MatMulOp op);

/// The f32 data of a constant (dense or dense_resource); nullopt if the
/// data is absent or not f32.
std::optional<std::vector<float>> readF32(Attribute attr);

/// The `exclude` option: empty pattern excludes nothing.
class ExcludeFilter {
public:
  /// Returns failure with a message in `err` for a bad regex.
  LogicalResult init(StringRef pattern, std::string &err);
  bool excludes(const WeightMatMul &m) const;

private:
  std::unique_ptr<llvm::Regex> re;
};

/// An i8 constant of `type` holding `values`: a dense_resource named after
/// `like` (suffix `suffix`) when `like` is one, else a dense attribute.
Value makeI8Constant(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<int8_t> values, Attribute like, StringRef suffix);
Value makeF32Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      ArrayRef<float> values);
/// Zero points as an i8 tensor of `shape`.
Value makeZpConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                     ArrayRef<int32_t> values);

} // namespace qopt
} // namespace mlir

#endif
