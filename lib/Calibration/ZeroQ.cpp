//===- ZeroQ.cpp - data-free calibration inputs for CNNs ------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/ZeroQ.h"

#include "qopt/Calibration/DiffPrefix.h"
#include "qopt/Dialect/QONNX/QONNXDialect.h"
#include "qopt/Support/TensorFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

bool calib::hasBatchNorm(ModuleOp module) {
  bool found = false;
  module.walk([&](qonnx::NodeOp op) {
    if (op.getOpType() == "BatchNormalization" && op.getDomain().empty())
      found = true;
  });
  return found;
}

/// The ZeroQ loss over all BatchNormalization inputs of the last forward,
/// and its gradient with respect to each of them.
static double statisticsLoss(const DiffPrefix &net, std::vector<Act> &grads) {
  double loss = 0;
  const auto &bns = net.batchNorms();
  grads.resize(bns.size());
  for (size_t l = 0; l < bns.size(); ++l) {
    const Act &x = net.batchNormInput(l);
    int64_t N = x.shape[0], C = x.shape[1], P = x.numel() / (N * C);
    std::vector<double> mean(C, 0), var(C, 0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const float *p = x.v.data() + (n * C + c) * P;
        double s = 0;
        for (int64_t k = 0; k < P; ++k)
          s += p[k];
        mean[c] += s;
      }
    for (double &m : mean)
      m /= (double)(N * P);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const float *p = x.v.data() + (n * C + c) * P;
        double s = 0;
        for (int64_t k = 0; k < P; ++k)
          s += (p[k] - mean[c]) * (p[k] - mean[c]);
        var[c] += s;
      }
    Act &g = grads[l];
    g.shape = x.shape;
    g.v.resize(x.v.size());
    double count = (double)(N * P);
    std::vector<float> a(C), b(C);
    for (int64_t c = 0; c < C; ++c) {
      double sd = std::sqrt(var[c] / count + 1e-8);
      double dm = mean[c] - bns[l].mean[c], ds = sd - bns[l].stddev[c];
      loss += (dm * dm + ds * ds) / C;
      // d/dx of (m - mu)^2 + (s - sigma)^2 over C: the mean term is uniform,
      // the std term is proportional to (x - m).
      a[c] = (float)(2 * ds / (C * count * sd));
      b[c] = (float)(2 * dm / (C * count) - a[c] * mean[c]);
    }
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const float *p = x.v.data() + (n * C + c) * P;
        float *q = g.v.data() + (n * C + c) * P;
        for (int64_t k = 0; k < P; ++k)
          q[k] = a[c] * p[k] + b[c];
      }
  }
  return loss;
}

LogicalResult calib::makeBatchNormMatchedInputs(ModuleOp module,
                                                const ZeroQOptions &o,
                                                StringRef outPath,
                                                ZeroQReport &r,
                                                std::string &err) {
  auto func = module.lookupSymbol<func::FuncOp>("main");
  if (!func) {
    func::FuncOp first;
    module.walk([&](func::FuncOp f) {
      if (!first)
        first = f;
    });
    func = first;
  }
  if (!func) {
    err = "--calib=synthetic: the module has no function";
    return failure();
  }
  std::string why;
  std::unique_ptr<DiffPrefix> net = DiffPrefix::build(func, why);
  if (!net) {
    err = "--calib=synthetic (BatchNorm statistics matching) " + why +
          "; pass real calibration data with --calib=FILE";
    return failure();
  }
  r.batchNorms = net->batchNorms().size();
  ArrayRef<int64_t> in = net->inputShape();
  int64_t B = in[0] > 0 ? in[0] : 1;
  Act x;
  x.shape = {o.count * B, in[1], in[2], in[3]};
  x.v.resize(x.numel());
  std::mt19937_64 rng(0x5eed);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float &v : x.v)
    v = normal(rng);

  std::vector<Act> grads;
  Act dx;
  std::vector<float> m1(x.v.size(), 0.f), m2(x.v.size(), 0.f);
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  for (int64_t step = 0; step <= o.steps; ++step) {
    if (!net->forward(x, err)) {
      err = "--calib=synthetic: " + err;
      return failure();
    }
    double loss = statisticsLoss(*net, grads);
    if (step == 0)
      r.lossBefore = loss;
    r.lossAfter = loss;
    if (o.progress && (step % 100 == 0 || step == o.steps))
      errs() << formatv("qopt: synthetic calibration (BatchNorm statistics, "
                        "{0} layers): step {1}/{2}, loss {3:e3}\n",
                        r.batchNorms, step, o.steps, loss);
    if (step == o.steps || !std::isfinite(loss))
      break;
    net->backward(grads, dx);
    double t = (double)(step + 1);
    double c1 = 1 - std::pow(beta1, t), c2 = 1 - std::pow(beta2, t);
    for (size_t i = 0; i < x.v.size(); ++i) {
      double g = dx.v[i];
      m1[i] = (float)(beta1 * m1[i] + (1 - beta1) * g);
      m2[i] = (float)(beta2 * m2[i] + (1 - beta2) * g * g);
      x.v[i] -= (float)(o.learningRate * (m1[i] / c1) /
                        (std::sqrt(m2[i] / c2) + eps));
    }
  }
  if (!std::isfinite(r.lossAfter)) {
    err = "--calib=synthetic: the BatchNorm statistics loss diverged";
    return failure();
  }

  ::qopt::HostTensor out;
  out.dtype = 1;
  out.shape = {o.count};
  out.shape.insert(out.shape.end(), in.begin(), in.end());
  out.data.resize(x.v.size() * 4);
  std::memcpy(out.data.data(), x.v.data(), out.data.size());
  return success(::qopt::writeNpy(outPath, out, err));
}
