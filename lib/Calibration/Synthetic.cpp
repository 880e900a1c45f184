//===- Synthetic.cpp - data-free calibration inputs for token-id LMs ------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/ActivationPrep.h"

#include "qopt/Support/TensorFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

LogicalResult calib::makeSyntheticCalibration(ModuleOp module, StringRef kind,
                                              int64_t count, int64_t sweeps,
                                              const PipelineOptions &pipeline,
                                              StringRef outPath,
                                              std::string &err) {
  if (kind != "model" && kind != "random") {
    err = "unknown synthetic calibration '" + kind.str() +
          "' (expected --calib=synthetic or --calib=synthetic:random)";
    return failure();
  }
  OwningOpRef<ModuleOp> clone(cast<ModuleOp>(module->clone()));
  auto runner = Runner::create(*clone, pipeline, err);
  if (!runner)
    return failure();
  // A token-id LM: one integer input [1, T] and logits [1, T, V].
  const auto &ins = runner->inputs();
  bool lm = ins.size() == 1 && (ins[0].dtype == 7 || ins[0].dtype == 6) &&
            ins[0].shape.size() == 2 && ins[0].shape[0] == 1 &&
            ins[0].shape[1] > 0 && runner->numOutputs() >= 1 &&
            runner->outputDtype(0) == 1 &&
            runner->outputShape(0).size() == 3 &&
            runner->outputShape(0)[1] == ins[0].shape[1];
  if (!lm) {
    err = "--calib=synthetic needs a token-id language model (one int64/int32 "
          "input [1, T] with a static T, first output f32 logits [1, T, V]) "
          "or an ONNX image model with BatchNormalization nodes; pass real "
          "calibration data with --calib=FILE";
    return failure();
  }
  int64_t T = ins[0].shape[1], V = runner->outputShape(0)[2];
  bool i64 = ins[0].dtype == 7;
  std::mt19937_64 rng(0x5eed);
  std::uniform_int_distribution<int64_t> uni(0, V - 1);
  std::vector<int64_t> all;
  all.reserve(count * T);
  Sample s(1);
  s[0].name = ins[0].name;
  s[0].dtype = ins[0].dtype;
  s[0].shape = ins[0].shape;
  s[0].data.resize(T * (i64 ? 8 : 4));
  auto noop = [](int64_t, const float *, int64_t) {};
  std::vector<double> p(V);
  for (int64_t c = 0; c < count; ++c) {
    std::vector<int64_t> seq(T);
    for (int64_t &t : seq)
      t = uni(rng);
    for (int64_t sw = 0; kind == "model" && sw < sweeps; ++sw) {
      for (int64_t t = 0; t < T; ++t) {
        if (i64)
          std::memcpy(s[0].data.data() + 8 * t, &seq[t], 8);
        else {
          int32_t v = (int32_t)seq[t];
          std::memcpy(s[0].data.data() + 4 * t, &v, 4);
        }
      }
      if (!runner->run(s, noop, err))
        return failure();
      const float *logits = (const float *)runner->outputData(0);
      // Position t's logits predict token t + 1 (causal LM).
      for (int64_t t = 0; t + 1 < T; ++t) {
        const float *l = logits + t * V;
        float mx = *std::max_element(l, l + V);
        for (int64_t v = 0; v < V; ++v)
          p[v] = std::isfinite(l[v]) ? std::exp((double)l[v] - mx) : 0.0;
        std::discrete_distribution<int64_t> d(p.begin(), p.end());
        seq[t + 1] = d(rng);
      }
    }
    all.insert(all.end(), seq.begin(), seq.end());
  }
  ::qopt::HostTensor out;
  out.dtype = ins[0].dtype;
  out.shape = {count, 1, T};
  if (i64) {
    out.data.resize(all.size() * 8);
    std::memcpy(out.data.data(), all.data(), out.data.size());
  } else {
    std::vector<int32_t> v(all.begin(), all.end());
    out.data.resize(v.size() * 4);
    std::memcpy(out.data.data(), v.data(), out.data.size());
  }
  return success(::qopt::writeNpy(outPath, out, err));
}
