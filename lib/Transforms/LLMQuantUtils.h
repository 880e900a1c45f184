//===- LLMQuantUtils.h - helpers of qopt-smoothquant / qopt-llm-int8 -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_TRANSFORMS_LLMQUANTUTILS_H
#define QOPT_LIB_TRANSFORMS_LLMQUANTUTILS_H

#include "QuantUtils.h"
#include "llvm/ADT/MapVector.h"

namespace mlir {
namespace qopt {

/// Weight matmuls carrying qopt.act_absmax, grouped by their (shared) lhs:
/// q/k/v and gate/up read one activation and get one set of factors.
struct ActGroup {
  Value x;
  SmallVector<WeightMatMul> members;
  std::vector<float> actMax; ///< max over the members' qopt.act_absmax
};

/// Collects the groups; matmuls matched by `filter` lose the attribute and
/// are left alone. Fails (with a diagnostic) on a malformed attribute.
LogicalResult collectActGroups(ModuleOp module, const ExcludeFilter &filter,
                               StringRef passName,
                               llvm::MapVector<Value, ActGroup> &groups);

/// An f32 weight constant: a dense_resource named after `like` + `suffix`
/// when `like` is one (so --exclude still matches the weight's name), else
/// a dense attribute.
Value makeF32Weight(OpBuilder &b, Location loc, RankedTensorType type,
                    ArrayRef<float> values, Attribute like, StringRef suffix);

/// `x <op> v[last index]` as an elementwise linalg.generic (x: f32 with a
/// static shape, v: f32 constant [K], K = x's last dimension).
enum class ChannelOp { Mul, Div };
Value channelwise(OpBuilder &b, Location loc, Value x, ArrayRef<float> v,
                  ChannelOp kind);

} // namespace qopt
} // namespace mlir

#endif
