//===- LLMQuant.cpp - GPTQ / AWQ weight quantization math -----------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/LLMQuant.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir::qopt;
using Mat = Eigen::MatrixXd;
using MapHC = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic,
                                             Eigen::Dynamic, Eigen::RowMajor>>;

namespace {
int64_t normGroup(const WeightGrid &g, int64_t K) {
  return (g.groupSize <= 0 || g.groupSize >= K) ? K : g.groupSize;
}

/// Parameters of one group of one channel from its values (range scaled by
/// `clip`).
template <typename Get>
QParams groupParams(const WeightGrid &g, int64_t n, Get get, float clip) {
  float lo = 0, hi = 0, amax = 0;
  for (int64_t i = 0; i < n; ++i) {
    float v = get(i);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    amax = std::max(amax, std::fabs(v));
  }
  QRange r = QRange::get(g.bits, false);
  return g.symmetric ? symmetricParams(amax * clip, r)
                     : asymmetricParams(lo * clip, hi * clip, r);
}
} // namespace

/// Best range-shrink ratio per column of `v` ([len, N], one group of rows)
/// for the output error v^T hg v of its quantization error.
static std::vector<float> searchClip(const Mat &v, const Mat &hg,
                                     const WeightGrid &g, int grid) {
  int64_t len = v.rows(), N = v.cols();
  QRange r = QRange::get(g.bits, false);
  std::vector<float> best(N, 1.0f);
  std::vector<double> bestErr(N, INFINITY);
  Mat d(len, N);
  for (int i = 0; i <= grid / 2; ++i) {
    float c = 1.0f - (float)i / grid;
    for (int64_t n = 0; n < N; ++n) {
      QParams p = groupParams(
          g, len, [&](int64_t j) { return (float)v(j, n); }, c);
      for (int64_t j = 0; j < len; ++j) {
        float x = (float)v(j, n);
        d(j, n) = dequantizeValue(quantizeValue(x, p, r), p) - x;
      }
    }
    Eigen::VectorXd e = (d.cwiseProduct(hg * d)).colwise().sum().transpose();
    for (int64_t n = 0; n < N; ++n)
      if (e(n) < bestErr[n]) {
        bestErr[n] = e(n);
        best[n] = c;
      }
  }
  return best;
}

QuantizedWeight mlir::qopt::rtnQuantize(llvm::ArrayRef<float> w, int64_t K,
                                        int64_t N, const WeightGrid &g,
                                        llvm::ArrayRef<float> clip) {
  if (clip.empty())
    return quantizeWeightKN(w, K, N, g.bits, g.symmetric, g.groupSize);
  QuantizedWeight q;
  int64_t gs = normGroup(g, K);
  q.groupSize = gs;
  q.numGroups = (K + gs - 1) / gs;
  q.values.resize(K * N);
  q.scales.resize(q.numGroups * N);
  q.zeroPoints.resize(q.numGroups * N);
  QRange r = QRange::get(g.bits, false);
  for (int64_t gi = 0; gi < q.numGroups; ++gi) {
    int64_t k0 = gi * gs, k1 = std::min(K, k0 + gs);
    for (int64_t n = 0; n < N; ++n) {
      QParams p = groupParams(
          g, k1 - k0, [&](int64_t i) { return w[(k0 + i) * N + n]; },
          clip[gi * N + n]);
      q.scales[gi * N + n] = p.scale;
      q.zeroPoints[gi * N + n] = p.zeroPoint;
      for (int64_t k = k0; k < k1; ++k)
        q.values[k * N + n] = (int8_t)quantizeValue(w[k * N + n], p, r);
    }
  }
  return q;
}

std::vector<float> mlir::qopt::dequantizeKN(const QuantizedWeight &q,
                                            int64_t K, int64_t N) {
  std::vector<float> out(K * N);
  int64_t gs = q.groupSize > 0 ? q.groupSize : K;
  for (int64_t k = 0; k < K; ++k) {
    int64_t g = q.numGroups == 1 ? 0 : k / gs;
    for (int64_t n = 0; n < N; ++n)
      out[k * N + n] = dequantizeValue(
          q.values[k * N + n], {q.scales[g * N + n], q.zeroPoints[g * N + n]});
  }
  return out;
}

double mlir::qopt::outputError(llvm::ArrayRef<float> w,
                               llvm::ArrayRef<float> wq, int64_t K, int64_t N,
                               llvm::ArrayRef<double> hessian) {
  Mat d(K, N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      d(k, n) = (double)wq[k * N + n] - (double)w[k * N + n];
  MapHC h(hessian.data(), K, K);
  return (d.cwiseProduct(h * d)).sum();
}

double mlir::qopt::outputEnergy(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                                llvm::ArrayRef<double> hessian) {
  Mat d(K, N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      d(k, n) = w[k * N + n];
  MapHC h(hessian.data(), K, K);
  return (d.cwiseProduct(h * d)).sum();
}

bool mlir::qopt::gptqQuantize(llvm::ArrayRef<float> w, int64_t K, int64_t N,
                              llvm::ArrayRef<double> hessian,
                              const GPTQOptions &o, QuantizedWeight &out,
                              std::string &err) {
  const WeightGrid &g = o.grid;
  QRange r = QRange::get(g.bits, false);
  int64_t gs = normGroup(g, K);
  bool grouped = gs < K;
  // W^T: column k = row k of W (the paper's column order).
  Mat wt(N, K);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      wt(n, k) = w[k * N + n];
  Mat h = MapHC(hessian.data(), K, K);
  // Inputs that were always zero carry no information: fix their diagonal
  // and drop their weights (as the reference implementation does).
  for (int64_t k = 0; k < K; ++k)
    if (h(k, k) == 0) {
      h(k, k) = 1;
      wt.col(k).setZero();
    }
  std::vector<int64_t> perm(K);
  std::iota(perm.begin(), perm.end(), 0);
  if (o.actOrder)
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      return h(a, a) > h(b, b);
    });

  out = QuantizedWeight();
  out.groupSize = gs;
  out.numGroups = (K + gs - 1) / gs;
  out.values.assign(K * N, 0);
  out.scales.assign(out.numGroups * N, 1.0f);
  out.zeroPoints.assign(out.numGroups * N, 0);
  auto setParams = [&](int64_t gi, int64_t n, QParams p) {
    out.scales[gi * N + n] = p.scale;
    out.zeroPoints[gi * N + n] = p.zeroPoint;
  };
  // Static parameters: per channel always (from the whole row), per group
  // with act-order (groups of the original order, from the original W).
  bool staticParams = !grouped || o.actOrder;
  if (staticParams)
    for (int64_t gi = 0; gi < out.numGroups; ++gi) {
      int64_t k0 = gi * gs, k1 = std::min(K, k0 + gs);
      std::vector<float> clip(N, 1.0f);
      if (o.clipSearch)
        clip = searchClip(wt.middleCols(k0, k1 - k0).transpose(),
                          h.block(k0, k0, k1 - k0, k1 - k0), g, 20);
      for (int64_t n = 0; n < N; ++n)
        setParams(gi, n,
                  groupParams(
                      g, k1 - k0, [&](int64_t i) { return (float)wt(n, k0 + i); },
                      clip[n]));
    }

  Mat hp(K, K), wp(N, K);
  for (int64_t i = 0; i < K; ++i) {
    wp.col(i) = wt.col(perm[i]);
    for (int64_t j = 0; j < K; ++j)
      hp(i, j) = h(perm[i], perm[j]);
  }
  double meanDiag = hp.diagonal().mean();
  double damp = o.damp * meanDiag;
  // U: the upper Cholesky factor of H^-1 (H^-1 = U^T U).
  Mat u;
  for (int attempt = 0;; ++attempt) {
    Mat hd = hp;
    hd.diagonal().array() += damp;
    Eigen::LLT<Mat> llt(hd);
    if (llt.info() == Eigen::Success) {
      Mat hinv = llt.solve(Mat::Identity(K, K));
      Eigen::LLT<Mat> llt2(hinv);
      if (llt2.info() == Eigen::Success) {
        u = llt2.matrixU();
        break;
      }
    }
    if (attempt == 4) {
      err = "the Hessian is not positive definite even with dampening " +
            std::to_string(damp / std::max(meanDiag, 1e-30)) +
            " (too few calibration rows?)";
      return false;
    }
    damp = damp > 0 ? damp * 10 : 1e-6 * std::max(meanDiag, 1e-12);
  }

  int64_t bs = std::max<int64_t>(1, o.blockSize);
  Eigen::VectorXd q(N), e(N);
  std::vector<QParams> cur(N);
  for (int64_t i1 = 0; i1 < K; i1 += bs) {
    int64_t i2 = std::min(K, i1 + bs), count = i2 - i1;
    Mat w1 = wp.middleCols(i1, count);
    Mat err1(N, count);
    for (int64_t i = 0; i < count; ++i) {
      int64_t c = i1 + i, k = perm[c];
      if (!staticParams && c % gs == 0) {
        // Entering a group: its parameters from the current (error-
        // compensated) weights; without act-order c == k.
        int64_t gi = c / gs, len = std::min(K, c + gs) - c;
        Mat v(len, N);
        for (int64_t j = 0; j < len; ++j) {
          int64_t cc = c + j;
          v.row(j) = cc < i2 ? w1.col(cc - i1).transpose() : wp.col(cc).transpose();
        }
        std::vector<float> clip(N, 1.0f);
        if (o.clipSearch)
          clip = searchClip(v, hp.block(c, c, len, len), g, 20);
        for (int64_t n = 0; n < N; ++n) {
          cur[n] = groupParams(
              g, len, [&](int64_t j) { return (float)v(j, n); }, clip[n]);
          setParams(gi, n, cur[n]);
        }
      }
      int64_t gi = out.numGroups == 1 ? 0 : k / gs;
      for (int64_t n = 0; n < N; ++n) {
        QParams p = staticParams ? QParams{out.scales[gi * N + n],
                                           out.zeroPoints[gi * N + n]}
                                 : cur[n];
        int32_t v = quantizeValue((float)w1(n, i), p, r);
        out.values[k * N + n] = (int8_t)v;
        q(n) = dequantizeValue(v, p);
      }
      double d = u(c, c);
      e = (w1.col(i) - q) / d;
      w1.rightCols(count - i).noalias() -= e * u.block(c, c, 1, count - i);
      err1.col(i) = e;
    }
    if (i2 < K)
      wp.rightCols(K - i2).noalias() -= err1 * u.block(i1, i2, count, K - i2);
  }
  return true;
}

AWQResult mlir::qopt::awqSearchScales(
    llvm::ArrayRef<std::vector<float>> weights, llvm::ArrayRef<int64_t> widths,
    int64_t K, llvm::ArrayRef<float> meanAbs, llvm::ArrayRef<double> hessian,
    llvm::ArrayRef<WeightGrid> grids, int grid) {
  AWQResult best;
  best.errBest = INFINITY;
  std::vector<float> s(K), ws;
  for (int i = 0; i < grid; ++i) {
    double alpha = (double)i / grid;
    double mx = 0, mn = INFINITY;
    for (int64_t k = 0; k < K; ++k) {
      s[k] = (float)std::pow(std::max<double>(meanAbs[k], 1e-4), alpha);
      mx = std::max<double>(mx, s[k]);
      mn = std::min<double>(mn, s[k]);
    }
    float norm = (float)std::sqrt(mx * mn);
    for (float &v : s)
      v /= norm;
    double total = 0;
    for (size_t l = 0; l < weights.size(); ++l) {
      int64_t N = widths[l];
      const std::vector<float> &w = weights[l];
      ws.resize(K * N);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          ws[k * N + n] = w[k * N + n] * s[k];
      std::vector<float> d =
          dequantizeKN(rtnQuantize(ws, K, N, grids[l]), K, N);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          d[k * N + n] /= s[k];
      total += outputError(w, d, K, N, hessian);
    }
    if (i == 0)
      best.errRTN = total;
    if (total < best.errBest) {
      best.errBest = total;
      best.alpha = alpha;
      best.scales = s;
    }
  }
  return best;
}

std::vector<float> mlir::qopt::awqSearchClip(llvm::ArrayRef<float> w,
                                             int64_t K, int64_t N,
                                             llvm::ArrayRef<double> hessian,
                                             const WeightGrid &g, int grid) {
  int64_t gs = normGroup(g, K), G = (K + gs - 1) / gs;
  std::vector<float> ratio(G * N, 1.0f);
  MapHC h(hessian.data(), K, K);
  for (int64_t gi = 0; gi < G; ++gi) {
    int64_t k0 = gi * gs, len = std::min(K, k0 + gs) - k0;
    Mat v(len, N);
    for (int64_t j = 0; j < len; ++j)
      for (int64_t n = 0; n < N; ++n)
        v(j, n) = w[(k0 + j) * N + n];
    // AutoAWQ's grid: shrink the range by up to half.
    std::vector<float> best = searchClip(v, h.block(k0, k0, len, len), g, grid);
    std::copy(best.begin(), best.end(), ratio.begin() + gi * N);
  }
  return ratio;
}
