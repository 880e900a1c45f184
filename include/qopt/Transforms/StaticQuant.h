//===- StaticQuant.h - attributes of static (calibrated) quantization -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_TRANSFORMS_STATICQUANT_H
#define QOPT_TRANSFORMS_STATICQUANT_H

namespace mlir {
namespace qopt {
/// Per-tensor activation scale (f32) of a matmul's lhs, from calibration.
inline constexpr const char *kActScaleAttrName = "qopt.act_scale";
/// Its zero point (i64; 0 for act-scheme=sym, [0, 255] for asym).
inline constexpr const char *kActZpAttrName = "qopt.act_zp";
/// Suffix of the label of the observer on a layer's output.
inline constexpr const char *kOutputObserverSuffix = ":output";
} // namespace qopt
} // namespace mlir

#endif
