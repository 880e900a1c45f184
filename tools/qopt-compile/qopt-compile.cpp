//===- qopt-compile.cpp - ONNX/MLIR model -> native shared library ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
//   qopt-compile MODEL.onnx|MODEL.mlir --target=host -O3 -o OUT.so
//
// Writes OUT.so, OUT.weights (sidecar weights blob) and OUT.h (the C ABI).
// A thin driver over the named pipelines in qopt/Pipelines/Pipelines.h.
//
//===----------------------------------------------------------------------===//
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "qopt/Calibration/ActivationPrep.h"
#include "qopt/Calibration/Calibration.h"
#include "qopt/Calibration/ZeroQ.h"
#include "qopt/Codegen/TargetDesc.h"
#include "qopt/InitAll.h"
#include "qopt/Support/ToolSupport.h"
#include "qopt/Pipelines/Pipelines.h"
#include "qopt/Target/LLVMIR/EmitObject.h"
#include "qopt/Target/ONNX/ImportONNX.h"
#include "QOptRuntimeHeader.inc"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <unistd.h>

using namespace mlir;
using namespace llvm;

static cl::OptionCategory cat("qopt-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx|model.mlir>"),
                                      cl::cat(cat));
static cl::opt<std::string> outputFile("o", cl::desc("output file ('-': stdout)"),
                                       cl::value_desc("file"), cl::cat(cat));
static cl::opt<std::string> target("target",
                                   cl::desc("host | avx512 | avx2 | avx2-vnni | x86-64 | neon | neon-i8mm "
                                           "(qopt/Codegen/TargetDesc.h)"),
                                   cl::init("host"), cl::cat(cat));
static cl::opt<std::string> optLevel("O", cl::Prefix, cl::desc("0..3"),
                                     cl::init("3"), cl::cat(cat));
static cl::opt<std::string>
    emit("emit",
         cl::desc("qonnx|qopt|linalg|llvm-mlir|llvm|asm|obj|so (default so)"),
         cl::init("so"), cl::cat(cat));
static cl::list<std::string> inputShapes("input-shape",
                                         cl::desc("pin dims: NAME:1x128"),
                                         cl::cat(cat));
static cl::list<std::string> dimMax(
    "dim-max", cl::desc("bound a named dynamic dim: NAME:N (checked at run time)"),
    cl::cat(cat));
static cl::opt<std::string> kvCache(
    "kv-cache",
    cl::desc("KV decoders (past_key_values.N -> present.N): auto (in place "
             "when the model follows that naming) | inplace | copy (keep the "
             "ONNX inputs/outputs) | int8 (in place, int8 rows with a "
             "scale per row and head); docs/abi.md"),
    cl::init("auto"), cl::cat(cat));
static cl::opt<bool> dumpPipeline("dump-pipeline",
                                  cl::desc("print the pass pipeline and exit"),
                                  cl::cat(cat));
static cl::list<std::string> passPlugins("load-pass-plugin",
                                         cl::desc("load a pass plugin .so"),
                                         cl::cat(cat));
static cl::opt<std::string> graphPasses(
    "graph-passes",
    cl::desc("extra passes run on the legalized qopt graph, e.g. from a "
             "--load-pass-plugin (textual pipeline: 'pass1,pass2{opt=1}')"),
    cl::value_desc("pipeline"), cl::cat(cat));
static cl::opt<std::string> profileLines(
    "profile-lines",
    cl::desc("write the linalg-level IR to FILE and give the object line "
             "tables pointing into it (perf report --sort srcline names the "
             "op behind each sample)"),
    cl::value_desc("FILE"), cl::cat(cat));
static cl::opt<int64_t>
    weightThreshold("weight-threshold",
                    cl::desc("constants above this many bytes go to OUT.weights"),
                    cl::init(1024), cl::cat(cat));
static cl::opt<bool> openmp("openmp",
                            cl::desc("parallel loops through OpenMP (libomp)"),
                            cl::init(true), cl::cat(cat));

// Quantization (docs/quantization.md).
static cl::opt<std::string>
    quant("quant",
          cl::desc("fp32 | w8 | w4 | w8a8 | w8a8-dynamic | w4a8 (default "
                   "fp32); w8a8 (static) needs --calib"),
          cl::init("fp32"), cl::cat(cat));
static cl::opt<int64_t>
    groupSize("group-size",
              cl::desc("int4 weight group size along K (0: per channel)"),
              cl::init(128), cl::cat(cat));
static cl::opt<std::string> weightScheme("weight-scheme",
                                         cl::desc("sym | asym (weights)"),
                                         cl::init("sym"), cl::cat(cat));
static cl::opt<std::string>
    actScheme("act-scheme",
              cl::desc("sym | asym (quantized activations; default asym "
                       "for dynamic, sym for static)"),
              cl::init(""), cl::cat(cat));
static cl::opt<std::string>
    actGranularity("act-granularity",
                   cl::desc("token | tensor (dynamic activation scales)"),
                   cl::init("token"), cl::cat(cat));
static cl::opt<std::string>
    excludeLayers("exclude",
                  cl::desc("regex of layer (ONNX node) or weight names to "
                           "keep in f32"),
                  cl::value_desc("regex"), cl::cat(cat));

// Static w8a8: calibration (docs/quantization.md, "static").
static cl::opt<std::string> calibData(
    "calib",
    cl::desc("calibration data for --quant=w8a8: .npy (single input, leading "
             "sample axis), .npz (one array per input name) or a directory "
             "of ONNX test-data sets"),
    cl::value_desc("file"), cl::cat(cat));
static cl::opt<std::string> calibMethod(
    "calib-method",
    cl::desc("activation range: minmax | percentile[:99.99] | entropy | mse "
             "(default percentile:99.99, the best on llama-tiny; mse with "
             "--llm-int8)"),
    cl::init("percentile:99.99"), cl::cat(cat));
static cl::opt<int64_t>
    calibSamples("calib-samples",
                 cl::desc("use the first N calibration samples (0: all)"),
                 cl::init(0), cl::cat(cat));
static cl::opt<std::string> saveSynthetic(
    "save-synthetic",
    cl::desc("with --calib=synthetic: also write the generated calibration "
             "inputs (.npy)"),
    cl::value_desc("file"), cl::cat(cat));
static cl::opt<unsigned> syntheticSteps(
    "synthetic-steps",
    cl::desc("with --calib=synthetic on a CNN with BatchNormalization: Adam "
             "steps matching the BN statistics (default 200)"),
    cl::init(200), cl::cat(cat));
static cl::opt<std::string> saveCalibration(
    "save-calibration", cl::desc("write the activation statistics (JSON)"),
    cl::value_desc("file"), cl::cat(cat));
static cl::opt<std::string> loadCalibration(
    "load-calibration",
    cl::desc("read activation statistics saved by --save-calibration "
             "instead of calibrating"),
    cl::value_desc("file"), cl::cat(cat));
// LLM activation algorithms (docs/quantization.md, "LLM algorithms").
static cl::opt<std::string> smoothQuant(
    "smoothquant",
    cl::desc("SmoothQuant before activation quantization: "
             "--smoothquant[=ALPHA|auto] (default alpha 0.5; auto searches "
             "alpha per layer on the calibration data); needs --calib"),
    cl::value_desc("alpha|auto"), cl::ValueOptional, cl::cat(cat));
static cl::opt<std::string> llmInt8(
    "llm-int8",
    cl::desc("LLM.int8(): input channels whose calibration max|x| exceeds "
             "the threshold (default 6.0) stay f32, the rest int8; needs "
             "--calib"),
    cl::value_desc("threshold"), cl::ValueOptional, cl::cat(cat));
static cl::opt<std::string> reportFile(
    "report",
    cl::desc("--quant=w8a8: per-layer noise report (JSON) + FILE.svg chart"),
    cl::value_desc("file.json"), cl::cat(cat));

// Calibration-driven weight quantization (docs/quantization.md, "LLM
// algorithms"): with --quant=w4|w8 and --calib.
static cl::opt<bool> gptq("gptq",
                          cl::desc("GPTQ weights from calibration Hessians "
                                   "(--quant=w4|w8, needs --calib)"),
                          cl::cat(cat));
static cl::opt<bool> actOrder("act-order",
                              cl::desc("GPTQ: rows by decreasing Hessian "
                                       "diagonal (static groups)"),
                              cl::cat(cat));
static cl::opt<double> damp("damp",
                            cl::desc("GPTQ dampening: fraction of the mean "
                                     "Hessian diagonal (default 0.01)"),
                            cl::init(0.01), cl::cat(cat));
static cl::opt<bool> clipSearch(
    "clip-search",
    cl::desc("GPTQ: search each group's range on its output error"),
    cl::cat(cat));
static cl::opt<bool> awq("awq",
                         cl::desc("AWQ activation-aware scaling + clipping "
                                  "(--quant=w4|w8, needs --calib; with "
                                  "--gptq: AWQ scales, GPTQ rounds)"),
                         cl::cat(cat));
static cl::opt<std::string> reconstruct(
    "reconstruct",
    cl::desc("--reconstruct[=ITERS]: layer-wise reconstruction, ITERS "
             "(default 8) coordinate-descent sweeps over each layer's "
             "integers + closed-form group scales on its calibration output "
             "error, from RTN or (with --gptq) from GPTQ (--quant=w4|w8, "
             "needs --calib)"),
    cl::value_desc("iters"), cl::ValueOptional, cl::cat(cat));
static cl::opt<bool> biasCorrection(
    "bias-correction",
    cl::desc("subtract the mean output shift of weight quantization per "
             "channel (--quant=w4|w8, needs --calib)"),
    cl::cat(cat));
static cl::opt<double> mixedPrecision(
    "mixed-precision",
    cl::desc("average bits per linear weight (e.g. 5.0): int4 / int8 / f32 "
             "per layer by calibrated sensitivity (--quant=w4, needs --calib)"),
    cl::value_desc("bits"), cl::init(0), cl::cat(cat));

static int fail(const Twine &msg) {
  errs() << "qopt-compile: error: " << msg << "\n";
  return 1;
}

static LogicalResult writeAtomically(StringRef path, StringRef data) {
  if (Error e = writeToOutput(path, [&](raw_ostream &os) -> Error {
        os << data;
        return Error::success();
      })) {
    errs() << "qopt-compile: error: cannot write '" << path
           << "': " << toString(std::move(e)) << "\n";
    return failure();
  }
  return success();
}

/// Prints text output to -o (atomically) or stdout.
static int emitText(StringRef text) {
  if (outputFile.empty() || outputFile == "-") {
    outs() << text;
    return 0;
  }
  return failed(writeAtomically(outputFile, text)) ? 1 : 0;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  qopt::registerAllPasses();
  // --help shows qopt's options; MLIR/LLVM debugging flags
  // (--mlir-print-ir-after-all, --mlir-timing, ...) stay in --help-hidden.
  cl::HideUnrelatedOptions(cat);
  if (!mlir::qopt::parseToolCommandLine(
          argc, argv,
          "qopt model compiler: ONNX -> native shared library + weights + "
          "header\n"
          "\nMLIR debugging flags (--mlir-print-ir-after-all, --mlir-timing, "
          "...) are accepted; see --help-hidden.\n"))
    return 1;

  // Validate options.
  if (optLevel.size() != 1 || optLevel[0] < '0' || optLevel[0] > '3')
    return fail("bad optimization level '-O" + optLevel +
                "' (expected -O0, -O1, -O2 or -O3)");
  static const char *emits[] = {"qonnx", "qopt", "linalg", "llvm-mlir",
                                "llvm",  "asm",  "obj",    "so"};
  if (!llvm::is_contained(emits, emit))
    return fail("bad --emit=" + emit +
                " (expected qonnx|qopt|linalg|llvm-mlir|llvm|asm|obj|so)");
  if (!qopt::lookupTargetDesc(target))
    return fail("unknown --target=" + target + " (expected " +
                qopt::targetNames() + ")");
  qopt::PipelineOptions popts;
  popts.target = target;
  // A cross target's code cannot be linked with this host's runtime.
  if (StringRef arch = qopt::lookupTargetDesc(target)->arch;
      emit == "so" &&
      Triple(arch + "-unknown-unknown").getArch() !=
          Triple(sys::getProcessTriple()).getArch())
    return fail("--emit=so for target '" + target + "' (" + arch.str() +
                ") needs an " + arch.str() +
                " host: use --emit=obj and scripts/aarch64-link.sh");
  popts.optLevel = optLevel[0] - '0';
  popts.profileLines = profileLines;
  popts.weightThreshold = weightThreshold;
  popts.parallel = openmp;
  // No libomp for a cross target's artifacts (scripts/aarch64-link.sh links
  // libc only): its loops stay sequential.
  if (Triple(qopt::lookupTargetDesc(target)->arch + "-unknown-unknown")
          .getArch() != Triple(sys::getProcessTriple()).getArch())
    popts.parallel = false;
  for (StringRef s : inputShapes) {
    auto [name, dims] = s.rsplit(':');
    if (name.empty() || dims.empty() ||
        dims.find_first_not_of("0123456789x") != StringRef::npos)
      return fail("bad --input-shape='" + s + "' (expected NAME:1x128)");
    popts.inputShapes += (popts.inputShapes.empty() ? "" : ",") + s.str();
  }
  for (StringRef s : dimMax)
    popts.dimMax += (popts.dimMax.empty() ? "" : ",") + s.str();
  popts.kvCache = kvCache;
  popts.quant = quant;
  popts.groupSize = groupSize;
  popts.weightScheme = weightScheme;
  popts.actScheme = actScheme;
  popts.actGranularity = actGranularity;
  popts.exclude = excludeLayers;
  popts.calibFile = !calibData.empty() ? calibData : loadCalibration;
  if (smoothQuant.getNumOccurrences())
    popts.smoothQuant = smoothQuant.empty() ? "0.5" : smoothQuant.getValue();
  if (llmInt8.getNumOccurrences()) {
    double t = 6.0;
    if (!llmInt8.empty() && StringRef(llmInt8).getAsDouble(t))
      return fail("bad --llm-int8='" + llmInt8 + "' (expected a threshold)");
    if (!(t > 0))
      return fail("--llm-int8 threshold must be > 0");
    popts.llmInt8 = t;
  }
  bool actPrep = !popts.smoothQuant.empty() || popts.llmInt8 > 0;
  qopt::calib::Method method;
  {
    std::string merr;
    // LLM.int8() leaves the int8 part bounded by the threshold (no outlier
    // tail), where the MSE-optimal range beats a near-max percentile
    // (llama-tiny w8a8: +0.087 % vs +0.205 % Δbpb, docs/quantization.md).
    std::string m = calibMethod;
    if (popts.llmInt8 > 0 && !calibMethod.getNumOccurrences())
      m = "mse";
    if (!qopt::calib::parseMethod(m, method, merr))
      return fail(merr);
  }
  int reconstructIters = 0;
  if (reconstruct.getNumOccurrences()) {
    reconstructIters = 8;
    if (!reconstruct.empty() &&
        (StringRef(reconstruct).getAsInteger(10, reconstructIters) ||
         reconstructIters < 1 || reconstructIters > 1000))
      return fail("bad --reconstruct='" + reconstruct +
                  "' (expected a number of sweeps in [1, 1000])");
  }
  bool weightCalib = gptq || awq || biasCorrection || mixedPrecision != 0 ||
                     reconstructIters > 0;
  if (weightCalib) {
    if (quant != "w4" && quant != "w8")
      return fail("--gptq, --awq, --reconstruct, --bias-correction and "
                  "--mixed-precision are for --quant=w4 or --quant=w8");
    if (calibData.empty())
      return fail("--gptq, --awq, --reconstruct, --bias-correction and "
                  "--mixed-precision need calibration data: --calib=FILE");
    if (!loadCalibration.empty() || !saveCalibration.empty())
      return fail("--load-calibration / --save-calibration hold activation "
                  "ranges (w8a8); the weight algorithms recalibrate");
    if (!(damp >= 0 && damp < 1))
      return fail("--damp must be in [0, 1)");
    if (mixedPrecision != 0 && (quant != "w4" || !(mixedPrecision >= 4) ||
                                !(mixedPrecision <= 32)))
      return fail("--mixed-precision=BITS needs --quant=w4 and 4 <= BITS <= "
                  "32 (average bits per linear weight)");
  }
  if (!gptq && (actOrder || damp != 0.01)) {
    return fail("--act-order and --damp are GPTQ options (add --gptq)");
  }
  if (!gptq && !reconstructIters && clipSearch)
    return fail("--clip-search is an option of --gptq and --reconstruct");
  if (quant != "w8a8" && !weightCalib &&
      ((!calibData.empty() && !actPrep) || !loadCalibration.empty() ||
       !saveCalibration.empty() || !reportFile.empty()))
    return fail("--calib, --load-calibration, --save-calibration and "
                "--report are for --quant=w8a8 (static activations) or the "
                "weight algorithms (--gptq, --awq, --reconstruct, "
                "--bias-correction, --mixed-precision), or --calib for "
                "--smoothquant / --llm-int8");
  if (actPrep && calibData.empty())
    return fail("--smoothquant and --llm-int8 need activation statistics: "
                "--calib=FILE (or --calib=synthetic)");
  if (calibSamples < 0)
    return fail("--calib-samples must be >= 0");
  if ((!saveSynthetic.empty() || syntheticSteps.getNumOccurrences()) &&
      !StringRef(calibData).starts_with("synthetic"))
    return fail("--save-synthetic and --synthetic-steps need "
                "--calib=synthetic");
  if (!saveCalibration.empty() && calibData.empty())
    return fail("--save-calibration needs --calib=FILE");
  if (std::string e = qopt::validateQuantOptions(popts); !e.empty())
    return fail("--quant=" + quant + ": " + e);
  bool wantsFile = emit == "so" || emit == "obj";
  if (!dumpPipeline && wantsFile &&
      (outputFile.empty() || outputFile == "-"))
    return fail("--emit=" + emit + " needs -o FILE");
  // OUT.so comes with OUT.weights and OUT.h. The weights stream into a
  // temporary file next to them (renamed at the end, removed on failure or
  // a signal): a multi-GB blob is never held in memory.
  // OUT.o (--emit=obj, e.g. a cross target) comes with OUT.weights too.
  SmallString<256> base(outputFile);
  if (base.ends_with(".so"))
    base.resize(base.size() - 3);
  else if (emit == "obj" && base.ends_with(".o"))
    base.resize(base.size() - 2);
  std::string weightsPath = (base + ".weights").str();
  std::string headerPath = (base + ".h").str();
  std::string weightsTmp;
  if (wantsFile && !dumpPipeline) {
    StringRef dir = sys::path::parent_path(outputFile);
    if (!dir.empty() && !sys::fs::is_directory(dir))
      return fail("cannot write '" + outputFile + "': no directory '" + dir +
                  "'");
    weightsTmp = weightsPath + ".tmp-" + std::to_string(::getpid());
    popts.weightsFile = weightsTmp;
    sys::RemoveFileOnSignal(weightsTmp);
  }
  auto removeTmp = llvm::make_scope_exit([&] {
    if (!weightsTmp.empty())
      sys::fs::remove(weightsTmp);
  });
  // The tool owns every module of its context.
  popts.releaseReplacedWeights = true;

  for (const std::string &p : passPlugins) {
    auto plugin = PassPlugin::load(p);
    if (!plugin)
      return fail("cannot load pass plugin '" + p +
                  "': " + toString(plugin.takeError()));
    plugin->registerPassRegistryCallbacks();
  }

  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  if (dumpPipeline) {
    mlir::PassManager pm(&ctx);
    qopt::buildFrontendPipeline(pm, popts);
    qopt::buildQuantizationPipeline(pm, popts);
    qopt::buildLowerToLinalgPipeline(pm, popts);
    qopt::buildLowerToLLVMPipeline(pm, popts);
    pm.printAsTextualPipeline(outs());
    outs() << "\n";
    return 0;
  }
  // Load.
  OwningOpRef<ModuleOp> module;
  StringRef in = inputFile;
  if (in.ends_with(".mlir")) {
    llvm::SourceMgr sm;
    SourceMgrDiagnosticHandler handler(sm, &ctx);
    std::string err;
    auto buf = openInputFile(in, &err);
    if (!buf)
      return fail(err);
    sm.AddNewSourceBuffer(std::move(buf), SMLoc());
    module = parseSourceFile<ModuleOp>(sm, &ctx);
    if (!module)
      return 1;
  } else {
    if (!sys::fs::exists(in))
      return fail("no such file: '" + in + "'");
    module = qopt::importONNXFile(in, &ctx);
    if (!module)
      return 1;
  }

  auto print = [&](Operation *op) {
    std::string text;
    raw_string_ostream os(text);
    op->print(os);
    os << "\n";
    return emitText(text);
  };
  if (emit == "qonnx")
    return print(*module);
  qopt::Stage last = emit == "qopt"     ? qopt::Stage::QOpt
                     : emit == "linalg" ? qopt::Stage::Linalg
                                        : qopt::Stage::LLVM;
  if ((int)qopt::detectStage(*module) > (int)last)
    return fail("the input is already past the '" + emit + "' stage");
  auto configure = [](mlir::PassManager &pm) {
    return applyPassManagerCLOptions(pm);
  };
  // Removes the synthetic calibration file on every exit path.
  struct TempFile {
    SmallString<128> path;
    ~TempFile() {
      if (!path.empty())
        sys::fs::remove(path);
    }
  } synthetic;
  bool needsCalib = quant == "w8a8" || actPrep ||
                    (weightCalib && StringRef(calibData).starts_with("synthetic"));
  if (needsCalib && !(*module)->hasAttr(qopt::kQuantizedAttrName)) {
    // Static activations: calibrate the FP32 graph (JIT), then quantize.
    if ((int)qopt::detectStage(*module) > (int)qopt::Stage::QOpt)
      return fail("--quant=" + quant + " with calibration needs an ONNX or "
                  "qopt-level input");
    qopt::PipelineOptions fp = popts;
    fp.quant = "fp32";
    fp.smoothQuant.clear();
    fp.llmInt8 = 0;
    StringRef synthKind;
    bool zeroq = false;
    int64_t synthCount = calibSamples > 0 ? (int64_t)calibSamples : 32;
    if (StringRef(calibData).starts_with("synthetic")) {
      synthKind = StringRef(calibData).drop_front(9);
      if (!synthKind.empty() && !synthKind.consume_front(":"))
        return fail("unknown --calib='" + calibData +
                    "' (expected synthetic or synthetic:random)");
      if (synthKind.empty())
        synthKind = "model";
      if (synthKind != "model" && synthKind != "random")
        return fail("unknown synthetic calibration '" + synthKind.str() +
                    "' (expected --calib=synthetic or "
                    "--calib=synthetic:random)");
      int fd;
      if (std::error_code ec = sys::fs::createTemporaryFile(
              "qopt-synthetic", "npy", fd, synthetic.path))
        return fail("cannot create a temporary file: " + ec.message());
      ::close(fd);
      // Image models with BatchNormalization: inputs that reproduce the
      // BN running statistics (ZeroQ), read from the ONNX-level graph.
      zeroq = qopt::detectStage(*module) == qopt::Stage::QONNX &&
              qopt::calib::hasBatchNorm(*module);
      if (zeroq) {
        qopt::calib::ZeroQOptions zo;
        zo.count = synthCount;
        zo.steps = synthKind == "random" ? 0 : (int64_t)syntheticSteps;
        zo.progress = ::isatty(2) || !saveSynthetic.empty();
        qopt::calib::ZeroQReport zr;
        std::string serr;
        if (failed(qopt::calib::makeBatchNormMatchedInputs(
                *module, zo, synthetic.path, zr, serr)))
          return fail(serr);
      }
    }
    if (failed(qopt::lowerModule(*module, fp, qopt::Stage::QOpt, configure)))
      return 1;
    fp.weightsSink = nullptr;
    if (!synthKind.empty()) {
      // Data-free LM calibration: token sequences sampled from the FP32
      // model itself.
      std::string serr;
      if (!zeroq && failed(qopt::calib::makeSyntheticCalibration(
                        *module, synthKind, synthCount, /*sweeps=*/16, fp,
                        synthetic.path, serr)))
        return fail(serr);
      if (!saveSynthetic.empty()) {
        // Atomic: a copy beside the target, renamed into place.
        std::string tmp = saveSynthetic + ".tmp";
        std::error_code ec = sys::fs::copy_file(synthetic.path, tmp);
        if (!ec)
          ec = sys::fs::rename(tmp, saveSynthetic);
        if (ec) {
          sys::fs::remove(tmp);
          return fail("cannot write '" + saveSynthetic + "': " +
                      ec.message());
        }
      }
      calibData = std::string(synthetic.path);
    }
    if (actPrep) {
      qopt::calib::ActivationPrepOptions ao;
      ao.calibPath = calibData;
      ao.maxSamples = calibSamples;
      ao.exclude = excludeLayers;
      ao.smoothQuant = popts.smoothQuant;
      ao.llmInt8 = popts.llmInt8;
      ao.staticAct = quant == "w8a8";
      ao.asym = actScheme.empty() ? quant != "w8a8" : actScheme == "asym";
      ao.perToken = actGranularity == "token";
      ao.method = method;
      ao.progress = ::isatty(2);
      ao.pipeline = fp;
      std::vector<qopt::calib::PrepLayer> layers;
      std::string perr;
      if (failed(qopt::calib::attachActivationStatistics(*module, ao, layers,
                                                         perr)))
        return fail(perr);
      for (const auto &L : layers) {
        if (L.outliers >= 0)
          errs() << formatv("qopt-compile: llm-int8: {0}: {1} of {2} input "
                            "channels above {3} (max|x| {4:F2})\n",
                            L.label, L.outliers, L.K, popts.llmInt8,
                            L.actAbsMax);
        if (L.alpha >= 0)
          errs() << formatv("qopt-compile: smoothquant: {0}: alpha {1:F1}\n",
                            L.label, L.alpha);
      }
      if (quant == "w8a8") {
        // Static scales must be calibrated on the smoothed / split graph.
        mlir::PassManager pm(&ctx);
        qopt::buildActivationPrepPipeline(pm, popts);
        if (failed(configure(pm)) || failed(pm.run(*module)))
          return 1;
      }
    }
  }
  if (quant == "w8a8" && !(*module)->hasAttr(qopt::kQuantizedAttrName)) {
    qopt::PipelineOptions fp = popts;
    fp.quant = "fp32";
    fp.smoothQuant.clear();
    fp.llmInt8 = 0;
    qopt::calib::StaticQuantOptions so;
    so.calibPath = calibData;
    so.loadPath = loadCalibration;
    so.savePath = saveCalibration;
    so.reportPath = reportFile;
    so.exclude = excludeLayers;
    so.modelName = sys::path::filename(inputFile).str();
    so.method = method;
    so.asym = actScheme == "asym";
    so.maxSamples = calibSamples;
    so.progress = ::isatty(2);
    so.pipeline = fp;
    so.pipeline.weightsSink = nullptr;
    std::string qerr;
    if (failed(qopt::calib::quantizeStaticW8A8(*module, so, qerr)))
      return fail(qerr);
    (*module)->setAttr(qopt::kQuantizedAttrName, StringAttr::get(&ctx, "w8a8"));
  }
  if (weightCalib && !(*module)->hasAttr(qopt::kQuantizedAttrName)) {
    // Calibrate the FP32 graph stage by stage and rewrite the weights; the
    // layers it leaves (none reached) get RTN in the normal pipeline.
    if ((int)qopt::detectStage(*module) > (int)qopt::Stage::QOpt)
      return fail("--gptq/--awq/--bias-correction/--mixed-precision need an "
                  "ONNX or qopt-level input");
    qopt::PipelineOptions fp = popts;
    fp.quant = "fp32";
    // One matmul per weight while the algorithms run (run-time row
    // counts are specialized afterwards, keeping their weights).
    fp.specializeRows = false;
    if (failed(qopt::lowerModule(*module, fp, qopt::Stage::QOpt, configure)))
      return 1;
    qopt::calib::LLMQuantOptions lo;
    lo.calibPath = calibData;
    lo.maxSamples = calibSamples;
    lo.exclude = excludeLayers;
    lo.modelName = sys::path::filename(inputFile).str();
    lo.reportPath = reportFile;
    lo.bits = quant == "w8" ? 8 : 4;
    lo.groupSize = groupSize;
    lo.symmetric = weightScheme == "sym";
    lo.gptq = gptq;
    lo.actOrder = actOrder;
    lo.damp = damp;
    lo.clipSearch = clipSearch;
    lo.awq = awq;
    lo.biasCorrection = biasCorrection;
    lo.mixedBits = mixedPrecision;
    lo.reconstruct = reconstructIters;
    lo.progress = ::isatty(2);
    lo.pipeline = fp;
    lo.pipeline.weightsSink = nullptr;
    std::string qerr;
    if (failed(qopt::calib::quantizeWithCalibration(*module, lo, qerr)))
      return fail(qerr);
    if (failed(qopt::specializeDynamicRows(*module, popts)))
      return 1;
  }
  if (!graphPasses.empty()) {
    // User passes see the legalized graph, before any lowering.
    if ((int)qopt::detectStage(*module) > (int)qopt::Stage::QOpt)
      return fail("--graph-passes needs an ONNX or qopt-level input");
    if (failed(qopt::lowerModule(*module, popts, qopt::Stage::QOpt, configure)))
      return 1;
    mlir::PassManager pm(&ctx);
    std::string perr;
    raw_string_ostream pos(perr);
    if (failed(parsePassPipeline(graphPasses, pm, pos)))
      return fail("bad --graph-passes '" + graphPasses + "': " + perr);
    if (failed(configure(pm)) || failed(pm.run(*module)))
      return 1;
  }
  if (failed(qopt::lowerModule(*module, popts, last, configure)))
    return 1;
  if (emit == "qopt" || emit == "linalg" || emit == "llvm-mlir")
    return print(*module);

  // LLVM IR and machine code.
  std::string err;
  qopt::TargetOptions topts;
  topts.target = target;
  topts.optLevel = popts.optLevel;
  auto tm = qopt::createTargetMachine(topts, err);
  if (!tm)
    return fail(err);
  LLVMContext llvmCtx;
  auto llvmModule =
      qopt::translateAndOptimize(*module, llvmCtx, *tm, popts.optLevel);
  if (!llvmModule)
    return 1;
  if (emit == "llvm") {
    std::string text;
    raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return emitText(text);
  }
  SmallVector<char> code;
  if (failed(qopt::emitMachineCode(*llvmModule, *tm, emit == "asm", code, err)))
    return fail(err);
  if (emit == "asm")
    return emitText(StringRef(code.data(), code.size()));
  // OUT.weights replaces an older one only once OUT.so/OUT.o is in place.
  auto commitWeights = [&]() -> LogicalResult {
    if (!sys::fs::exists(weightsTmp) &&
        failed(writeAtomically(weightsTmp, StringRef()))) // no large constants
      return failure();
    if (std::error_code ec = sys::fs::rename(weightsTmp, weightsPath)) {
      sys::fs::remove(outputFile);
      fail("cannot write '" + weightsPath + "': " + ec.message());
      return failure();
    }
    weightsTmp.clear();
    return success();
  };
  if (emit == "obj")
    return failed(writeAtomically(outputFile,
                                  StringRef(code.data(), code.size()))) ||
           failed(commitWeights());

  // Shared library + OUT.weights + OUT.h.
  std::string runtime = qopt::findRuntimeArchive(argv[0], (void *)&fail);
  if (failed(qopt::linkSharedLibrary(code, runtime, qopt::usesOpenMP(*module),
                                     outputFile, err)))
    return fail(err);
  if (failed(commitWeights()))
    return 1;
  if (failed(writeAtomically(headerPath, kQOptRuntimeHeader))) {
    sys::fs::remove(outputFile);
    sys::fs::remove(weightsPath);
    return 1;
  }
  return 0;
}
