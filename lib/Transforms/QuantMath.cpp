//===- QuantMath.cpp - scale / zero-point math ----------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/QuantMath.h"

#include <algorithm>
#include <cmath>

using namespace mlir::qopt;

QRange QRange::get(unsigned bits, bool isUnsigned) {
  QRange r;
  if (isUnsigned) {
    r.qmin = 0;
    r.qmax = (int32_t)((1u << bits) - 1);
  } else {
    r.qmin = -(int32_t)(1u << (bits - 1));
    r.qmax = (int32_t)(1u << (bits - 1)) - 1;
  }
  return r;
}

static float sanitizeScale(float s) {
  return (s > 0.0f && std::isfinite(s)) ? s : 1.0f;
}

QParams mlir::qopt::symmetricParams(float absMax, QRange r) {
  QParams p;
  p.scale = sanitizeScale(std::fabs(absMax) / (float)r.qmax);
  p.zeroPoint = 0;
  return p;
}

QParams mlir::qopt::asymmetricParams(float min, float max, QRange r) {
  float lo = std::min(0.0f, min), hi = std::max(0.0f, max);
  QParams p;
  p.scale = sanitizeScale((hi - lo) / (float)(r.qmax - r.qmin));
  float zp = std::nearbyint((float)r.qmin - lo / p.scale);
  zp = std::max((float)r.qmin, std::min((float)r.qmax, zp));
  p.zeroPoint = (int32_t)zp;
  return p;
}

int32_t mlir::qopt::quantizeValue(float x, QParams p, QRange r) {
  // std::nearbyint under the default rounding mode (to nearest, ties to
  // even) is roundeven.
  float v = std::nearbyint(x / p.scale) + (float)p.zeroPoint;
  if (std::isnan(v))
    return r.qmin;
  v = std::max((float)r.qmin, std::min((float)r.qmax, v));
  return (int32_t)v;
}

QuantizedWeight mlir::qopt::quantizeWeightKN(llvm::ArrayRef<float> w,
                                             int64_t K, int64_t N,
                                             unsigned bits, bool symmetric,
                                             int64_t groupSize) {
  QuantizedWeight q;
  if (groupSize <= 0 || groupSize > K)
    groupSize = K;
  q.groupSize = groupSize;
  q.numGroups = (K + groupSize - 1) / groupSize;
  QRange r = QRange::get(bits, /*isUnsigned=*/false);
  q.values.resize(K * N);
  q.scales.resize(q.numGroups * N);
  q.zeroPoints.resize(q.numGroups * N);
  for (int64_t g = 0; g < q.numGroups; ++g) {
    int64_t k0 = g * groupSize, k1 = std::min(K, k0 + groupSize);
    for (int64_t n = 0; n < N; ++n) {
      float lo = 0.0f, hi = 0.0f, amax = 0.0f;
      for (int64_t k = k0; k < k1; ++k) {
        float v = w[k * N + n];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        amax = std::max(amax, std::fabs(v));
      }
      QParams p = symmetric ? symmetricParams(amax, r)
                            : asymmetricParams(lo, hi, r);
      q.scales[g * N + n] = p.scale;
      q.zeroPoints[g * N + n] = p.zeroPoint;
      for (int64_t k = k0; k < k1; ++k)
        q.values[k * N + n] = (int8_t)quantizeValue(w[k * N + n], p, r);
    }
  }
  return q;
}
