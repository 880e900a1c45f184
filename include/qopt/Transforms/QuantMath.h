//===- QuantMath.h - scale / zero-point math shared by the quantizers -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The compile-time side of docs/semantics.md: integer ranges, scale and zero
// point from a range (symmetric / asymmetric), and quantize / dequantize of
// single values with the exact rounding of qopt.quantize (f32 true division,
// round half to even, saturation). Plain C++ (no MLIR types) so that the
// weight quantizers and the calibration (static activation scales) share it.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_TRANSFORMS_QUANTMATH_H
#define QOPT_TRANSFORMS_QUANTMATH_H

#include "llvm/ADT/ArrayRef.h"
#include <cstdint>
#include <vector>

namespace mlir {
namespace qopt {

/// The storage range of a `bits`-wide integer: [0, 2^n - 1] when unsigned,
/// else [-2^(n-1), 2^(n-1) - 1].
struct QRange {
  int32_t qmin = -128, qmax = 127;
  static QRange get(unsigned bits, bool isUnsigned);
};

struct QParams {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};

/// Symmetric: scale = absMax / qmax, zp = 0. A zero (or non-finite) scale is
/// replaced by 1, as qopt.dynamic_quantize does.
QParams symmetricParams(float absMax, QRange r);

/// Asymmetric (ONNX DynamicQuantizeLinear generalised to any range): the
/// range is widened to include 0, scale = (max - min) / (qmax - qmin),
/// zp = clamp(roundeven(qmin - min / scale), qmin, qmax). Zero scale -> 1.
QParams asymmetricParams(float min, float max, QRange r);

/// clamp(roundeven(x / scale) + zp, qmin, qmax), computed in f32 as
/// qopt.quantize (docs/semantics.md §1); NaN gives qmin.
int32_t quantizeValue(float x, QParams p, QRange r);

/// (q - zp) * scale in f32 (docs/semantics.md §2).
inline float dequantizeValue(int32_t q, QParams p) {
  return (float)(q - p.zeroPoint) * p.scale;
}

/// A quantized [K, N] weight (row-major, K = reduction, N = output channel).
/// `groupSize` == 0 (or >= K): one parameter pair per output channel
/// (params shaped [N]); otherwise per group of `groupSize` rows along K
/// (params shaped [ceil(K / groupSize), N], row-major).
struct QuantizedWeight {
  std::vector<int8_t> values; ///< [K, N]; fits i8 for bits <= 8 (signed)
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
  int64_t numGroups = 1; ///< 1 when per channel
  int64_t groupSize = 0; ///< rows per group (K when per channel)
};

/// Quantizes a [K, N] f32 weight to signed `bits`-wide integers
/// (bits in [2, 8]), symmetric or asymmetric, per channel or per group.
QuantizedWeight quantizeWeightKN(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                                 unsigned bits, bool symmetric,
                                 int64_t groupSize);

} // namespace qopt
} // namespace mlir

#endif
