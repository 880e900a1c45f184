//===- ActivationPrep.h - calibration for SmoothQuant / LLM.int8() -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// One JIT pass of the FP32 model over the calibration samples collects the
// per-input-channel max|x| of every quantizable matmul and attaches it as
// qopt.act_absmax, the input of qopt-smoothquant and qopt-llm-int8. With
// SmoothQuant `auto` it also searches the migration strength per layer
// group (grid 0, 0.1, ..., 1) on the first samples' inputs, minimising the
// squared error of the group's outputs under the activation quantization
// that follows (static per tensor with the calibration method, or dynamic
// per token / per tensor), and attaches qopt.smooth_alpha.
//
// Synthetic calibration data (--calib=synthetic) for token-id LMs is also
// made here: sequences sampled from the FP32 model itself.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_CALIBRATION_ACTIVATIONPREP_H
#define QOPT_CALIBRATION_ACTIVATIONPREP_H

#include "qopt/Calibration/Calibration.h"

namespace mlir {
namespace qopt {
namespace calib {

struct ActivationPrepOptions {
  std::string calibPath;
  int64_t maxSamples = 0;
  std::string exclude;
  std::string smoothQuant; ///< "", ALPHA or "auto"
  double llmInt8 = 0;      ///< threshold, 0: off
  // The activation quantizer that follows (for the auto search).
  bool staticAct = true; ///< w8a8 (static) vs dynamic
  bool asym = false;
  bool perToken = true; ///< dynamic only
  Method method;        ///< static only
  int64_t searchSamples = 4;
  bool progress = false;
  PipelineOptions pipeline; ///< for the calibration build
};

/// Per layer, what the preparation decided (for the log / docs).
struct PrepLayer {
  std::string label;
  int64_t K = 0;
  float actAbsMax = 0;
  double alpha = -1;      ///< auto search result, -1 if not searched
  int64_t outliers = -1;  ///< channels above the LLM.int8() threshold
};

/// Calibrates the qopt-level FP32 `module` and attaches qopt.act_absmax
/// (and, for auto, qopt.smooth_alpha) to its matmuls; the rewrite itself
/// is buildActivationPrepPipeline's.
LogicalResult attachActivationStatistics(ModuleOp module,
                                         const ActivationPrepOptions &o,
                                         std::vector<PrepLayer> &layers,
                                         std::string &err);

/// --calib=synthetic[:random]: `count` token sequences for a token-id LM
/// (one integer input [1, T], output logits [1, T, V]), written as an .npy
/// with a leading sample axis to `outPath`. `model` draws each sequence
/// from the FP32 model (temperature 1): a random first token, then
/// `sweeps` parallel refinement sweeps, each resampling every position
/// t + 1 from the model's distribution given the previous sweep's tokens
/// up to t (after sweep i the first i + 1 tokens are exact autoregressive
/// samples; every later token is conditioned on model-generated text).
/// `random`: uniform random tokens. Deterministic (fixed seed).
LogicalResult makeSyntheticCalibration(ModuleOp module, llvm::StringRef kind,
                                       int64_t count, int64_t sweeps,
                                       const PipelineOptions &pipeline,
                                       llvm::StringRef outPath,
                                       std::string &err);

} // namespace calib
} // namespace qopt
} // namespace mlir

#endif
