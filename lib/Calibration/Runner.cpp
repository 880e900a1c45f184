//===- Runner.cpp - JIT-run the instrumented FP32 model --------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/Calibration.h"

#include "../Transforms/QuantUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/Pass/PassManager.h"
#include "qopt/Target/LLVMIR/EmitObject.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/StaticQuant.h"
#include "qopt/qopt_runtime.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

extern "C" int omp_get_max_threads(void);

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

//===----------------------------------------------------------------------===//
// The collector entry point called by calibration builds.
//===----------------------------------------------------------------------===//

static const std::function<void(int64_t, const float *, int64_t)> *gObserve;

extern "C" __attribute__((visibility("default"), used)) void
qopt_observe(int64_t id, const float *data, int64_t numel) {
  if (gObserve)
    (*gObserve)(id, data, numel);
}

struct Runner::Impl {
  JITModel jit;
  std::vector<char> blob;
  void *weights = nullptr;
  size_t weightsSize = 0;
  qopt_model *model = nullptr;
  std::vector<std::vector<char>> outData;
  std::vector<std::vector<int64_t>> outShape;
  std::vector<qopt_tensor> outs;
  ~Impl() {
    if (model)
      qopt_model_free(model);
    std::free(weights);
  }
};

Runner::~Runner() = default;

std::unique_ptr<Runner> Runner::create(ModuleOp module,
                                       const PipelineOptions &popts,
                                       std::string &err) {
  (void)omp_get_max_threads; // JIT-compiled models call libomp
  auto r = std::unique_ptr<Runner>(new Runner());
  r->impl_ = std::make_unique<Impl>();
  module.walk([&](ObserveOp o) {
    auto ty = o.getInput().getType();
    int64_t last = ty.getRank() ? ty.getDimSize(ty.getRank() - 1) : 1;
    r->obs_[o.getId()] = {o.getLabel().str(),
                          ShapedType::isDynamic(last) ? 0 : last};
  });
  {
    PassManager pm(module.getContext());
    pm.addPass(createQOptLowerObserversPass());
    if (failed(pm.run(module))) {
      err = "lowering the calibration observers failed";
      return nullptr;
    }
  }
  PipelineOptions o = popts;
  // Run-time row counts on the static kernels here too, if the caller kept
  // one matmul per weight (qopt-compile's layer-wise algorithms).
  if (!o.specializeRows && failed(specializeDynamicRows(module, o))) {
    err = "specializing the calibration build's matmuls failed";
    return nullptr;
  }
  o.quant = "fp32"; // the calibration build is the FP32 graph
  o.kvCache = "copy"; // fed the graph's own inputs (past length 0)
  o.weightsSink = &r->impl_->blob;
  // replaceConstant finds weights by their bytes: keep the [K, N] layout.
  o.packWeights = false;
  o.maxStaticArena = 0; // JIT: no large static data (see PipelineOptions)
  o.weightsFile.clear();
  if (failed(lowerModule(module, o, Stage::LLVM))) {
    err = "compiling the calibration build failed";
    return nullptr;
  }
  TargetOptions topts{o.target, o.optLevel};
  JITSymbol sym{"qopt_observe", (void *)&qopt_observe};
  auto jm = jitCompile(module, topts, ArrayRef<JITSymbol>(sym));
  if (failed(jm)) {
    err = "JIT-compiling the calibration build failed";
    return nullptr;
  }
  Impl &im = *r->impl_;
  im.jit = std::move(*jm);
  size_t blobSize = im.blob.size();
  if (blobSize) {
    size_t sz = (blobSize + 63) / 64 * 64;
    im.weights = std::aligned_alloc(64, sz);
    if (!im.weights) {
      err = "out of memory";
      return nullptr;
    }
    memcpy(im.weights, im.blob.data(), blobSize);
    im.weightsSize = blobSize;
    std::vector<char>().swap(im.blob);
  }
  if (qopt_model_create(im.jit.abi.c_str(), im.jit.entry, im.weights, blobSize,
                        &im.model) != QOPT_OK) {
    err = std::string("cannot create the calibration model: ") +
          qopt_last_error();
    return nullptr;
  }
  for (size_t k = 0, n = qopt_model_num_inputs(im.model); k < n; ++k) {
    qopt_tensor_info info;
    if (qopt_model_input_info(im.model, k, &info) != QOPT_OK) {
      err = qopt_last_error();
      return nullptr;
    }
    r->inputs_.push_back(
        {info.name, info.dtype,
         std::vector<int64_t>(info.shape, info.shape + info.rank)});
  }
  size_t nout = qopt_model_num_outputs(im.model);
  im.outData.resize(nout);
  im.outShape.resize(nout);
  for (size_t k = 0; k < nout; ++k) {
    qopt_tensor_info info;
    if (qopt_model_output_info(im.model, k, &info) != QOPT_OK) {
      err = qopt_last_error();
      return nullptr;
    }
    im.outShape[k].assign(info.shape, info.shape + info.rank);
    im.outData[k].assign(info.num_bytes, 0);
    im.outs.push_back({nullptr, info.dtype, info.rank, im.outShape[k].data(),
                       im.outData[k].data()});
  }
  return r;
}

bool Runner::replaceConstant(ArrayRef<char> oldBytes,
                             ArrayRef<char> newBytes) {
  Impl &im = *impl_;
  size_t n = oldBytes.size();
  if (n == 0 || n != newBytes.size() || n > im.weightsSize)
    return false;
  char *base = static_cast<char *>(im.weights);
  char *found = nullptr;
  for (size_t off = 0; off + n <= im.weightsSize; off += 64)
    if (memcmp(base + off, oldBytes.data(), std::min<size_t>(n, 64)) == 0 &&
        memcmp(base + off, oldBytes.data(), n) == 0) {
      if (found)
        return false; // ambiguous
      found = base + off;
    }
  if (!found)
    return false;
  memcpy(found, newBytes.data(), n);
  return true;
}

bool Runner::run(const Sample &s,
                 const std::function<void(int64_t, const float *, int64_t)> &fn,
                 std::string &err) {
  Impl &im = *impl_;
  std::vector<qopt_tensor> in(s.size());
  for (size_t i = 0; i < s.size(); ++i)
    in[i] = {s[i].name.c_str(), s[i].dtype, (int32_t)s[i].shape.size(),
             s[i].shape.data(), (void *)s[i].data.data()};
  gObserve = &fn;
  qopt_status st;
  if (qopt_model_is_dynamic(im.model)) {
    // Run-time shapes (a KV decoder's prefill): outputs as computed, kept
    // in outData / outShape for the callers that read them.
    std::vector<qopt_output> outs(im.outs.size());
    st = qopt_run_dynamic(nullptr, im.model, in.data(), in.size(), outs.data(),
                          outs.size());
    for (size_t k = 0; st == QOPT_OK && k < outs.size(); ++k) {
      const char *d = static_cast<const char *>(outs[k].data);
      im.outData[k].assign(d, d + outs[k].num_bytes);
      im.outShape[k].assign(outs[k].shape, outs[k].shape + outs[k].rank);
      im.outs[k].shape = im.outShape[k].data();
      im.outs[k].data = im.outData[k].data();
      if (outs[k].owned)
        qopt_free(outs[k].data);
    }
  } else {
    st = qopt_run(im.model, in.data(), in.size(), im.outs.data(),
                  im.outs.size());
  }
  gObserve = nullptr;
  if (st != QOPT_OK) {
    err = std::string("running the calibration build failed: ") +
          qopt_last_error();
    return false;
  }
  return true;
}

size_t Runner::numOutputs() const { return impl_->outs.size(); }
const std::vector<int64_t> &Runner::outputShape(size_t k) const {
  return impl_->outShape[k];
}
int32_t Runner::outputDtype(size_t k) const { return impl_->outs[k].dtype; }
const char *Runner::outputData(size_t k) const {
  return impl_->outData[k].data();
}
