//===- LLMDriver.cpp - GPTQ / AWQ / bias correction / mixed precision -----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Sequential calibration for the weight quantizers (Calibration.h,
// quantizeWithCalibration). Why stages: GPTQ and AWQ fit each layer to the
// inputs it will see, and those inputs change once earlier layers are
// quantized; re-running the partially quantized model per transformer
// block (one JIT build per stage) gives later blocks the real inputs,
// while layers inside one block see FP32 inputs from their block (enough
// on llama-tiny, and it keeps the number of builds = blocks + 1).
//
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"

#include "../Transforms/QuantUtils.h"
#include "MixedPrecision.h"
#include "mlir/Pass/PassManager.h"
#include "qopt/Transforms/LLMQuant.h"
#include "qopt/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <Eigen/Core>

#include <chrono>
#include <cmath>
#include <map>
#include <set>

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

namespace {
double gBuildSeconds = 0, gRunSeconds = 0; ///< summary: where the time went
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

struct Layer {
  std::string label, rep; ///< rep: the layer whose input statistics it shares
  int64_t K = 0, N = 0;
  int64_t stage = 0;
  MatMulOp op;
  int bits = 0; ///< chosen by --mixed-precision (0: the scheme's)
  double err4 = NAN, err8 = NAN;
};

/// Input statistics of one layer over the calibration rows.
struct Acc {
  int64_t K = 0;
  Eigen::MatrixXf xtx; ///< lower triangle of sum x^T x
  std::vector<double> sum, sumAbs;
  uint64_t rows = 0;
  void add(const float *x, int64_t numel) {
    if (xtx.size() == 0) {
      xtx = Eigen::MatrixXf::Zero(K, K);
      sum.assign(K, 0);
      sumAbs.assign(K, 0);
    }
    int64_t m = numel / K;
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                   Eigen::RowMajor>>
        X(x, m, K);
    xtx.selfadjointView<Eigen::Lower>().rankUpdate(X.transpose());
    for (int64_t r = 0; r < m; ++r)
      for (int64_t k = 0; k < K; ++k) {
        float v = x[r * K + k];
        sum[k] += v;
        sumAbs[k] += std::fabs(v);
      }
    rows += m;
  }
  std::vector<double> hessian() const {
    std::vector<double> h(K * K);
    double f = rows ? 2.0 / (double)rows : 0;
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j <= i; ++j)
        h[i * K + j] = h[j * K + i] = f * xtx(i, j);
    return h;
  }
};

/// The first number in a layer name (transformer block), else "after all".
int64_t stageOf(StringRef label) {
  size_t p = label.find_first_of("0123456789");
  if (p == StringRef::npos)
    return INT64_MAX;
  int64_t v = 0;
  for (; p < label.size() && isDigit(label[p]) && v < (INT64_MAX / 10 - 9); ++p)
    v = v * 10 + (label[p] - '0');
  return v;
}

LogicalResult runPasses(ModuleOp m, llvm::function_ref<void(PassManager &)> fill,
                        std::string &err, StringRef what) {
  PassManager pm(m.getContext());
  fill(pm);
  if (failed(pm.run(m))) {
    err = (what + " failed").str();
    return failure();
  }
  return success();
}

/// The calibration build of the current module and its samples. A build
/// is reused across stages when the quantized layers can be swapped into
/// it as f32 weights that compute the same product (Runner::
/// replaceConstant); otherwise (bias correction adds ops) it is rebuilt.
struct Session {
  const LLMQuantOptions &o;
  std::vector<Sample> samples;
  std::unique_ptr<Runner> runner;
  bool stale = true;
  int builds = 0;

  bool build(ModuleOp module, std::string &err) {
    runner.reset();
    OwningOpRef<ModuleOp> clone(cast<ModuleOp>(module->clone()));
    QOptInsertObserversPassOptions io;
    io.observeOutputs = false;
    if (failed(runPasses(
            *clone,
            [&](PassManager &pm) {
              pm.addPass(createQOptInsertObserversPass(io));
            },
            err, "inserting the calibration observers")))
      return false;
    auto tb = std::chrono::steady_clock::now();
    runner = Runner::create(*clone, o.pipeline, err);
    gBuildSeconds += since(tb);
    ++builds;
    if (!runner)
      return false;
    if (samples.empty() &&
        !loadCalibrationData(o.calibPath, runner->inputs(), o.maxSamples,
                             samples, err))
      return false;
    if (samples.empty()) {
      err = "'" + o.calibPath + "' holds no calibration sample";
      return false;
    }
    stale = false;
    return true;
  }

  /// Accumulates the input statistics of the layers in `wanted` (labels).
  bool collect(ModuleOp module, const std::set<std::string> &wanted,
               std::map<std::string, Acc> &acc,
               const std::map<std::string, int64_t> &widths, StringRef what,
               std::string &err) {
    if (stale && !build(module, err))
      return false;
    std::map<int64_t, Acc *> byId;
    for (const auto &[id, info] : runner->observers())
      if (wanted.count(info.label)) {
        Acc &a = acc[info.label];
        a.K = widths.at(info.label);
        byId[id] = &a;
      }
    std::function<void(int64_t, const float *, int64_t)> fn =
        [&](int64_t id, const float *x, int64_t n) {
          auto it = byId.find(id);
          if (it != byId.end() && n % it->second->K == 0)
            it->second->add(x, n);
        };
    auto tr = std::chrono::steady_clock::now();
    for (size_t i = 0; i < samples.size(); ++i) {
      if (!runner->run(samples[i], fn, err))
        return false;
      if (o.progress) {
        errs() << formatv("\rqopt-compile: {0}: calibrating {1}/{2} samples",
                          what, i + 1, samples.size());
        if (i + 1 == samples.size())
          errs() << "\n";
        errs().flush();
      }
    }
    gRunSeconds += since(tr);
    return true;
  }

  /// After a stage: the f32 weight each of its layers now computes with,
  /// written over its FP32 weight in the build.
  void swapIn(MatMulOp op, int64_t K, int64_t N,
              const std::vector<float> &original) {
    if (stale || !runner)
      return;
    std::optional<std::vector<float>> w;
    if (auto deq = op.getRhs().getDefiningOp<DequantizeOp>())
      w = readDequantizedWeight(deq, K, N);
    else if (auto c = op.getRhs().getDefiningOp<arith::ConstantOp>())
      w = readF32(c.getValue());
    if (w && (int64_t)w->size() == K * N)
      if (auto s = readF32(op->getAttr(kAWQScaleAttrName)))
        for (int64_t k = 0; k < K; ++k)
          for (int64_t n = 0; n < N; ++n)
            (*w)[k * N + n] /= (*s)[k];
    if (!w || (int64_t)w->size() != K * N ||
        !runner->replaceConstant(
            ArrayRef<char>((const char *)original.data(), original.size() * 4),
            ArrayRef<char>((const char *)w->data(), w->size() * 4)))
      stale = true;
  }
};

DenseElementsAttr f32Attr(Builder &b, ArrayRef<int64_t> shape,
                          ArrayRef<float> v) {
  return DenseElementsAttr::get(RankedTensorType::get(shape, b.getF32Type()),
                                v);
}

double groupedBPW(unsigned bits, int64_t gs, int64_t K, bool sym) {
  int64_t g = (gs <= 0 || gs >= K) ? K : gs;
  return bits + (32.0 + (sym ? 0 : 8)) / (double)g;
}
} // namespace

LogicalResult calib::quantizeWithCalibration(ModuleOp module,
                                             const LLMQuantOptions &o,
                                             std::string &err) {
  auto t0 = std::chrono::steady_clock::now();
  gBuildSeconds = gRunSeconds = 0;
  MLIRContext *ctx = module.getContext();
  std::string what = o.gptq && o.awq ? "awq+gptq"
                     : o.gptq        ? "gptq"
                     : o.awq         ? "awq"
                                     : "rtn";
  if (o.reconstruct > 0)
    what = what == "rtn" ? "reconstruct" : what + "+reconstruct";
  // Name the layers (qopt.layer) as the calibration builds will.
  QOptInsertObserversPassOptions io;
  io.observeOutputs = false;
  if (failed(runPasses(
          module,
          [&](PassManager &pm) { pm.addPass(createQOptInsertObserversPass(io)); },
          err, "naming the layers")))
    return failure();
  {
    SmallVector<ObserveOp> obs;
    module.walk([&](ObserveOp op) { obs.push_back(op); });
    for (ObserveOp op : obs) {
      op.getResult().replaceAllUsesWith(op.getInput());
      op.erase();
    }
  }
  ExcludeFilter filter;
  if (failed(filter.init(o.exclude, err))) {
    err = "bad --exclude regex '" + o.exclude + "': " + err;
    return failure();
  }
  std::vector<Layer> layers;
  std::map<std::string, int64_t> widths;
  DenseMap<Value, std::string> repOf;
  std::map<std::string, std::vector<float>> weights;
  bool ok = true;
  module.walk([&](MatMulOp op) {
    auto m = matchWeightMatMul(op);
    if (!m || filter.excludes(*m))
      return;
    Layer L;
    L.label = m->layer;
    L.K = m->K;
    L.N = m->N;
    L.op = op;
    L.stage = stageOf(L.label);
    auto [it, fresh] = repOf.try_emplace(op.getLhs(), L.label);
    L.rep = it->second;
    widths[L.label] = L.K;
    auto w = readF32(m->weight.getValue());
    if (!w) {
      err = "cannot read the weight of layer '" + L.label + "'";
      ok = false;
      return;
    }
    weights[L.label] = std::move(*w);
    layers.push_back(std::move(L));
  });
  if (!ok)
    return failure();
  if (layers.empty()) {
    err = "no layer to quantize (matmuls with a constant f32 weight)";
    return failure();
  }
  std::vector<int64_t> stages;
  for (const Layer &L : layers)
    stages.push_back(L.stage);
  llvm::sort(stages);
  stages.erase(std::unique(stages.begin(), stages.end()), stages.end());

  Session sess{o, {}, nullptr};
  std::map<std::string, Acc> acc;
  Builder b(ctx);
  raw_ostream &log = errs();

  // Mixed precision: every layer's sensitivity from the FP32 model.
  std::vector<PrecisionChoice> choices;
  if (o.mixedBits > 0) {
    std::set<std::string> all;
    for (const Layer &L : layers)
      all.insert(L.rep);
    if (!sess.collect(module, all, acc, widths, "mixed precision", err))
      return failure();
    for (Layer &L : layers) {
      std::vector<double> h = acc[L.rep].hessian();
      const std::vector<float> &w = weights[L.label];
      double sig = outputEnergy(w, L.K, L.N, h);
      for (unsigned bits : {4u, 8u}) {
        GPTQOptions go;
        go.grid = {bits, o.symmetric, bits == 4 ? o.groupSize : 0};
        go.actOrder = o.actOrder;
        go.damp = o.damp;
        go.clipSearch = o.clipSearch;
        QuantizedWeight q;
        if (!o.gptq || !gptqQuantize(w, L.K, L.N, h, go, q, err))
          q = rtnQuantize(w, L.K, L.N, go.grid);
        double e = outputError(w, dequantizeKN(q, L.K, L.N), L.K, L.N, h);
        (bits == 4 ? L.err4 : L.err8) = sig > 0 ? e / sig : 0;
      }
      PrecisionChoice c;
      c.params = L.K * L.N;
      c.bpw[0] = groupedBPW(4, o.groupSize, L.K, o.symmetric);
      c.bpw[1] = groupedBPW(8, 0, L.K, o.symmetric);
      c.damage[0] = L.err4;
      c.damage[1] = L.err8;
      choices.push_back(c);
    }
    if (!choosePrecisions(choices, o.mixedBits))
      log << formatv("qopt-compile: warning: --mixed-precision={0}: even "
                     "all-int4 needs more bits per weight; using int4\n",
                     o.mixedBits);
    static const int kBits[3] = {4, 8, 32};
    for (size_t i = 0; i < layers.size(); ++i) {
      layers[i].bits = kBits[choices[i].pick];
      layers[i].op->setAttr(kWeightBitsAttrName,
                            b.getI64IntegerAttr(layers[i].bits));
    }
  }

  // Stage by stage: statistics of the current (partly quantized) model,
  // then the passes on that stage's layers.
  for (size_t si = 0; si < stages.size(); ++si) {
    std::set<std::string> wanted;
    for (const Layer &L : layers)
      if (L.stage == stages[si])
        wanted.insert(L.rep);
    bool have = o.mixedBits > 0 && si == 0;
    if (!have) {
      for (const std::string &r : wanted)
        acc.erase(r);
      std::string tag = formatv("{0}: stage {1}/{2}", what, si + 1,
                                stages.size());
      if (!sess.collect(module, wanted, acc, widths, tag, err))
        return failure();
    }
    for (Layer &L : layers) {
      if (L.stage != stages[si])
        continue;
      const Acc &a = acc[L.rep];
      if (!a.rows)
        continue; // never reached: RTN later
      std::vector<double> h = a.hessian();
      std::vector<float> hf(h.begin(), h.end()), mean(L.K), meanAbs(L.K);
      for (int64_t k = 0; k < L.K; ++k) {
        mean[k] = (float)(a.sum[k] / a.rows);
        meanAbs[k] = (float)(a.sumAbs[k] / a.rows);
      }
      L.op->setAttr(kHessianAttrName, f32Attr(b, {L.K, L.K}, hf));
      L.op->setAttr(kActMeanAbsAttrName, f32Attr(b, {L.K}, meanAbs));
      if (o.biasCorrection) {
        const std::vector<float> &w = weights[L.label];
        std::vector<float> out(L.N, 0);
        for (int64_t k = 0; k < L.K; ++k)
          for (int64_t n = 0; n < L.N; ++n)
            out[n] += mean[k] * w[k * L.N + n];
        L.op->setAttr(kActMeanAttrName, f32Attr(b, {L.K}, mean));
        L.op->setAttr(kOutMeanAttrName, f32Attr(b, {L.N}, out));
      }
    }
    for (const std::string &r : wanted)
      acc.erase(r); // free the stage's X^T X
    std::string scheme = o.symmetric ? "sym" : "asym";
    if (failed(runPasses(
            module,
            [&](PassManager &pm) {
              if (o.awq) {
                QOptAWQPassOptions ao;
                ao.bits = o.bits;
                ao.groupSize = o.groupSize;
                ao.scheme = scheme;
                ao.scaleOnly = o.gptq || o.reconstruct > 0;
                pm.addPass(createQOptAWQPass(ao));
              }
              if (o.reconstruct > 0) {
                QOptReconstructPassOptions ro;
                ro.bits = o.bits;
                ro.groupSize = o.groupSize;
                ro.scheme = scheme;
                ro.iters = o.reconstruct;
                ro.init = o.gptq ? "gptq" : "rtn";
                ro.actOrder = o.actOrder;
                ro.damp = o.damp;
                ro.clip = o.clipSearch;
                ro.verbose = true;
                pm.addPass(createQOptReconstructPass(ro));
              } else if (!o.awq || o.gptq) {
                QOptGPTQPassOptions go;
                go.bits = o.bits;
                go.groupSize = o.groupSize;
                go.scheme = scheme;
                go.actOrder = o.actOrder;
                go.damp = o.damp;
                go.rtn = !o.gptq;
                go.clip = o.clipSearch;
                pm.addPass(createQOptGPTQPass(go));
              }
              if (o.biasCorrection)
                pm.addPass(createQOptBiasCorrectionPass());
            },
            err, what)))
      return failure();
    if (si + 1 == stages.size())
      break;
    if (o.biasCorrection)
      sess.stale = true; // the corrections are new ops: rebuild
    for (Layer &L : layers)
      if (L.stage == stages[si])
        sess.swapIn(L.op, L.K, L.N, weights[L.label]);
  }
  sess.runner.reset();

  // Summary (stderr) and report.
  double sumErr = 0, sumRtn = 0, totalBits = 0;
  int64_t totalParams = 0, counted = 0;
  json::Array rows;
  for (Layer &L : layers) {
    Operation *op = L.op;
    json::Object row{{"name", L.label}, {"K", L.K}, {"N", L.N}};
    double e = NAN, r = NAN;
    if (auto a = op->getAttrOfType<FloatAttr>("qopt.out_err"))
      e = a.getValueAsDouble();
    if (auto a = op->getAttrOfType<FloatAttr>("qopt.rtn_out_err"))
      r = a.getValueAsDouble();
    int bits = L.bits ? L.bits : (int)o.bits;
    double bpw = bits == 32  ? 32.0
                 : bits == 4 ? groupedBPW(4, o.groupSize, L.K, o.symmetric)
                             : groupedBPW(8, 0, L.K, o.symmetric);
    totalBits += bpw * L.K * L.N;
    totalParams += L.K * L.N;
    row["bits"] = bits;
    row["bits_per_weight"] = bpw;
    if (std::isfinite(e)) {
      row["output_rel_error"] = e;
      row["rtn_output_rel_error"] = r;
      sumErr += e;
      sumRtn += r;
      ++counted;
    }
    if (auto a = op->getAttrOfType<FloatAttr>("qopt.start_out_err"))
      row["start_output_rel_error"] = a.getValueAsDouble();
    if (auto a = op->getAttrOfType<FloatAttr>("qopt.awq_alpha"))
      row["awq_alpha"] = a.getValueAsDouble();
    if (std::isfinite(L.err4)) {
      row["sensitivity_int4"] = L.err4;
      row["sensitivity_int8"] = L.err8;
    }
    rows.push_back(std::move(row));
    for (StringRef n : {"qopt.out_err", "qopt.rtn_out_err", "qopt.awq_alpha",
                        "qopt.start_out_err",
                        kActMeanAbsAttrName, kActMeanAttrName, kAWQScaleAttrName,
                        kOutMeanAttrName, kHessianAttrName})
      op->removeAttr(n);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              t0)
                    .count();
  double avgBits = totalParams ? totalBits / totalParams : 0;
  int64_t bytes = (int64_t)std::llround(totalBits / 8);
  log << formatv("qopt-compile: {0}{1}{2}: {3} layers in {4} stages, {5} "
                 "calibration samples, {11} builds, mean relative output error {6:e3} "
                 "(round-to-nearest {7:e3}), {8:f1} s ({9:f1} s building, {10:f1} s "
                 "running the calibration builds)\n",
                 what, o.biasCorrection ? "+bias-correction" : "",
                 o.mixedBits > 0 ? "+mixed-precision" : "", layers.size(),
                 stages.size(), sess.samples.size(),
                 counted ? sumErr / counted : NAN,
                 counted ? sumRtn / counted : NAN, secs, gBuildSeconds,
                 gRunSeconds, sess.builds);
  if (o.mixedBits > 0) {
    raw_ostream &os = outs();
    os << formatv("mixed precision (budget {0:f2} bits/weight): average "
                  "{1:f3} bits/weight, {2} bytes of linear weights (f32: "
                  "{3})\n",
                  o.mixedBits, avgBits, bytes, totalParams * 4);
    for (const Layer &L : layers)
      os << formatv("  {0,-4} {1}  (int4 err {2:e2}, int8 err {3:e2})\n",
                    L.bits == 32 ? "f32" : L.bits == 8 ? "int8" : "int4",
                    L.label, L.err4, L.err8);
    os.flush();
  }
  if (!o.reportPath.empty()) {
    json::Object root{
        {"format", "qopt-weight-quantization-report"},
        {"model", o.modelName},
        {"algorithm", what},
        {"bias_correction", o.biasCorrection},
        {"weight_bits", (int64_t)o.bits},
        {"group_size", o.groupSize},
        {"weight_scheme", o.symmetric ? "sym" : "asym"},
        {"samples", (int64_t)sess.samples.size()},
        {"calibration_builds", sess.builds},
        {"stages", (int64_t)stages.size()},
        {"seconds", secs},
        {"average_bits_per_weight", avgBits},
        {"linear_weight_bytes", bytes},
        {"description",
         "output_rel_error = tr(dW^T H dW) / tr(W^T H W) with H = 2/M X^T X "
         "of the layer's calibration inputs (1/SQNR of the layer output); "
         "rtn_output_rel_error: the same for round-to-nearest; "
         "start_output_rel_error: the start of --reconstruct (RTN or GPTQ); "
         "sensitivity_int4/int8: that error of the FP32-input layer alone at "
         "4 / 8 bits (mixed precision); bits_per_weight counts the scales "
         "(f32) and zero points (i8)"},
        {"layers", std::move(rows)}};
    if (o.mixedBits > 0)
      root["mixed_precision_budget"] = o.mixedBits;
    std::string text;
    raw_string_ostream os(text);
    os << formatv("{0:2}", json::Value(std::move(root))) << "\n";
    if (Error e = writeToOutput(o.reportPath, [&](raw_ostream &f) -> Error {
          f << text;
          return Error::success();
        })) {
      err = "cannot write '" + o.reportPath + "': " + toString(std::move(e));
      return failure();
    }
  }
  return success();
}
