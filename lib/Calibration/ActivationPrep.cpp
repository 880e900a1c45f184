//===- ActivationPrep.cpp - calibration for SmoothQuant / LLM.int8() ------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/ActivationPrep.h"

#include "../Transforms/QuantUtils.h"
#include "mlir/Pass/PassManager.h"
#include "qopt/Transforms/OutlierQuant.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/QuantMath.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

namespace {
/// One group of matmuls sharing an input, for the alpha search.
struct SearchGroup {
  std::vector<std::string> labels;
  std::vector<std::vector<float>> weights; ///< [K, N] each
  std::vector<int64_t> Ns;
  std::vector<MatMulOp> ops;
  int64_t K = 0;
};

/// Fake-quantizes x ([M, K]) in place as the later activation quantizer
/// would: static per tensor (the calibration method on x's statistics) or
/// dynamic per token / per tensor.
void fakeQuantizeActs(std::vector<float> &x, int64_t M, int64_t K,
                      const ActivationPrepOptions &o) {
  QRange r = QRange::get(8, o.asym);
  auto apply = [&](size_t begin, size_t end, QParams p) {
    for (size_t i = begin; i < end; ++i)
      x[i] = dequantizeValue(quantizeValue(x[i], p, r), p);
  };
  if (o.staticAct) {
    TensorStats s;
    s.addRange(x.data(), (int64_t)x.size(), K);
    s.histRange = s.absMax();
    s.addHistogram(x.data(), (int64_t)x.size());
    ActParams a = computeActParams(s, o.method, o.asym);
    apply(0, x.size(), QParams{a.scale, a.zeroPoint});
    return;
  }
  int64_t rows = o.perToken ? M : 1, len = o.perToken ? K : M * K;
  for (int64_t m = 0; m < rows; ++m) {
    float lo = 0, hi = 0;
    for (int64_t i = m * len; i < (m + 1) * len; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    QParams p = o.asym ? asymmetricParams(lo, hi, r)
                       : symmetricParams(std::max(-lo, hi), r);
    apply(m * len, (m + 1) * len, p);
  }
}

/// sum ||X W - Q(X / s) Q(s W)||^2 over the group's matmuls.
double groupError(const SearchGroup &g, const std::vector<float> &X, int64_t M,
                  const std::vector<std::vector<float>> &ref,
                  const std::vector<float> &actMax, double alpha,
                  const ActivationPrepOptions &o) {
  int64_t K = g.K;
  std::vector<float> wMax(K, 0.0f);
  for (size_t i = 0; i < g.weights.size(); ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < g.Ns[i]; ++n)
        wMax[k] = std::max(wMax[k], std::fabs(g.weights[i][k * g.Ns[i] + n]));
  std::vector<float> s = smoothQuantFactors(actMax, wMax, alpha);
  std::vector<float> xs(X.size());
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k)
      xs[m * K + k] = X[m * K + k] / s[k];
  fakeQuantizeActs(xs, M, K, o);
  double err = 0;
  for (size_t i = 0; i < g.weights.size(); ++i) {
    int64_t N = g.Ns[i];
    std::vector<float> w(g.weights[i]);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        w[k * N + n] *= s[k];
    QuantizedWeight q = quantizeWeightKN(w, K, N, 8, true, 0);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        w[k * N + n] = (float)q.values[k * N + n] * q.scales[n];
    std::vector<float> y(N);
    for (int64_t m = 0; m < M; ++m) {
      std::fill(y.begin(), y.end(), 0.0f);
      for (int64_t k = 0; k < K; ++k) {
        float a = xs[m * K + k];
        if (a == 0.0f)
          continue;
        const float *wr = w.data() + k * N;
        for (int64_t n = 0; n < N; ++n)
          y[n] += a * wr[n];
      }
      const float *yr = ref[i].data() + m * N;
      for (int64_t n = 0; n < N; ++n) {
        double d = (double)y[n] - yr[n];
        err += d * d;
      }
    }
  }
  return err;
}
} // namespace

LogicalResult calib::attachActivationStatistics(ModuleOp module,
                                                const ActivationPrepOptions &o,
                                                std::vector<PrepLayer> &layers,
                                                std::string &err) {
  MLIRContext *ctx = module.getContext();
  {
    PassManager pm(ctx);
    QOptInsertObserversPassOptions io;
    io.observeOutputs = false;
    pm.addPass(createQOptInsertObserversPass(io));
    if (failed(pm.run(module))) {
      err = "inserting the calibration observers failed";
      return failure();
    }
  }
  // The calibration build is a clone; the module keeps the layer names.
  OwningOpRef<ModuleOp> clone(cast<ModuleOp>(module->clone()));
  {
    SmallVector<ObserveOp> obs;
    module.walk([&](ObserveOp op) { obs.push_back(op); });
    for (ObserveOp op : obs) {
      op.getResult().replaceAllUsesWith(op.getInput());
      op.erase();
    }
  }
  auto runner = Runner::create(*clone, o.pipeline, err);
  if (!runner)
    return failure();
  std::vector<Sample> samples;
  if (!loadCalibrationData(o.calibPath, runner->inputs(), o.maxSamples,
                           samples, err))
    return failure();
  bool search = o.smoothQuant == "auto";
  StatsMap stats;
  std::map<std::string, std::vector<float>> captured;
  const auto &obs = runner->observers();
  for (size_t i = 0; i < samples.size(); ++i) {
    bool keep = search && (int64_t)i < o.searchSamples;
    std::function<void(int64_t, const float *, int64_t)> fn =
        [&](int64_t id, const float *x, int64_t n) {
          auto it = obs.find(id);
          if (it == obs.end())
            return;
          TensorStats &s = stats[it->second.label];
          s.label = it->second.label;
          s.addRange(x, n, it->second.lastDim);
          if (keep) {
            auto &c = captured[it->second.label];
            c.insert(c.end(), x, x + n);
          }
        };
    if (!runner->run(samples[i], fn, err))
      return failure();
    if (o.progress) {
      errs() << formatv("\rqopt-compile: activation statistics: {0}/{1} "
                        "samples",
                        i + 1, samples.size());
      if (i + 1 == samples.size())
        errs() << "\n";
      errs().flush();
    }
  }
  runner.reset();

  // Attach max|x| per channel; group the matmuls by their input.
  ExcludeFilter filter;
  if (failed(filter.init(o.exclude, err))) {
    err = "bad --exclude regex '" + o.exclude + "': " + err;
    return failure();
  }
  llvm::MapVector<Value, SearchGroup> groups;
  std::map<std::string, size_t> layerIndex;
  module.walk([&](MatMulOp op) {
    auto m = matchWeightMatMul(op);
    auto name = op->getAttrOfType<StringAttr>("qopt.layer");
    if (!m || !name || filter.excludes(*m))
      return;
    auto it = stats.find(name.getValue().str());
    if (it == stats.end() ||
        (int64_t)it->second.channelAbsMax.size() != m->K)
      return;
    const std::vector<float> &cm = it->second.channelAbsMax;
    auto ty = RankedTensorType::get({m->K}, Float32Type::get(ctx));
    op->setAttr(kActAbsMaxAttrName,
                DenseElementsAttr::get(ty, ArrayRef<float>(cm)));
    PrepLayer L;
    L.label = it->first;
    L.K = m->K;
    L.actAbsMax = *std::max_element(cm.begin(), cm.end());
    if (o.llmInt8 > 0)
      L.outliers = llvm::count_if(cm, [&](float v) { return v > o.llmInt8; });
    layerIndex[L.label] = layers.size();
    layers.push_back(L);
    if (search) {
      SearchGroup &g = groups[op.getLhs()];
      auto w = readF32(m->weight.getValue());
      if (!w)
        return;
      g.K = m->K;
      g.labels.push_back(L.label);
      g.weights.push_back(std::move(*w));
      g.Ns.push_back(m->N);
      g.ops.push_back(op);
    }
  });
  if (!search)
    return success();

  size_t done = 0;
  for (auto &[x, g] : groups) {
    ++done;
    const std::vector<float> &X = captured[g.labels.front()];
    int64_t K = g.K;
    if (X.empty() || X.size() % K)
      continue;
    int64_t M = (int64_t)X.size() / K;
    // The group's channel maxima (all members read the same input).
    std::vector<float> actMax(K, 0.0f);
    for (const std::string &l : g.labels)
      for (int64_t k = 0; k < K; ++k)
        actMax[k] = std::max(actMax[k], stats[l].channelAbsMax[k]);
    std::vector<std::vector<float>> ref(g.weights.size());
    for (size_t i = 0; i < g.weights.size(); ++i) {
      int64_t N = g.Ns[i];
      ref[i].assign(M * N, 0.0f);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k) {
          float a = X[m * K + k];
          for (int64_t n = 0; n < N; ++n)
            ref[i][m * N + n] += a * g.weights[i][k * N + n];
        }
    }
    double best = 0.5, bestErr = INFINITY;
    for (int step = 0; step <= 10; ++step) {
      double a = step / 10.0;
      double e = groupError(g, X, M, ref, actMax, a, o);
      if (e < bestErr) {
        bestErr = e;
        best = a;
      }
    }
    for (size_t i = 0; i < g.ops.size(); ++i) {
      g.ops[i]->setAttr(kSmoothAlphaAttrName,
                        FloatAttr::get(Float64Type::get(ctx), best));
      layers[layerIndex[g.labels[i]]].alpha = best;
    }
    if (o.progress) {
      errs() << formatv("\rqopt-compile: smoothquant alpha search: {0}/{1} "
                        "layer groups",
                        done, groups.size());
      if (done == groups.size())
        errs() << "\n";
      errs().flush();
    }
  }
  return success();
}
