//===- Pipelines.cpp - named pass pipelines --------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Pipelines/Pipelines.h"

#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "qopt/Codegen/Passes.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Transforms/Passes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/Regex.h"
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

static void addSpecializeRows(OpPassManager &pm, const PipelineOptions &opts) {
  bool perTensorDynamic =
      (opts.quant == "w8a8-dynamic" || opts.quant == "w4a8") &&
      opts.actGranularity == "tensor";
  if (opts.optLevel >= 1 && !perTensorDynamic)
    addText(pm, "func.func(qopt-specialize-dynamic-rows),canonicalize,cse");
}

void mlir::qopt::buildFrontendPipeline(OpPassManager &pm,
                                       const PipelineOptions &opts) {
  ConvertONNXToQOptPassOptions o;
  o.inputShapes = opts.inputShapes;
  o.dimMax = opts.dimMax;
  pm.addPass(createConvertONNXToQOptPass(o));
  // QDQ graphs (QAT, ONNX Runtime's QDQ format) become integer kernels that
  // keep their scales (docs/semantics.md §9).
  pm.addPass(createQOptFoldQDQPass());
  addText(pm, "canonicalize,cse");
  // Grouped-query attention reads the shared KV heads instead of R copies.
  if (opts.optLevel >= 1)
    addText(pm, "func.func(qopt-fold-repeat-kv),canonicalize,cse");
  // Matmuls with run-time row counts as static ones, for the quantizers
  // and the kernels (not under per-tensor dynamic activation scales, which
  // would then be per chunk).
  if (opts.specializeRows)
    addSpecializeRows(pm, opts);
}

LogicalResult mlir::qopt::specializeDynamicRows(ModuleOp module,
                                                const PipelineOptions &opts) {
  PassManager pm(module.getContext());
  addSpecializeRows(pm, opts);
  return pm.run(module);
}

std::string mlir::qopt::validateQuantOptions(const PipelineOptions &o) {
  static const char *schemes[] = {"fp32", "w8", "w4", "w8a8", "w8a8-dynamic",
                                  "w4a8"};
  if (!llvm::is_contained(schemes, o.quant))
    return "unknown quantization scheme '" + o.quant +
           "' (expected fp32, w8, w4, w8a8, w8a8-dynamic or w4a8)";
  if (o.groupSize < 0)
    return "group size must be >= 0 (0: per output channel), got " +
           std::to_string(o.groupSize);
  if (o.weightScheme != "sym" && o.weightScheme != "asym")
    return "unknown weight scheme '" + o.weightScheme +
           "' (expected sym or asym)";
  if (!o.actScheme.empty() && o.actScheme != "sym" && o.actScheme != "asym")
    return "unknown activation scheme '" + o.actScheme +
           "' (expected sym or asym)";
  if (o.actGranularity != "token" && o.actGranularity != "tensor")
    return "unknown activation granularity '" + o.actGranularity +
           "' (expected token or tensor)";
  std::string err;
  if (!o.exclude.empty() && !llvm::Regex(o.exclude).isValid(err))
    return "bad exclude regex '" + o.exclude + "': " + err;
  if (!o.smoothQuant.empty()) {
    double a = 0;
    if (o.smoothQuant != "auto" &&
        (llvm::StringRef(o.smoothQuant).getAsDouble(a) || !(a >= 0 && a <= 1)))
      return "bad smoothquant '" + o.smoothQuant +
             "' (expected an alpha in [0, 1] or auto)";
  }
  if ((!o.smoothQuant.empty() || o.llmInt8 != 0) &&
      o.quant != "w8a8" && o.quant != "w8a8-dynamic" && o.quant != "w4a8")
    return "SmoothQuant and LLM.int8() act on quantized activations: use "
           "--quant=w8a8, w8a8-dynamic or w4a8";
  if (o.llmInt8 < 0)
    return "the LLM.int8() threshold must be > 0";
  if (!o.smoothQuant.empty() && o.llmInt8 != 0)
    return "SmoothQuant and LLM.int8() are alternatives (both act on the "
           "same outlier channels): pick one";
  if (o.quant == "w8a8" && o.calibFile.empty())
    return "static w8a8 needs calibration statistics: pass --calib=FILE "
           "(or use --quant=w8a8-dynamic for run-time activation scales)";
  return "";
}

void mlir::qopt::buildActivationPrepPipeline(OpPassManager &pm,
                                             const PipelineOptions &opts) {
  if (!opts.smoothQuant.empty()) {
    QOptSmoothQuantPassOptions o;
    double a = 0.5;
    if (opts.smoothQuant != "auto")
      (void)llvm::StringRef(opts.smoothQuant).getAsDouble(a);
    o.alpha = a;
    o.exclude = opts.exclude;
    pm.addPass(createQOptSmoothQuantPass(o));
  }
  if (opts.llmInt8 > 0) {
    QOptLLMInt8PassOptions o;
    o.threshold = opts.llmInt8;
    o.exclude = opts.exclude;
    pm.addPass(createQOptLLMInt8Pass(o));
  }
}

void mlir::qopt::buildQuantizationPipeline(OpPassManager &pm,
                                           const PipelineOptions &opts) {
  // SmoothQuant / LLM.int8() rewrite the f32 graph the quantizers then see.
  buildActivationPrepPipeline(pm, opts);
  if (opts.quant == "w8" || opts.quant == "w4") {
    QOptQuantizeWeightsPassOptions o;
    o.bits = opts.quant == "w8" ? 8 : 4;
    o.groupSize = opts.groupSize;
    o.scheme = opts.weightScheme;
    o.exclude = opts.exclude;
    pm.addPass(createQOptQuantizeWeightsPass(o));
  } else if (opts.quant == "w8a8-dynamic" || opts.quant == "w4a8") {
    QOptQuantizeDynamicPassOptions o;
    o.weightBits = opts.quant == "w4a8" ? 4 : 8;
    o.groupSize = opts.groupSize;
    o.weightScheme = opts.weightScheme;
    o.actScheme = opts.actScheme.empty() ? "asym" : opts.actScheme;
    o.perToken = opts.actGranularity == "token";
    o.exclude = opts.exclude;
    pm.addPass(createQOptQuantizeDynamicPass(o));
  } else if (opts.quant == "w8a8") {
    // Static activations: the calibration driver (lib/Calibration,
    // qopt-compile --calib) attaches qopt.act_scale / qopt.act_zp to the
    // matmuls first; this replays the rewrite from those attributes.
    QOptQuantizeStaticPassOptions o;
    o.actScheme = opts.actScheme.empty() ? "sym" : opts.actScheme;
    o.exclude = opts.exclude;
    pm.addPass(createQOptQuantizeStaticPass(o));
  } else {
    return; // fp32
  }
  addText(pm, "canonicalize,cse");
}

void mlir::qopt::buildLowerToLinalgPipeline(OpPassManager &pm,
                                            const PipelineOptions &opts) {
  // Constant-weight int8 matmuls -> packed weights + microkernel generic
  // (targets with an exact int8 dot; qopt/Codegen/TargetDesc.h).
  QOptPackQMatMulPassOptions pack;
  pack.target = opts.target;
  pm.addPass(createQOptPackQMatMulPass(pack));
  // Attention's per-head chain as one parallel loop over the heads.
  if (opts.optLevel >= 1)
    addText(pm, "func.func(qopt-parallelize-heads)");
  pm.addPass(createConvertQOptToLinalgPass());
  addText(pm, "canonicalize,func.func(qopt-fuse-elementwise),canonicalize,cse");
  // The row-wise chains between matmuls (norms, quantization) likewise.
  if (opts.optLevel >= 1)
    addText(pm, "func.func(qopt-parallelize-rows)");
}

void mlir::qopt::buildLowerToLLVMPipeline(OpPassManager &pm,
                                          const PipelineOptions &opts) {
  // KV decoders: the caches are updated in place (no present outputs).
  QOptKVCacheInPlacePassOptions kv;
  kv.mode = opts.kvCache;
  pm.addPass(createQOptKVCacheInPlacePass(kv));
  // Tensors -> buffers. The ABI is recorded first: bufferization rewrites the
  // signature (results become trailing out-params).
  pm.addPass(createQOptRecordABIPass());
  if (!opts.profileLines.empty()) {
    LocationSnapshotOptions snap;
    snap.fileName = opts.profileLines;
    pm.addPass(createLocationSnapshot(snap));
  }
  // Register-tile and vectorize the matmuls (-O1 and up; -O0 keeps scalar
  // loops for debugging).
  if (opts.optLevel >= 1)
    addText(pm, opts.packWeights
                    ? "func.func(qopt-tile-and-vectorize,canonicalize)"
                    : "func.func(qopt-tile-and-vectorize{pack-weights=0},"
                      "canonicalize)");
  // One fill per destination use (an upstream bufferization bug otherwise
  // gives wrong results). Results: out-params for a static entry;
  // caller-owned buffers for a dynamic one (docs/abi.md).
  addText(pm, "func.func(qopt-split-fill-inits),"
              "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
              "one-shot-bufferize{bufferize-function-boundaries "
              "function-boundary-type-conversion=identity-layout-map "
              "unknown-type-conversion=identity-layout-map},"
              "qopt-entry-results,canonicalize");
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
  // int8 dot microkernels (-O0 keeps the packed generic's reference loops).
  // Before the arena: the grouped int4 kernel drops its [G, M, N] i32
  // buffer, which then takes no arena space.
  if (opts.optLevel >= 1) {
    QOptLowerUkernelsPassOptions uk;
    uk.target = opts.target;
    pm.addPass(createQOptLowerUkernelsPass(uk));
  }
  // Temporaries in one static arena (no per-run malloc/page faults).
  QOptArenaPassOptions arena;
  arena.maxStaticBytes = opts.maxStaticArena;
  pm.addPass(createQOptArenaPass(arena));
  // Linalg -> loops (parallel dims as scf.parallel -> OpenMP worksharing).
  // Loops with little work run serially (no fork/join; the threshold is
  // target data).
  if (opts.parallel) {
    addText(pm, "func.func(convert-linalg-to-parallel-loops,canonicalize),"
                "scf-forall-to-parallel");
    QOptSerializeSmallLoopsPassOptions serial;
    serial.target = opts.target;
    pm.addPass(createQOptSerializeSmallLoopsPass(serial));
    addText(pm, "convert-scf-to-openmp,qopt-inline-alloca-scopes");
  } else
    addText(pm, "func.func(convert-linalg-to-loops,canonicalize),"
                "scf-forall-to-for");
  // bf16 has no arithmetic on most x86 targets, and LLVM lowers f32 <-> bf16
  // conversions to compiler-rt calls (__truncsfbf2) that the JIT cannot
  // resolve: compute bf16 math/arith in f32 and expand the conversions into
  // integer ops (round to nearest even).
  addText(pm, "func.func(math-extend-to-supported-types{extra-types=f16 "
              "target-type=f32},arith-emulate-unsupported-floats{"
              "source-types=bf16 target-type=f32},arith-expand{include-bf16=1})");
  // Everything -> LLVM dialect; memrefs as bare pointers (static entry) or
  // descriptors (dynamic entry).
  addText(pm, "convert-vector-to-scf{full-unroll=1},lower-affine,convert-scf-to-cf,expand-strided-metadata,"
              "lower-affine,convert-vector-to-llvm{enable-amx=1},finalize-memref-to-llvm,convert-math-to-llvm,"
              "convert-math-to-libm,convert-arith-to-llvm,"
              "convert-index-to-llvm,convert-cf-to-llvm,"
              "qopt-func-to-llvm,"
              "convert-openmp-to-llvm,convert-ub-to-llvm,"
              "reconcile-unrealized-casts,canonicalize");
  pm.addPass(createQOptEmitEntryPass());
  if (!opts.profileLines.empty())
    pm.addPass(LLVM::createDIScopeForLLVMFuncOpPass());
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

/// The blobs of the dense resources `module` references.
static llvm::DenseSet<DialectResourceBlobManager::BlobEntry *>
referencedBlobs(ModuleOp module) {
  llvm::DenseSet<DialectResourceBlobManager::BlobEntry *> out;
  module->walk([&](Operation *op) {
    op->getAttrDictionary().walk([&](DenseResourceElementsAttr a) {
      if (auto *e = a.getRawHandle().getResource())
        out.insert(e);
    });
  });
  return out;
}

LogicalResult mlir::qopt::lowerModule(
    ModuleOp module, const PipelineOptions &opts, Stage last,
    llvm::function_ref<LogicalResult(PassManager &)> configure) {
  Stage from = detectStage(module);
  using Builder = void (*)(OpPassManager &, const PipelineOptions &);
  const Builder builders[] = {buildFrontendPipeline, buildLowerToLinalgPipeline,
                              buildLowerToLLVMPipeline};
  auto run = [&](Builder build) -> LogicalResult {
    PassManager pm(module.getContext());
    build(pm, opts);
    if (configure && failed(configure(pm)))
      return failure();
    return pm.run(module);
  };
  for (int s = (int)from; s <= (int)last; ++s) {
    // Quantization runs once, on the legalized graph (an ONNX model after
    // the frontend, or a qopt-level input).
    if (s == (int)Stage::QOpt && opts.quant != "fp32" &&
        !module->hasAttr(kQuantizedAttrName)) {
      std::string err = validateQuantOptions(opts);
      if (!err.empty())
        return module.emitError(err);
      llvm::DenseSet<DialectResourceBlobManager::BlobEntry *> before;
      if (opts.releaseReplacedWeights)
        before = referencedBlobs(module);
      if (failed(run(buildQuantizationPipeline)))
        return failure();
      // The f32 weights that became int8/int4 are dead: free them now
      // rather than at exit (4.4 GB for a 1.1 B-parameter model).
      if (opts.releaseReplacedWeights) {
        llvm::DenseSet<DialectResourceBlobManager::BlobEntry *> after =
            referencedBlobs(module);
        for (auto *e : before)
          if (!after.contains(e))
            e->setBlob(AsmResourceBlob());
      }
      module->setAttr(kQuantizedAttrName,
                      StringAttr::get(module.getContext(), opts.quant));
    }
    if (s == (int)last)
      break;
    if (failed(run(builders[s])))
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
  Option<std::string> dimMax{*this, "dim-max",
                             llvm::cl::desc("NAME:N[,NAME:...]"),
                             llvm::cl::init("")};
  Option<std::string> kvCache{*this, "kv-cache",
                              llvm::cl::desc("auto | inplace | copy | int8"),
                              llvm::cl::init("auto")};
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
  Option<std::string> quant{
      *this, "quant",
      llvm::cl::desc("fp32 | w8 | w4 | w8a8 | w8a8-dynamic | w4a8"),
      llvm::cl::init("fp32")};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("int4 weight group size along K"),
                            llvm::cl::init(128)};
  Option<std::string> weightScheme{*this, "weight-scheme",
                                   llvm::cl::desc("sym | asym"),
                                   llvm::cl::init("sym")};
  Option<std::string> actScheme{
      *this, "act-scheme",
      llvm::cl::desc("sym | asym (default: asym dynamic, sym static)"),
      llvm::cl::init("")};
  Option<std::string> actGranularity{*this, "act-granularity",
                                     llvm::cl::desc("token | tensor"),
                                     llvm::cl::init("token")};
  Option<std::string> exclude{
      *this, "exclude", llvm::cl::desc("regex of layer/weight names kept f32"),
      llvm::cl::init("")};
  Option<std::string> calib{*this, "calib",
                            llvm::cl::desc("calibration statistics file"),
                            llvm::cl::init("")};
  Option<std::string> smoothquant{
      *this, "smoothquant",
      llvm::cl::desc("SmoothQuant alpha in [0, 1] or auto (\"\": off)"),
      llvm::cl::init("")};
  Option<double> llmInt8{*this, "llm-int8",
                         llvm::cl::desc("LLM.int8() threshold (0: off)"),
                         llvm::cl::init(0.0)};

  PipelineOptions get() const {
    PipelineOptions o;
    o.target = target;
    o.optLevel = optLevel;
    o.inputShapes = inputShapes;
    o.dimMax = dimMax;
    o.kvCache = kvCache;
    o.weightThreshold = weightThreshold;
    o.weightsFile = weightsFile;
    o.parallel = parallel;
    o.quant = quant;
    o.groupSize = groupSize;
    o.weightScheme = weightScheme;
    o.actScheme = actScheme;
    o.actGranularity = actGranularity;
    o.exclude = exclude;
    o.calibFile = calib;
    o.smoothQuant = smoothquant;
    o.llmInt8 = llmInt8;
    return o;
  }
};
} // namespace

/// PassPipelineRegistration<CLOptions>, but bad quantization options are
/// parse errors of the pipeline string (not a crash or a silent no-op).
static void registerPipeline(
    StringRef arg, StringRef desc,
    std::function<void(OpPassManager &, const PipelineOptions &)> build) {
  registerPassPipeline(
      arg, desc,
      [build](OpPassManager &pm, StringRef optionsStr,
              function_ref<LogicalResult(const Twine &)> errorHandler) {
        CLOptions o;
        if (failed(o.parseFromString(optionsStr)))
          return failure();
        PipelineOptions p = o.get();
        std::string err = validateQuantOptions(p);
        if (!err.empty())
          return errorHandler(err);
        build(pm, p);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optHandler) {
        optHandler(CLOptions());
      });
}

void mlir::qopt::registerQOptPipelines() {
  registerPipeline("qopt-quantize",
                   "quantization passes on the qopt graph (quant=...)",
                   buildQuantizationPipeline);
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
  registerPipeline(
      "qopt-full",
      "qopt-frontend + qopt-quantize + qopt-lower-to-linalg + qopt-lower-to-llvm",
      [](OpPassManager &pm, const PipelineOptions &p) {
        buildFrontendPipeline(pm, p);
        buildQuantizationPipeline(pm, p);
        buildLowerToLinalgPipeline(pm, p);
        buildLowerToLLVMPipeline(pm, p);
      });
}
