//===- Reconstruct.cpp - layer-wise reconstruction of quantized weights ---===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.matmul(x, W) {qopt.hessian = H}
//   -> qopt.matmul(x, qopt.dequantize(Wq, s, zp))
// with Wq, s tuned to minimise the layer's output error on the calibration
// rows, ||X (Wq - W)||^2 = M/2 tr(dW^T H dW), starting from round-to-nearest
// or GPTQ. Why coordinate descent and not AdaRound's relaxation: the
// objective of one layer is a quadratic in the integers, so each integer's
// exact minimiser given the others is one division; AdaRound's relaxed
// rounding variables need thousands of Adam steps to become binary again
// (a 200-step transcription removed 2-18 % of RTN's error on a test layer,
// 8 sweeps here ~65 %), and can only pick floor or ceil.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"
#include "qopt/Transforms/LLMQuant.h"
#include "llvm/Support/FormatVariadic.h"

#include <Eigen/Core>

#include <chrono>
#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTRECONSTRUCTPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
using Mat = Eigen::MatrixXd;
using RMat =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The descent state: centred integers C = q - zp, per-element scales
/// (as the f32 the IR stores), D = C * s - W and G = H D.
struct State {
  int64_t K, N, gs, numGroups;
  const Mat &h;
  RMat w, c, d, g;
  std::vector<float> scales;      ///< [numGroups, N]
  std::vector<int32_t> lo, hi;    ///< per group and column: C's range
  double scale(int64_t k, int64_t n) const {
    return scales[(k / gs) * N + n];
  }
  void refreshG() { g.noalias() = h * d; }
};

/// One pass of cyclic coordinate descent over the rows, in blocks of `bs`
/// rows: inside a block G is updated row by row for the block's rows, then
/// once for the rows after it (as GPTQ's lazy batches). Returns the number
/// of integers changed.
int64_t sweep(State &s, int64_t bs) {
  int64_t K = s.K, N = s.N, changed = 0;
  s.refreshG(); // no drift from the incremental updates
  RMat delta(bs, N);
  for (int64_t b0 = 0; b0 < K; b0 += bs) {
    int64_t b1 = std::min(K, b0 + bs), len = b1 - b0;
    delta.setZero();
    for (int64_t k = b0; k < b1; ++k) {
      double hkk = s.h(k, k);
      if (!(hkk > 0))
        continue; // input always zero: any value is as good
      bool any = false;
      int64_t gi = k / s.gs;
      for (int64_t n = 0; n < N; ++n) {
        double sc = s.scale(k, n);
        if (!(sc > 0))
          continue;
        double cur = s.c(k, n);
        // The quadratic in this one value is hkk sc^2 (C - C*)^2 + const.
        double best = std::nearbyint(cur - s.g(k, n) / (sc * hkk));
        best = std::clamp(best, (double)s.lo[gi * N + n],
                          (double)s.hi[gi * N + n]);
        if (best == cur)
          continue;
        double dd = (best - cur) * sc;
        s.c(k, n) = best;
        s.d(k, n) += dd;
        delta(k - b0, n) = dd;
        any = true;
        ++changed;
      }
      if (any && k + 1 < b1)
        s.g.middleRows(k + 1, b1 - k - 1).noalias() +=
            s.h.block(k + 1, k, b1 - k - 1, 1) * delta.row(k - b0);
    }
    if (b1 < K)
      s.g.bottomRows(K - b1).noalias() +=
          s.h.block(b1, b0, K - b1, len) * delta.topRows(len);
  }
  return changed;
}

/// Per group and column, the scale minimising the output error for the
/// current integers with everything else fixed:
/// s* = a^T (H_gg w_g - r) / a^T H_gg a, r = G_g - H_gg D_g (the other
/// groups' contribution). Kept when positive and finite.
int64_t refitScales(State &s) {
  int64_t K = s.K, N = s.N, changed = 0;
  for (int64_t gi = 0; gi < s.numGroups; ++gi) {
    s.refreshG();
    int64_t k0 = gi * s.gs, len = std::min(K, k0 + s.gs) - k0;
    auto hg = s.h.block(k0, k0, len, len);
    RMat a = s.c.middleRows(k0, len), wg = s.w.middleRows(k0, len);
    RMat r = s.g.middleRows(k0, len) - hg * s.d.middleRows(k0, len);
    RMat num = a.cwiseProduct(hg * wg - r), den = a.cwiseProduct(hg * a);
    for (int64_t n = 0; n < N; ++n) {
      double nu = num.col(n).sum(), de = den.col(n).sum();
      if (!(de > 0))
        continue;
      float v = (float)(nu / de);
      float &old = s.scales[gi * N + n];
      if (!(v > 0) || !std::isfinite(v) || v == old)
        continue;
      old = v;
      ++changed;
      for (int64_t k = k0; k < k0 + len; ++k)
        s.d(k, n) = s.c(k, n) * (double)v - s.w(k, n);
    }
  }
  return changed;
}
} // namespace

QuantizedWeight mlir::qopt::reconstructWeight(
    llvm::ArrayRef<float> w, int64_t K, int64_t N,
    llvm::ArrayRef<double> hessian, const WeightGrid &grid,
    const QuantizedWeight &start, const ReconstructOptions &o,
    ReconstructStats &st) {
  QRange r = QRange::get(grid.bits, false);
  int64_t gs = start.groupSize > 0 && start.groupSize < K ? start.groupSize
                                                           : K;
  Mat h = Eigen::Map<const RMat>(hessian.data(), K, K);
  // The descent minimises the error under H + damp mean(diag H) I: the
  // extra term keeps the weights near W where the calibration rows say
  // little (the generalisation role of GPTQ's dampening).
  if (o.damp > 0)
    h.diagonal().array() += o.damp * h.diagonal().mean();
  State s{K, N, gs, start.numGroups, h, RMat(K, N), RMat(K, N), RMat(K, N),
          RMat(K, N), start.scales, {}, {}};
  s.lo.resize(start.zeroPoints.size());
  s.hi.resize(start.zeroPoints.size());
  for (size_t i = 0; i < start.zeroPoints.size(); ++i) {
    s.lo[i] = r.qmin - start.zeroPoints[i];
    s.hi[i] = r.qmax - start.zeroPoints[i];
  }
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int64_t gi = start.numGroups == 1 ? 0 : k / gs;
      s.w(k, n) = w[k * N + n];
      s.c(k, n) = start.values[k * N + n] - start.zeroPoints[gi * N + n];
      s.d(k, n) = s.c(k, n) * (double)s.scales[gi * N + n] - s.w(k, n);
    }
  st = ReconstructStats();
  for (int i = 0; i < o.sweeps; ++i) {
    int64_t n = sweep(s, 128);
    ++st.sweeps;
    int64_t m = 0;
    if (o.scales && (i % 2 == 1 || i + 1 == o.sweeps))
      m = refitScales(s);
    st.scalesChanged += m;
    if (n == 0 && m == 0)
      break; // a fixed point: further sweeps change nothing
  }
  QuantizedWeight out = start;
  out.scales = s.scales;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      int64_t gi = start.numGroups == 1 ? 0 : k / gs;
      out.values[k * N + n] =
          (int8_t)((int32_t)s.c(k, n) + start.zeroPoints[gi * N + n]);
      st.changed += out.values[k * N + n] != start.values[k * N + n];
    }
  // Judged on the f32 weights the kernels compute with.
  st.errStart = outputError(w, dequantizeKN(start, K, N), K, N, hessian);
  st.errEnd = outputError(w, dequantizeKN(out, K, N), K, N, hessian);
  if (!(st.errEnd < st.errStart)) {
    st.errEnd = st.errStart;
    st.changed = st.scalesChanged = 0;
    return start;
  }
  return out;
}

namespace {
struct QOptReconstructPass
    : qopt::impl::QOptReconstructPassBase<QOptReconstructPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if ((bits != 8 && bits != 4) || (scheme != "sym" && scheme != "asym") ||
        groupSize < 0 || damp < 0 || reconDamp < 0 || iters < 1 ||
        (init != "rtn" && init != "gptq")) {
      module.emitError("qopt-reconstruct: bad options (bits 4|8, scheme "
                       "sym|asym, group-size >= 0, damp >= 0, iters >= 1, "
                       "init rtn|gptq)");
      return signalPassFailure();
    }
    SmallVector<WeightMatMul> todo = hessianMatMuls(module);
    Builder attrs(&getContext());
    for (WeightMatMul &m : todo) {
      auto t0 = std::chrono::steady_clock::now();
      bool ok;
      auto layer = takeHessianLayer(m, bits, "qopt-reconstruct", ok);
      if (!ok)
        return signalPassFailure();
      if (!layer)
        continue;
      int64_t b = layer->bits;
      const std::vector<float> *w = &layer->w;
      const std::vector<double> *h = &layer->h;
      GPTQOptions go;
      go.grid = {(unsigned)b, scheme == "sym", b == 4 ? groupSize : 0};
      go.actOrder = actOrder;
      go.damp = damp;
      go.clipSearch = clip;
      QuantizedWeight rq = rtnQuantize(*w, m.K, m.N, go.grid), start;
      if (init == "gptq") {
        std::string err;
        if (!gptqQuantize(*w, m.K, m.N, *h, go, start, err)) {
          m.op.emitError("qopt-reconstruct: layer '") << m.layer << "': "
                                                      << err;
          return signalPassFailure();
        }
      } else {
        start = clip ? rtnQuantize(*w, m.K, m.N, go.grid,
                                   awqSearchClip(*w, m.K, m.N, *h, go.grid))
                     : rq;
      }
      ReconstructOptions ro;
      ro.sweeps = iters;
      ro.scales = scales;
      ro.damp = reconDamp;
      ReconstructStats st;
      QuantizedWeight q =
          reconstructWeight(*w, m.K, m.N, *h, go.grid, start, ro, st);
      double sig = outputEnergy(*w, m.K, m.N, *h);
      double rtnErr =
          outputError(*w, dequantizeKN(rq, m.K, m.N), m.K, m.N, *h);
      auto rel = [&](double e) { return sig > 0 ? e / sig : 0.0; };
      m.op->setAttr("qopt.out_err", attrs.getF64FloatAttr(rel(st.errEnd)));
      m.op->setAttr("qopt.rtn_out_err", attrs.getF64FloatAttr(rel(rtnErr)));
      m.op->setAttr("qopt.start_out_err",
                    attrs.getF64FloatAttr(rel(st.errStart)));
      if (verbose)
        llvm::errs() << llvm::formatv(
            "qopt-reconstruct: {0}: output error {1:e3} -> {2:e3} (start "
            "{3}, RTN {4:e3}), {5} sweeps, {6} values and {7} scales "
            "changed, {8:f2} s\n",
            m.layer, rel(st.errStart), rel(st.errEnd), init, rel(rtnErr),
            st.sweeps, st.changed, st.scalesChanged,
            std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                          t0)
                .count());
      Value deq = buildDequantizedWeight(m, q, (unsigned)b, /*packInt4=*/false);
      m.op.getRhsMutable().assign(deq);
      m.op->setAttr(kQuantAttrName, attrs.getStringAttr(b == 8 ? "w8" : "w4"));
      if (m.weight->use_empty())
        m.weight->erase();
    }
  }
};
} // namespace
