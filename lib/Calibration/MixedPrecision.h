//===- MixedPrecision.h - per-layer bit-width choice under a budget -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CALIBRATION_MIXEDPRECISION_H
#define QOPT_LIB_CALIBRATION_MIXEDPRECISION_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
namespace qopt {
namespace calib {

/// One layer's options: storage bits per weight (incl. scales) and the
/// estimated damage (relative output error energy on the calibration data)
/// of int4, int8 and f32 (0).
struct PrecisionChoice {
  int64_t params = 0;
  double bpw[3] = {0, 0, 32};   ///< int4, int8, f32
  double damage[3] = {0, 0, 0}; ///< int4, int8, f32
  int pick = 0;                 ///< index chosen
};

/// Minimises the summed damage subject to sum(params * bpw) <=
/// budgetBits * sum(params): greedy on damage reduction per extra bit from
/// all-int4 (exact for the convex case, which relative errors of 4 / 8 /
/// 32 bits are in practice). Returns false if even all-int4 exceeds the
/// budget (then every layer stays int4).
bool choosePrecisions(std::vector<PrecisionChoice> &layers, double budgetBits);

} // namespace calib
} // namespace qopt
} // namespace mlir

#endif
