//===- Pipelines.h - named pass pipelines -----------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt-compile is a thin driver over these builders; each is also registered
// as a named pipeline so any stage replays in qopt-opt.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_PIPELINES_PIPELINES_H
#define QOPT_PIPELINES_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include <string>
#include <vector>

namespace mlir {
namespace qopt {

struct PipelineOptions {
  std::string target = "host"; ///< host | avx512 | avx2 | neon | neon-i8mm
  int optLevel = 3;            ///< -O0..-O3
  std::string inputShapes;     ///< NAME:1x128[,NAME:...]
  std::string dimMax;          ///< NAME:N[,NAME:M]: bounds of named dims
  /// KV decoders (Optimum past/present pairs): auto | inplace | copy | int8
  /// (qopt-kv-cache-in-place; auto: in place when the model follows the
  /// naming, copy keeps the ONNX signature, int8: in place with int8 rows
  /// and per-row scales).
  std::string kvCache = "auto";
  /// Run qopt-specialize-dynamic-rows at the end of the frontend (false:
  /// the caller runs specializeDynamicRows later, e.g. after the layer-wise
  /// calibrated algorithms, which want one matmul per weight).
  bool specializeRows = true;
  int64_t weightThreshold = 1024; ///< bytes; larger constants go to the sidecar
  std::string weightsFile;     ///< written by qopt-externalize-weights if set
  /// Lower linalg to scf.parallel and then OpenMP (libomp); false: serial loops.
  bool parallel = true;
  /// Pack constant f32 matmul weights into column panels (false for builds
  /// whose weights are later replaced in place by content).
  bool packWeights = true;
  /// Largest arena of temporaries kept static (qopt-arena); larger ones are
  /// malloc'ed per run. JIT builds use 0: the JIT may place a data section
  /// out of 32-bit PC-relative reach of the code (it crashed under ASan).
  int64_t maxStaticArena = int64_t(1) << 30;
  /// If set, qopt-externalize-weights appends the blob here (drivers that
  /// write it themselves or keep it in memory); must outlive the run.
  std::vector<char> *weightsSink = nullptr;
  /// Free the data of weight blobs (dense resources) that quantization
  /// replaced. Only for callers that own every module of the context (the
  /// qopt-compile tool): another module holding the same attribute would see
  /// an empty blob.
  bool releaseReplacedWeights = false;
  /// If set, the linalg-level IR is written here and the object gets DWARF
  /// line tables whose lines are this file's (profiling: `perf report
  /// --sort srcline` then names the linalg op behind each sample).
  std::string profileLines;

  // Quantization (buildQuantizationPipeline, docs/quantization.md).
  /// fp32 | w8 | w4 | w8a8 (static, needs calibration) | w8a8-dynamic | w4a8
  std::string quant = "fp32";
  int64_t groupSize = 128;          ///< int4 weight group along K (0: per channel)
  std::string weightScheme = "sym"; ///< sym | asym
  /// sym | asym; empty: the scheme's default (asym u8 for dynamic
  /// activations, as ONNX Runtime's DynamicQuantizeLinear; sym for static)
  std::string actScheme;
  std::string actGranularity = "token"; ///< token | tensor
  std::string exclude;              ///< regex of layer/weight names kept f32
  std::string calibFile;            ///< calibration statistics (static w8a8)
  /// SmoothQuant (qopt-smoothquant, before the activation quantizer): ""
  /// off, else the migration strength ALPHA in [0, 1] or "auto" (per-layer
  /// alphas attached by the calibration driver; 0.5 where none is).
  std::string smoothQuant;
  /// LLM.int8() outlier threshold on calibration max|x| (qopt-llm-int8);
  /// 0: off.
  double llmInt8 = 0;
};

/// Module attribute naming the scheme a module was quantized with.
inline constexpr const char *kQuantizedAttrName = "qopt.quantized";

/// Checks the quantization fields; returns an error message ("" if valid).
std::string validateQuantOptions(const PipelineOptions &opts);

/// qopt-specialize-dynamic-rows (+ cleanup) where the options call for it
/// (-O1 and up, not under per-tensor dynamic activation scales).
LogicalResult specializeDynamicRows(ModuleOp module, const PipelineOptions &opts);
/// qonnx -> qopt (+ linalg/tensor/arith/math): legalization and cleanup.
void buildFrontendPipeline(OpPassManager &pm, const PipelineOptions &opts);
/// Quantization passes on the legalized qopt graph (nothing for fp32). Run
/// by lowerModule when a module reaches Stage::QOpt; the module is then
/// tagged `qopt.quantized = "<scheme>"` so it is not quantized twice.
/// Expects validateQuantOptions(opts) to be "".
void buildQuantizationPipeline(OpPassManager &pm, const PipelineOptions &opts);
/// The passes that prepare activations for quantization (SmoothQuant,
/// LLM.int8()); the first part of buildQuantizationPipeline. They rewrite
/// only matmuls carrying calibration statistics (qopt.act_absmax).
void buildActivationPrepPipeline(OpPassManager &pm, const PipelineOptions &opts);
/// qopt -> linalg on tensors, elementwise fusion.
void buildLowerToLinalgPipeline(OpPassManager &pm, const PipelineOptions &opts);
/// tensors -> memrefs -> loops/vectors -> LLVM dialect with the qopt_entry ABI.
void buildLowerToLLVMPipeline(OpPassManager &pm, const PipelineOptions &opts);

/// How far a module has been lowered.
enum class Stage { QONNX = 0, QOpt = 1, Linalg = 2, LLVM = 3 };

/// qonnx ops present -> QONNX; func.func present -> QOpt (tensor level, may
/// still hold qopt ops); only llvm.func -> LLVM.
Stage detectStage(ModuleOp module);

/// Runs the pipelines that take `module` from its current stage through
/// `last` (inclusive). `configure` may set up each pass manager (CL options,
/// instrumentation). Diagnostics go to the context's handler.
LogicalResult lowerModule(ModuleOp module, const PipelineOptions &opts,
                          Stage last,
                          llvm::function_ref<LogicalResult(PassManager &)>
                              configure = nullptr);

/// Registers qopt-frontend, qopt-quantize, qopt-lower-to-linalg,
/// qopt-lower-to-llvm and qopt-full (frontend + quantize + lowering).
void registerQOptPipelines();

} // namespace qopt
} // namespace mlir

#endif
