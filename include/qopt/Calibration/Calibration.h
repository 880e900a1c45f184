//===- Calibration.h - activation statistics for static quantization -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// design.md §1 step 3. The FP32 graph with qopt.observe probes
// (qopt-insert-observers) is lowered with qopt-lower-observers (each probe
// calls `qopt_observe(id, data, numel)`), JIT-compiled with the normal
// backend and run over the calibration samples. The collector keeps per
// observer: min/max, per-channel max|x| (last dimension) and a histogram of
// |x| (kHistBins bins over [0, max|x|]). Two passes over the samples: the
// first fixes the ranges, the second fills the histograms (so bins never
// need re-binning). From the statistics, a method (minmax, percentile,
// entropy, mse) gives the per-tensor activation scale / zero point.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_CALIBRATION_CALIBRATION_H
#define QOPT_CALIBRATION_CALIBRATION_H

#include "mlir/IR/BuiltinOps.h"
#include "qopt/Pipelines/Pipelines.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace qopt {
namespace calib {

inline constexpr int kHistBins = 2048;
inline constexpr int kFormatVersion = 1;

/// Statistics of one observed tensor over all calibration samples.
struct TensorStats {
  std::string label;
  uint64_t count = 0; ///< elements seen (first pass)
  uint64_t calls = 0; ///< tensors seen (first pass)
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::vector<float> channelAbsMax; ///< per index of the last dimension
  std::vector<double> hist;         ///< kHistBins counts over [0, histRange]
  double histRange = 0;             ///< = max|x| after the first pass
  uint64_t nonFinite = 0;           ///< NaN / inf elements (ignored)

  double absMax() const;
  /// First pass: ranges and per-channel maxima.
  void addRange(const float *x, int64_t n, int64_t lastDim);
  /// Second pass: the histogram of |x| (histRange must be set).
  void addHistogram(const float *x, int64_t n);
};

using StatsMap = std::map<std::string, TensorStats>; ///< keyed by label

struct Method {
  enum Kind { MinMax, Percentile, Entropy, MSE } kind = MinMax;
  double percentile = 99.99;
  std::string str() const;
};
/// minmax | percentile[:P] (0 < P <= 100, default 99.99) | entropy | mse
bool parseMethod(llvm::StringRef text, Method &m, std::string &err);

struct ActParams {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
  bool isUnsigned = false; ///< u8 (asym) storage, else i8
  double clipLo = 0, clipHi = 0; ///< the range the scale represents
};
/// The clipping threshold on |x| that `m` picks from the statistics
/// (minmax: max|x|; percentile: the P-th percentile of |x|; entropy:
/// TensorRT's KL-divergence search over 128 quantization levels; mse: the
/// threshold minimising the histogram's expected squared quantization
/// error for 127 levels).
double clipThreshold(const TensorStats &s, const Method &m);
/// Per-tensor 8-bit parameters: sym -> i8 [-T, T] with zp 0, asym -> u8 over
/// [max(min, -T), min(max, T)] widened to include 0 (minmax: [min, max]).
ActParams computeActParams(const TensorStats &s, const Method &m, bool asym);

/// Versioned JSON (`{"format": "qopt-calibration", "version": 1, ...}`).
std::string statsToJSON(const StatsMap &stats, llvm::StringRef model,
                        int64_t samples);
bool statsFromJSON(llvm::StringRef text, llvm::StringRef path,
                   StatsMap &stats, std::string &err);

/// One model input of one calibration sample.
struct InputTensor {
  std::string name;
  int32_t dtype = 0; ///< ONNX data type number
  std::vector<int64_t> shape;
  std::vector<char> data;
};
using Sample = std::vector<InputTensor>; ///< in model input order

/// The model's inputs as the compiled ABI sees them.
struct ModelInput {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> shape;
};

/// Reads calibration data: `.npy` (single-input model; leading sample
/// axis), `.npz` (one array per input name, each with a leading sample
/// axis) or a directory of ONNX test-data sets (test_data_set_*/input_*.pb,
/// one sample per set). Every tensor is checked against `inputs` (dtype,
/// shape, count); errors name the file and the input. `maxSamples` > 0
/// keeps the first N samples.
bool loadCalibrationData(llvm::StringRef path,
                         const std::vector<ModelInput> &inputs,
                         int64_t maxSamples, std::vector<Sample> &samples,
                         std::string &err);

/// The JIT-compiled instrumented model.
class Runner {
public:
  /// `module` (qopt level, with qopt.observe ops) is consumed: lowered with
  /// qopt-lower-observers + the normal pipeline and JIT-compiled.
  static std::unique_ptr<Runner> create(ModuleOp module,
                                        const PipelineOptions &opts,
                                        std::string &err);
  ~Runner();
  const std::vector<ModelInput> &inputs() const { return inputs_; }
  /// Observer id -> (label, last dimension).
  struct ObserverInfo {
    std::string label;
    int64_t lastDim = 1;
  };
  const std::map<int64_t, ObserverInfo> &observers() const { return obs_; }
  /// Overwrites a large constant of the loaded build in place: the
  /// sidecar blob holds every constant above the weight threshold verbatim
  /// (qopt-externalize-weights) at a 64-byte aligned offset, so it is found
  /// by content. Returns false if `oldBytes` is not there exactly once
  /// (the caller rebuilds instead). Lets sequential calibration swap in
  /// quantized weights without recompiling.
  bool replaceConstant(llvm::ArrayRef<char> oldBytes,
                       llvm::ArrayRef<char> newBytes);
  /// Runs one sample; each observer calls `fn(id, data, numel)`.
  bool run(const Sample &s,
           const std::function<void(int64_t, const float *, int64_t)> &fn,
           std::string &err);
  /// The outputs of the last run (model output order).
  size_t numOutputs() const;
  const std::vector<int64_t> &outputShape(size_t k) const;
  int32_t outputDtype(size_t k) const;
  const char *outputData(size_t k) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<ModelInput> inputs_;
  std::map<int64_t, ObserverInfo> obs_;
};

/// Two passes over `samples` (ranges, then histograms). `progress` (may be
/// null) is called as (pass, done, total).
bool collectStatistics(
    Runner &runner, const std::vector<Sample> &samples, StatsMap &stats,
    std::string &err,
    const std::function<void(int, size_t, size_t)> &progress = nullptr);

/// A quantizable layer (qopt.matmul with a constant [K, N] f32 weight) and
/// its int8 per-channel symmetric weight, as qopt-quantize-static makes it.
struct LayerInfo {
  std::string label;
  int64_t K = 0, N = 0;   ///< conv: K = C/G * prod(kernel), N = M
  bool conv = false;       ///< a Conv (no output SQNR emulation)
  bool excluded = false;
  std::vector<int8_t> wq;   ///< [K, N]
  std::vector<float> wScale; ///< [N]
  double weightSQNR = 0;     ///< dB
  ActParams act;
  bool hasAct = false;
  // Output SQNR accumulators (see measureOutputSQNR).
  double sigPower = 0, noisePower = 0;
  uint64_t outCount = 0;
};

/// The layers of `module` (after qopt-insert-observers: `qopt.layer` set),
/// with their weights quantized; `exclude` is the regex of the passes.
bool collectLayers(ModuleOp module, llvm::StringRef exclude,
                   std::vector<LayerInfo> &layers, std::string &err);

/// Attaches qopt.act_scale / qopt.act_zp to every matmul whose layer has
/// statistics. Returns the number of layers without statistics in
/// `missing`.
void attachActParams(ModuleOp module, const std::vector<LayerInfo> &layers,
                     std::vector<std::string> &missing);

/// Output SQNR per layer in isolation: runs `samples` through the FP32
/// instrumented model; for each layer, the observed FP32 input x and
/// output y = x W give y_q = the w8a8 layer's exact integer arithmetic on x
/// (quantize x, int32 accumulation with the int8 weight, f32 epilogue),
/// accumulated as sum y^2 and sum (y - y_q)^2.
bool measureOutputSQNR(Runner &runner, const std::vector<Sample> &samples,
                       std::vector<LayerInfo> &layers, std::string &err);

/// The noise report as JSON, and the SVG bar chart of per-layer SQNR.
std::string reportJSON(const std::vector<LayerInfo> &layers,
                       llvm::StringRef model, const Method &m, bool asym,
                       int64_t sqnrSamples);
std::string reportSVG(const std::vector<LayerInfo> &layers,
                      llvm::StringRef title);

/// The whole w8a8 static flow on a qopt-level module (what qopt-compile
/// --quant=w8a8 runs): insert observers, calibrate (or load statistics),
/// optionally save them, compute the activation parameters, measure the
/// output SQNR, strip the observers, attach qopt.act_scale/act_zp and run
/// qopt-quantize-static; writes the report (+ .svg) if asked.
struct StaticQuantOptions {
  std::string calibPath;  ///< --calib
  std::string loadPath;   ///< --load-calibration
  std::string savePath;   ///< --save-calibration
  std::string reportPath; ///< --report
  std::string exclude;    ///< --exclude regex
  std::string modelName;  ///< for the files' "model" field
  Method method;
  bool asym = false;          ///< --act-scheme=asym
  int64_t maxSamples = 0;     ///< --calib-samples (0: all)
  int64_t sqnrSamples = 16;   ///< samples used for the output SQNR
  bool progress = false;      ///< progress line on stderr
  PipelineOptions pipeline;   ///< for the calibration build
};
LogicalResult quantizeStaticW8A8(ModuleOp module, const StaticQuantOptions &o,
                                 std::string &err);

/// Calibration-driven weight quantization (qopt-compile --gptq / --awq /
/// --bias-correction / --mixed-precision with --quant=w4|w8, design in
/// lib/Calibration/LLMDriver.cpp): layers are processed in stages (the
/// first number in the layer name, i.e. the transformer block; names
/// without one come last). For each stage the current module (earlier
/// stages already quantized) is JIT-compiled with observers and run over
/// the samples to accumulate each layer input's X^T X, mean |x| and mean
/// x; the statistics are attached to the stage's matmuls and qopt-awq /
/// qopt-gptq / qopt-bias-correction rewrite them. Layers without
/// statistics are left for qopt-quantize-weights (RTN).
struct LLMQuantOptions {
  std::string calibPath;
  int64_t maxSamples = 0;
  std::string exclude;
  std::string modelName;
  std::string reportPath; ///< per-layer JSON (errors, bits, sizes)
  unsigned bits = 4;
  int64_t groupSize = 128;
  bool symmetric = true;
  bool gptq = false, actOrder = false, awq = false, biasCorrection = false;
  double damp = 0.01;
  bool clipSearch = false; ///< GPTQ: search group ranges (qopt-gptq clip)
  double mixedBits = 0; ///< average bits per weight budget (0: off)
  /// Layer-wise reconstruction (qopt-reconstruct): coordinate-descent
  /// sweeps from RTN, or from GPTQ with `gptq` (0: off).
  int reconstruct = 0;
  bool progress = false; ///< progress line on stderr
  PipelineOptions pipeline; ///< for the calibration builds
};
LogicalResult quantizeWithCalibration(ModuleOp module,
                                      const LLMQuantOptions &o,
                                      std::string &err);

/// The report's SVG path: FILE.json -> FILE.svg, else FILE + ".svg".
std::string svgPathFor(llvm::StringRef reportPath);

} // namespace calib
} // namespace qopt
} // namespace mlir

#endif
