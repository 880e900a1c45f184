//===- Pipelines.cpp - named pass pipelines --------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Pipelines/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"
#include "qopt/Codegen/Passes.h"
#include "qopt/Conversion/Passes.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::qopt;

/// Appends an upstream textual pipeline (module-anchored). The upstream
/// passes are registered by qopt::registerAllPasses().
static void addText(OpPassManager &pm, StringRef text) {
  std::string err;
  llvm::raw_string_ostream os(err);
  if (failed(parsePassPipeline(text, pm, os)))
    llvm::report_fatal_error(llvm::Twine("qopt: bad built-in pipeline '") +
                             text + "': " + err);
}

void mlir::qopt::buildFrontendPipeline(OpPassManager &pm,
                                       const PipelineOptions &opts) {
  ConvertONNXToQOptPassOptions o;
  o.inputShapes = opts.inputShapes;
  pm.addPass(createConvertONNXToQOptPass(o));
  addText(pm, "canonicalize,cse");
}

void mlir::qopt::buildLowerToLinalgPipeline(OpPassManager &pm,
                                            const PipelineOptions &opts) {
  pm.addPass(createConvertQOptToLinalgPass());
  addText(pm, "canonicalize,func.func(qopt-fuse-elementwise),canonicalize,cse");
}

void mlir::qopt::buildLowerToLLVMPipeline(OpPassManager &pm,
                                          const PipelineOptions &opts) {
  // Tensors -> buffers. The ABI is recorded first: bufferization rewrites the
  // signature (results become trailing out-params).
  pm.addPass(createQOptRecordABIPass());
  // Register-tile and vectorize the matmuls (-O1 and up; -O0 keeps scalar
  // loops for debugging).
  if (opts.optLevel >= 1)
    addText(pm, "func.func(qopt-tile-and-vectorize,canonicalize)");
  addText(pm, "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
              "one-shot-bufferize{bufferize-function-boundaries "
              "function-boundary-type-conversion=identity-layout-map "
              "unknown-type-conversion=identity-layout-map},"
              "buffer-results-to-out-params{hoist-static-allocs=1 "
              "modify-public-functions=1},"
              "canonicalize");
  if (opts.weightsSink) {
    pm.addPass(createQOptExternalizeWeightsPass(opts.weightThreshold,
                                                opts.weightsSink));
  } else {
    QOptExternalizeWeightsPassOptions w;
    w.threshold = opts.weightThreshold;
    w.weightsFile = opts.weightsFile;
    pm.addPass(createQOptExternalizeWeightsPass(w));
  }
  pm.addPass(createQOptMemRefCopyToLinalgPass());
  addText(pm, "buffer-deallocation-pipeline,func.func(qopt-lower-vectors)");
  // Linalg -> loops (parallel dims as scf.parallel -> OpenMP worksharing).
  if (opts.parallel)
    addText(pm, "func.func(convert-linalg-to-parallel-loops,canonicalize),"
                "scf-forall-to-parallel,convert-scf-to-openmp,"
                "qopt-inline-alloca-scopes");
  else
    addText(pm, "func.func(convert-linalg-to-loops,canonicalize),"
                "scf-forall-to-for");
  // bf16 has no arithmetic on most x86 targets, and LLVM lowers f32 <-> bf16
  // conversions to compiler-rt calls (__truncsfbf2) that the JIT cannot
  // resolve: compute bf16 math/arith in f32 and expand the conversions into
  // integer ops (round to nearest even).
  addText(pm, "func.func(math-extend-to-supported-types{extra-types=f16 "
              "target-type=f32},arith-emulate-unsupported-floats{"
              "source-types=bf16 target-type=f32},arith-expand{include-bf16=1})");
  // Everything -> LLVM dialect, bare-pointer memref calling convention.
  addText(pm, "convert-vector-to-scf{full-unroll=1},lower-affine,convert-scf-to-cf,expand-strided-metadata,"
              "lower-affine,convert-vector-to-llvm,finalize-memref-to-llvm,convert-math-to-llvm,"
              "convert-math-to-libm,convert-arith-to-llvm,"
              "convert-index-to-llvm,convert-cf-to-llvm,"
              "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
              "convert-openmp-to-llvm,convert-ub-to-llvm,"
              "reconcile-unrealized-casts,canonicalize");
  pm.addPass(createQOptEmitEntryPass());
}

Stage mlir::qopt::detectStage(ModuleOp module) {
  bool qonnx = false, func = false;
  module.walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "qonnx")
      qonnx = true;
    if (op->getName().getStringRef() == "func.func")
      func = true;
  });
  if (qonnx)
    return Stage::QONNX;
  return func ? Stage::QOpt : Stage::LLVM;
}

LogicalResult mlir::qopt::lowerModule(
    ModuleOp module, const PipelineOptions &opts, Stage last,
    llvm::function_ref<LogicalResult(PassManager &)> configure) {
  Stage from = detectStage(module);
  using Builder = void (*)(OpPassManager &, const PipelineOptions &);
  const Builder builders[] = {buildFrontendPipeline, buildLowerToLinalgPipeline,
                              buildLowerToLLVMPipeline};
  for (int s = (int)from; s < (int)last; ++s) {
    PassManager pm(module.getContext());
    builders[s](pm, opts);
    if (configure && failed(configure(pm)))
      return failure();
    if (failed(pm.run(module)))
      return failure();
  }
  return success();
}

namespace {
struct CLOptions : public PassPipelineOptions<CLOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("host | avx512 | avx2"),
                             llvm::cl::init("host")};
  Option<int> optLevel{*this, "opt-level", llvm::cl::desc("0..3"),
                       llvm::cl::init(3)};
  Option<std::string> inputShapes{
      *this, "input-shapes", llvm::cl::desc("NAME:1x128[,NAME:...]"),
      llvm::cl::init("")};
  Option<int64_t> weightThreshold{
      *this, "weight-threshold",
      llvm::cl::desc("constants above this many bytes go to the sidecar"),
      llvm::cl::init(1024)};
  Option<std::string> weightsFile{
      *this, "weights-file", llvm::cl::desc("write the weights blob here"),
      llvm::cl::init("")};
  Option<bool> parallel{*this, "parallel",
                        llvm::cl::desc("OpenMP-parallel loops"),
                        llvm::cl::init(true)};

  PipelineOptions get() const {
    PipelineOptions o;
    o.target = target;
    o.optLevel = optLevel;
    o.inputShapes = inputShapes;
    o.weightThreshold = weightThreshold;
    o.weightsFile = weightsFile;
    o.parallel = parallel;
    return o;
  }
};
} // namespace

void mlir::qopt::registerQOptPipelines() {
  PassPipelineRegistration<CLOptions>(
      "qopt-frontend", "qonnx -> qopt/linalg on tensors (legalize, cleanup)",
      [](OpPassManager &pm, const CLOptions &o) {
        buildFrontendPipeline(pm, o.get());
      });
  PassPipelineRegistration<CLOptions>(
      "qopt-lower-to-linalg", "qopt -> linalg on tensors, fused",
      [](OpPassManager &pm, const CLOptions &o) {
        buildLowerToLinalgPipeline(pm, o.get());
      });
  PassPipelineRegistration<CLOptions>(
      "qopt-lower-to-llvm",
      "tensors -> buffers -> loops -> LLVM dialect with the qopt_entry ABI",
      [](OpPassManager &pm, const CLOptions &o) {
        buildLowerToLLVMPipeline(pm, o.get());
      });
  PassPipelineRegistration<CLOptions>(
      "qopt-full", "qopt-frontend + qopt-lower-to-linalg + qopt-lower-to-llvm",
      [](OpPassManager &pm, const CLOptions &o) {
        PipelineOptions p = o.get();
        buildFrontendPipeline(pm, p);
        buildLowerToLinalgPipeline(pm, p);
        buildLowerToLLVMPipeline(pm, p);
      });
}
