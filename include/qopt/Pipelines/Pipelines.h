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
  int64_t weightThreshold = 1024; ///< bytes; larger constants go to the sidecar
  std::string weightsFile;     ///< written by qopt-externalize-weights if set
  /// Lower linalg to scf.parallel and then OpenMP (libomp); false: serial loops.
  bool parallel = true;
  /// If set, qopt-externalize-weights appends the blob here (drivers that
  /// write it themselves or keep it in memory); must outlive the run.
  std::vector<char> *weightsSink = nullptr;
};

/// qonnx -> qopt (+ linalg/tensor/arith/math): legalization and cleanup.
void buildFrontendPipeline(OpPassManager &pm, const PipelineOptions &opts);
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

/// Registers qopt-frontend, qopt-lower-to-linalg, qopt-lower-to-llvm and
/// qopt-full (all three) with PassPipelineRegistration.
void registerQOptPipelines();

} // namespace qopt
} // namespace mlir

#endif
