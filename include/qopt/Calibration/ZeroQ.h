//===- ZeroQ.h - data-free calibration inputs for CNNs ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// --calib=synthetic on an image model with BatchNormalization (ZeroQ, Cai et
// al. 2020): start from N(0, 1) inputs and minimise, with Adam, the mismatch
// between each BatchNormalization input's batch statistics and the layer's
// running statistics,
//   L = sum_l 1/C_l sum_c (mean_c - mu_c)^2 + (std_c - sigma_c)^2,
// by reverse mode through DiffPrefix. The result is the calibration set.
// --calib=synthetic:random writes the N(0, 1) start instead (the baseline).
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_CALIBRATION_ZEROQ_H
#define QOPT_CALIBRATION_ZEROQ_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
namespace qopt {
namespace calib {

struct ZeroQOptions {
  int64_t count = 32;    ///< calibration samples (model-batch sized each)
  int64_t steps = 500;   ///< Adam steps; 0: the N(0, 1) start (random)
  double learningRate = 0.1;
  bool progress = true;  ///< one line per 100 steps on stderr
};

struct ZeroQReport {
  int64_t batchNorms = 0;
  double lossBefore = 0, lossAfter = 0;
};

/// Whether the ONNX-level (qonnx) `module` has a BatchNormalization node.
bool hasBatchNorm(ModuleOp module);

/// Writes `count` inputs for the qonnx-level `module`'s single float32 NCHW
/// input as an .npy [count, *input shape] to `outPath`. Deterministic.
LogicalResult makeBatchNormMatchedInputs(ModuleOp module,
                                         const ZeroQOptions &o,
                                         StringRef outPath, ZeroQReport &r,
                                         std::string &err);

} // namespace calib
} // namespace qopt
} // namespace mlir

#endif
