//===- DiffPrefix.h - differentiable host interpreter of a CNN prefix -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// ZeroQ-style synthetic calibration (--calib=synthetic on a CNN) optimises
// input images until the batch statistics at every BatchNormalization input
// match the layer's running statistics. That needs d(loss)/d(input) through
// the network up to the last BatchNormalization, and the calibration JIT has
// no backward pass. This is a small float32 interpreter of that prefix of an
// ONNX-level (qonnx) function with reverse mode for the ops CNN stems and
// blocks are made of: Conv (2-D, groups, strides, pads, dilations),
// BatchNormalization, Relu/LeakyRelu/Clip/Sigmoid/HardSigmoid/HardSwish/
// Tanh, Add/Sub/Mul/Div with a constant or of two same-shaped activations,
// MaxPool/AveragePool (2-D)/GlobalAveragePool, Concat, Identity/Dropout.
// The batch size is free: the function's declared batch is ignored.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_CALIBRATION_DIFFPREFIX_H
#define QOPT_CALIBRATION_DIFFPREFIX_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SmallVector.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace qopt {
namespace calib {

/// A dense float32 activation, row-major.
struct Act {
  llvm::SmallVector<int64_t, 4> shape;
  std::vector<float> v;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

class DiffPrefix {
public:
  /// One BatchNormalization node: its running statistics per channel.
  struct BatchNorm {
    std::string name;
    std::vector<float> mean, stddev; ///< stddev = sqrt(var + epsilon)
  };

  /// The prefix of `func` that feeds its BatchNormalization nodes. Fails
  /// with a message naming the first node that cannot be differentiated
  /// (or `func` has no BatchNormalization, or its input is not one f32
  /// tensor).
  static std::unique_ptr<DiffPrefix> build(func::FuncOp func,
                                           std::string &err);
  ~DiffPrefix();

  const std::vector<BatchNorm> &batchNorms() const { return bns; }
  /// The function's input shape (its batch dimension as declared).
  llvm::ArrayRef<int64_t> inputShape() const { return inShape; }

  /// Runs the prefix on `x` (any batch size) and keeps what backward needs.
  bool forward(const Act &x, std::string &err);
  /// The input of batchNorms()[i] from the last forward().
  const Act &batchNormInput(size_t i) const;
  /// d(loss)/d(x) given d(loss)/d(batchNormInput(i)) for every i (same
  /// shapes), through the last forward()'s activations.
  void backward(const std::vector<Act> &bnInputGrads, Act &dx);

  struct Step;

private:
  DiffPrefix() = default;
  std::vector<BatchNorm> bns;
  std::vector<int> bnValue; ///< value index of each BatchNorm's input
  llvm::SmallVector<int64_t, 4> inShape;
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<Act> values; ///< 0: the input
  int numValues = 1;
};

} // namespace calib
} // namespace qopt
} // namespace mlir

#endif
