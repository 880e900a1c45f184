//===- OutlierQuant.h - attributes of SmoothQuant / LLM.int8() -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The calibration driver attaches per-input-channel activation statistics
// to the matmuls; qopt-smoothquant and qopt-llm-int8 rewrite from those
// attributes, so both replay from IR (lit tests, qopt-opt).
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_TRANSFORMS_OUTLIERQUANT_H
#define QOPT_TRANSFORMS_OUTLIERQUANT_H

#include "llvm/ADT/ArrayRef.h"
#include <vector>

namespace mlir {
namespace qopt {
/// max|x| per input channel (the lhs's last dimension) seen in calibration:
/// a dense f32 tensor<K> on a qopt.matmul. Consumed (removed) by the pass
/// that uses it.
inline constexpr const char *kActAbsMaxAttrName = "qopt.act_absmax";
/// SmoothQuant migration strength of this matmul's group (f64; set by the
/// `auto` search, else the pass option). Kept after smoothing as a record.
inline constexpr const char *kSmoothAlphaAttrName = "qopt.smooth_alpha";
/// A matmul no quantizer may touch (the f32 outlier product of LLM.int8()).
inline constexpr const char *kKeepF32AttrName = "qopt.keep_f32";
/// Number of outlier input channels LLM.int8() routed through f32 (i64).
inline constexpr const char *kOutlierChannelsAttrName = "qopt.outlier_channels";

/// SmoothQuant's per-input-channel factors s_k = max|X_k|^alpha /
/// max|W_k|^(1-alpha) (X is divided by s, W's row k multiplied by it);
/// s_k = 1 where either maximum is 0, so dead channels stay untouched.
std::vector<float> smoothQuantFactors(llvm::ArrayRef<float> actMax,
                                      llvm::ArrayRef<float> weightMax,
                                      double alpha);
} // namespace qopt
} // namespace mlir

#endif
