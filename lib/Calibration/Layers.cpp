//===- Layers.cpp - statistics passes, layer table, output SQNR ------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"

#include "../Transforms/QuantUtils.h"
#include "qopt/Transforms/StaticQuant.h"

#include <cmath>
#include <set>
#include <cstring>

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

bool calib::collectStatistics(
    Runner &runner, const std::vector<Sample> &samples, StatsMap &stats,
    std::string &err, const std::function<void(int, size_t, size_t)> &progress) {
  const auto &obs = runner.observers();
  std::map<int64_t, TensorStats *> byId;
  for (const auto &[id, info] : obs) {
    TensorStats &s = stats[info.label];
    s.label = info.label;
    byId[id] = &s;
  }
  for (int pass = 1; pass <= 2; ++pass) {
    std::function<void(int64_t, const float *, int64_t)> fn =
        [&](int64_t id, const float *x, int64_t n) {
          auto it = byId.find(id);
          if (it == byId.end())
            return;
          if (pass == 1)
            it->second->addRange(x, n, obs.at(id).lastDim);
          else
            it->second->addHistogram(x, n);
        };
    for (size_t i = 0; i < samples.size(); ++i) {
      if (!runner.run(samples[i], fn, err))
        return false;
      if (progress)
        progress(pass, i + 1, samples.size());
    }
    if (pass == 1)
      for (auto &[id, s] : byId) {
        s->histRange = s->absMax();
        s->hist.assign(kHistBins, 0.0);
      }
  }
  return true;
}

bool calib::collectLayers(ModuleOp module, StringRef exclude,
                          std::vector<LayerInfo> &layers, std::string &err) {
  ExcludeFilter filter;
  if (failed(filter.init(exclude, err))) {
    err = "bad --exclude regex '" + exclude.str() + "': " + err;
    return false;
  }
  std::set<std::string> seen;
  bool ok = true;
  // Program order: matmuls and convs in one walk.
  auto matmul = [&](MatMulOp op) {
    auto m = matchWeightMatMul(op);
    if (!m || !op->hasAttr(kLayerAttrName))
      return WalkResult::advance();
    if (!seen.insert(m->layer).second)
      return WalkResult::advance();
    LayerInfo L;
    L.label = m->layer;
    L.K = m->K;
    L.N = m->N;
    L.excluded = filter.excludes(*m);
    auto data = readF32(m->weight.getValue());
    if (!data) {
      err = "cannot read the weight of layer '" + L.label + "'";
      ok = false;
      return WalkResult::interrupt();
    }
    QuantizedWeight q = quantizeWeightKN(*data, L.K, L.N, 8, true, 0);
    double sig = 0, noise = 0;
    for (int64_t k = 0; k < L.K; ++k)
      for (int64_t n = 0; n < L.N; ++n) {
        double w = (*data)[k * L.N + n];
        double d = (double)q.values[k * L.N + n] * q.scales[n];
        sig += w * w;
        noise += (w - d) * (w - d);
      }
    L.weightSQNR = noise > 0 ? 10 * std::log10(sig / noise) : INFINITY;
    L.wq = std::move(q.values);
    L.wScale = std::move(q.scales);
    layers.push_back(std::move(L));
    return WalkResult::advance();
  };
  auto conv = [&](linalg::GenericOp op) {
    auto c = matchWeightConv(op);
    if (!c || !op->hasAttr(kLayerAttrName) || !seen.insert(c->layer).second)
      return WalkResult::advance();
    LayerInfo L;
    L.label = c->layer;
    L.K = c->K;
    L.N = c->M;
    L.conv = true;
    L.excluded = filter.excludes(c->layer, c->weightName);
    auto data = readF32(c->weight.getValue());
    if (!data) {
      err = "cannot read the filter of layer '" + L.label + "'";
      ok = false;
      return WalkResult::interrupt();
    }
    QuantizedFilter q = quantizeFilter(*data, c->M, c->K, 8, true, 0);
    double sig = 0, noise = 0;
    for (int64_t m = 0; m < c->M; ++m)
      for (int64_t k = 0; k < c->K; ++k) {
        double w = (*data)[m * c->K + k];
        double d = (double)q.values[m * c->K + k] * q.scales[m];
        sig += w * w;
        noise += (w - d) * (w - d);
      }
    L.weightSQNR = noise > 0 ? 10 * std::log10(sig / noise) : INFINITY;
    L.wScale = std::move(q.scales);
    layers.push_back(std::move(L));
    return WalkResult::advance();
  };
  module.walk([&](Operation *op) {
    if (auto m = dyn_cast<MatMulOp>(op))
      return matmul(m);
    if (auto g = dyn_cast<linalg::GenericOp>(op))
      return conv(g);
    return WalkResult::advance();
  });
  return ok;
}

void calib::attachActParams(ModuleOp module,
                            const std::vector<LayerInfo> &layers,
                            std::vector<std::string> &missing) {
  std::map<std::string, const LayerInfo *> byLabel;
  for (const LayerInfo &L : layers)
    byLabel[L.label] = &L;
  Builder b(module.getContext());
  module.walk([&](Operation *op) {
    if (!isa<MatMulOp>(op) &&
        !(isa<linalg::GenericOp>(op) && op->hasAttr(kConvAttrName)))
      return;
    auto name = op->getAttrOfType<StringAttr>(kLayerAttrName);
    if (!name)
      return;
    auto it = byLabel.find(name.getValue().str());
    if (it == byLabel.end() || it->second->excluded)
      return;
    if (!it->second->hasAct) {
      missing.push_back(it->first);
      return;
    }
    op->setAttr(kActScaleAttrName, b.getF32FloatAttr(it->second->act.scale));
    op->setAttr(kActZpAttrName, b.getI64IntegerAttr(it->second->act.zeroPoint));
  });
}

/// y_q of the w8a8 layer on x ([M, K] row-major), as the compiled layer
/// computes it: xq = quantize(x), acc = sum_k (xq - zx) * wq (int32),
/// y = f32(acc) * f32(sx * sw[n]). Accumulates sum y^2, sum (y - y_q)^2.
static void accumulateSQNR(LayerInfo &L, const float *x, const float *y,
                           int64_t M) {
  QParams p{L.act.scale, L.act.zeroPoint};
  QRange r = QRange::get(8, L.act.isUnsigned);
  int64_t K = L.K, N = L.N;
  std::vector<int32_t> xq(K), acc(N);
  std::vector<float> comb(N);
  for (int64_t n = 0; n < N; ++n)
    comb[n] = L.act.scale * L.wScale[n];
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t k = 0; k < K; ++k)
      xq[k] = quantizeValue(x[m * K + k], p, r) - p.zeroPoint;
    std::fill(acc.begin(), acc.end(), 0);
    for (int64_t k = 0; k < K; ++k) {
      int32_t a = xq[k];
      if (!a)
        continue;
      const int8_t *w = L.wq.data() + k * N;
      for (int64_t n = 0; n < N; ++n)
        acc[n] += a * (int32_t)w[n];
    }
    for (int64_t n = 0; n < N; ++n) {
      double ref = y[m * N + n];
      double q = (float)acc[n] * comb[n];
      if (!std::isfinite(ref))
        continue;
      L.sigPower += ref * ref;
      L.noisePower += (ref - q) * (ref - q);
      ++L.outCount;
    }
  }
}

bool calib::measureOutputSQNR(Runner &runner, const std::vector<Sample> &samples,
                              std::vector<LayerInfo> &layers,
                              std::string &err) {
  std::map<std::string, size_t> byLabel;
  for (size_t i = 0; i < layers.size(); ++i)
    byLabel[layers[i].label] = i;
  // id -> (layer index, is output)
  std::map<int64_t, std::pair<size_t, bool>> roles;
  std::string suffix = kOutputObserverSuffix;
  for (const auto &[id, info] : runner.observers()) {
    StringRef label = info.label;
    bool out = label.consume_back(suffix);
    auto it = byLabel.find(label.str());
    if (it != byLabel.end())
      roles[id] = {it->second, out};
  }
  std::vector<std::vector<float>> lastInput(layers.size());
  std::function<void(int64_t, const float *, int64_t)> fn =
      [&](int64_t id, const float *x, int64_t n) {
        auto it = roles.find(id);
        if (it == roles.end())
          return;
        auto [li, out] = it->second;
        LayerInfo &L = layers[li];
        if (!out) {
          lastInput[li].assign(x, x + n);
          return;
        }
        const std::vector<float> &in = lastInput[li];
        if (!L.hasAct || L.excluded || L.conv || in.empty() ||
            in.size() % L.K)
          return;
        int64_t M = in.size() / L.K;
        if (M * L.N != n)
          return;
        accumulateSQNR(L, in.data(), x, M);
      };
  for (const Sample &s : samples)
    if (!runner.run(s, fn, err))
      return false;
  return true;
}
