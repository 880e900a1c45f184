//===- QuantMath.cpp - scale / zero-point math ----------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/QuantMath.h"

#include <algorithm>
#include <cmath>
#include <vector>

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
  // Row-major sweeps (k outer, n inner): weights are [K, N] row-major, and
  // walking a column with stride N is cache-hostile on large layers.
  std::vector<float> lo(N), hi(N), amax(N);
  std::vector<QParams> params(N);
  for (int64_t g = 0; g < q.numGroups; ++g) {
    int64_t k0 = g * groupSize, k1 = std::min(K, k0 + groupSize);
    std::fill(lo.begin(), lo.end(), 0.0f);
    std::fill(hi.begin(), hi.end(), 0.0f);
    std::fill(amax.begin(), amax.end(), 0.0f);
    for (int64_t k = k0; k < k1; ++k) {
      const float *row = w.data() + k * N;
      for (int64_t n = 0; n < N; ++n) {
        lo[n] = std::min(lo[n], row[n]);
        hi[n] = std::max(hi[n], row[n]);
        amax[n] = std::max(amax[n], std::fabs(row[n]));
      }
    }
    for (int64_t n = 0; n < N; ++n) {
      params[n] = symmetric ? symmetricParams(amax[n], r)
                            : asymmetricParams(lo[n], hi[n], r);
      q.scales[g * N + n] = params[n].scale;
      q.zeroPoints[g * N + n] = params[n].zeroPoint;
    }
    for (int64_t k = k0; k < k1; ++k)
      for (int64_t n = 0; n < N; ++n)
        q.values[k * N + n] = (int8_t)quantizeValue(w[k * N + n], params[n], r);
  }
  return q;
}
