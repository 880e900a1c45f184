//===- LLMQuant.h - GPTQ / AWQ weight quantization math ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Calibration-driven weight quantization of one linear layer y = x W
// (W: [K, N] row-major, K = reduction) from its input Hessian
// H = 2/M * X^T X ([K, K], M calibration rows), shared by qopt-gptq,
// qopt-awq and the calibration driver (mixed precision). Plain C++ over
// Eigen; the quantization grid is the one of QuantMath.h (the kernels'
// exact rounding), so a result is an ordinary QuantizedWeight.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_TRANSFORMS_LLMQUANT_H
#define QOPT_TRANSFORMS_LLMQUANT_H

#include "qopt/Transforms/QuantMath.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>
#include <vector>

namespace mlir {
namespace qopt {

struct WeightGrid {
  unsigned bits = 4;
  bool symmetric = true;
  int64_t groupSize = 128; ///< rows of K per scale; 0 or >= K: per channel
};

struct GPTQOptions {
  WeightGrid grid;
  bool actOrder = false; ///< columns by decreasing diag(H), static groups
  double damp = 0.01;    ///< fraction of mean(diag H) added to the diagonal
  int64_t blockSize = 128; ///< lazy batch update width
  /// Per group and channel, shrink the range by the ratio in {1, 0.95,
  /// ..., 0.5} with the least output error of the group's rows (diagonal
  /// block of H) when its parameters are set (the reference GPTQ code's
  /// MSE grid, weighted by H).
  bool clipSearch = false;
};

/// GPTQ (Frantar et al. 2022, Algorithm 1): columns of W^T (rows k of W)
/// are quantized in order, each one's error, scaled by the Cholesky factor
/// of H^-1, is pushed onto the not yet quantized rows; updates are applied
/// lazily per block of `blockSize` rows. Group parameters are computed
/// from the (updated) weights when a group is entered; with act-order,
/// from the original weights up front (static groups, so groups stay
/// contiguous along K as the IR stores them). Returns false (with `err`)
/// if H is not positive definite even after dampening.
bool gptqQuantize(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                  llvm::ArrayRef<double> hessian, const GPTQOptions &o,
                  QuantizedWeight &out, std::string &err);

/// Layer-wise reconstruction (lib/Transforms/Reconstruct.cpp): starting
/// from `start` (RTN or GPTQ on the grid `g`), minimises the layer's output
/// error tr(dW^T H dW) over the integer values by cyclic coordinate
/// descent (each value in turn set to the exact minimiser of the quadratic
/// on its grid, clamped to the integer range; QuantEase-style, rows in
/// blocks with lazy updates as GPTQ), and with `scales` refits every
/// group's scale in closed form for its fixed integers (the least-squares
/// scale under H, an OmniQuant-style learnable range without gradients).
/// Every step is an exact minimisation, so the (damped) error does not
/// increase; the result is `start` unless its f32 error under the
/// undamped H is strictly lower.
struct ReconstructOptions {
  int sweeps = 8;     ///< passes over all rows
  bool scales = true; ///< refit the per-group scales after every 2 sweeps
  double damp = 0;    ///< descend on H + damp * mean(diag H) * I
};
struct ReconstructStats {
  double errStart = 0, errEnd = 0; ///< tr(dW^T H dW), f32 dequantized
  int sweeps = 0;                  ///< sweeps run (stops early when stable)
  int64_t changed = 0;             ///< integer values that differ from start
  int64_t scalesChanged = 0;
};
QuantizedWeight reconstructWeight(llvm::ArrayRef<float> w, int64_t K,
                                  int64_t N, llvm::ArrayRef<double> hessian,
                                  const WeightGrid &g,
                                  const QuantizedWeight &start,
                                  const ReconstructOptions &o,
                                  ReconstructStats &st);

/// Round to nearest on the grid; `clip` (size numGroups * N, may be empty)
/// scales each group's range (AWQ's clipping search).
QuantizedWeight rtnQuantize(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                            const WeightGrid &g,
                            llvm::ArrayRef<float> clip = {});

/// The dequantized [K, N] weight.
std::vector<float> dequantizeKN(const QuantizedWeight &q, int64_t K,
                                int64_t N);

/// Output error energy of replacing W by Wq on the calibration data:
/// tr((Wq - W)^T H (Wq - W)), and the signal tr(W^T H W).
double outputError(llvm::ArrayRef<float> w, llvm::ArrayRef<float> wq,
                   int64_t K, int64_t N, llvm::ArrayRef<double> hessian);
double outputEnergy(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                    llvm::ArrayRef<double> hessian);

/// AWQ (Lin et al. 2023) for layers sharing one input: per-input-channel
/// scales s = meanAbs^alpha / sqrt(max * min), alpha on a grid of `grid`
/// points in [0, 1), chosen to minimise the summed output error of
/// (x / s) Q(diag(s) W) against x W over the calibration data (from H).
/// alpha = 0 (s = 1) is plain RTN, so the result never does worse on it.
struct AWQResult {
  double alpha = 0;
  std::vector<float> scales; ///< [K]
  double errRTN = 0, errBest = 0;
};
AWQResult awqSearchScales(llvm::ArrayRef<std::vector<float>> weights,
                          llvm::ArrayRef<int64_t> widths, int64_t K,
                          llvm::ArrayRef<float> meanAbs,
                          llvm::ArrayRef<double> hessian,
                          llvm::ArrayRef<WeightGrid> grids, int grid = 20);

/// AWQ's clipping search: per group and output channel, the range shrink
/// ratio in {1, 1 - 1/grid, ..., 0.5} minimising the group's output error
/// (the diagonal block of H). Returns the ratios (numGroups * N).
std::vector<float> awqSearchClip(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                                 llvm::ArrayRef<double> hessian,
                                 const WeightGrid &g, int grid = 20);

} // namespace qopt
} // namespace mlir

#endif
