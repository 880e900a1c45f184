//===- qopt-run.cpp - run a compiled (.so) or JIT-compiled model -----------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
//   qopt-run OUT.so|MODEL.onnx|MODEL.mlir --input NAME=FILE ... --output-dir DIR
//            [--threads N] [--bench N] [--input-shape NAME:1x128]
//
// Inputs: .npy or ONNX TensorProto .pb. Outputs: DIR/<name>.npy, with the
// shapes the model computed (models with dynamic dims take inputs of any
// size the ABI allows; docs/abi.md).
// bfloat16 tensors are read and written as their uint16 bit patterns ('<u2'),
// as NumPy and the ONNX test data store them.
//
//===----------------------------------------------------------------------===//
#include "qopt/Support/TensorFile.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "qopt/InitAll.h"
#include "qopt/Support/ToolSupport.h"
#include "qopt/Pipelines/Pipelines.h"
#include "qopt/Target/LLVMIR/EmitObject.h"
#include "qopt/qopt_runtime.h"
#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <dlfcn.h>
#include <sys/resource.h>

extern "C" int omp_get_max_threads(void);

using namespace llvm;

static cl::OptionCategory cat("qopt-run options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::cat(cat), cl::desc("<model.so|model.onnx|model.mlir>"));
static cl::list<std::string> inputs("input", cl::cat(cat), cl::desc("NAME=FILE or FILE (.npy/.pb)"));
static cl::opt<std::string> outputDir("output-dir", cl::cat(cat), cl::desc("write DIR/<output>.npy"));
// `--threads` clashes with an option inside libLLVM: parsed by hand below.
static int threads = 0;
static cl::opt<int> bench("bench", cl::cat(cat), cl::desc("time N runs after 2 warm-ups"), cl::init(0));
static cl::list<std::string> inputShapes("input-shape", cl::cat(cat), cl::desc("NAME:1x128 (JIT)"));
static cl::list<std::string> constInputs(
    "const-input",
    cl::cat(cat), cl::desc("NAME=FILE: compile the model specialized for this input value "
             "(JIT only; the input is then not passed at run time)"));
static cl::opt<std::string> target("target", cl::cat(cat), cl::desc("JIT target"), cl::init("host"));
static cl::opt<int> optLevel("opt-level", cl::cat(cat), cl::desc("JIT opt level"), cl::init(3));

/// User + system CPU time of the process, in seconds.
static double cpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static int fail(const Twine &msg) {
  errs() << "qopt-run: error: " << msg << "\n";
  return 1;
}

namespace {
/// The runtime entry points: from a dlopen'ed model or the linked runtime.
struct Api {
  decltype(&qopt_model_num_inputs) numInputs = qopt_model_num_inputs;
  decltype(&qopt_model_num_outputs) numOutputs = qopt_model_num_outputs;
  decltype(&qopt_model_input_info) inputInfo = qopt_model_input_info;
  decltype(&qopt_model_output_info) outputInfo = qopt_model_output_info;
  decltype(&qopt_run) run = qopt_run;
  decltype(&qopt_last_error) lastError = qopt_last_error;
  decltype(&qopt_set_num_threads) setThreads = qopt_set_num_threads;
  decltype(&qopt_model_free) free = qopt_model_free;
  decltype(&qopt_model_load) load = qopt_model_load;
  // Absent from libraries built before dynamic shapes (then: static).
  decltype(&qopt_model_is_dynamic) isDynamic = qopt_model_is_dynamic;
  decltype(&qopt_run_dynamic) runDynamic = qopt_run_dynamic;
  decltype(&qopt_free) freeData = qopt_free;
};
} // namespace

static std::string sanitize(StringRef name) {
  std::string s;
  for (char c : name)
    s.push_back(isAlnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
  return s.empty() ? "_" : s;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    StringRef a = argv[i];
    StringRef v;
    if (a == "--threads" || a == "-threads") {
      if (i + 1 >= argc) return fail("--threads needs a value");
      v = argv[++i];
    } else if (a.consume_front("--threads=") || a.consume_front("-threads=")) {
      v = a;
    } else {
      args.push_back(argv[i]);
      continue;
    }
    if (v.getAsInteger(10, threads))
      return fail("bad --threads value '" + v + "'");
  }
  int nargs = (int)args.size();
  // --help lists qopt-run's options; libLLVM's stay in --help-hidden.
  cl::HideUnrelatedOptions(cat);
  if (!mlir::qopt::parseToolCommandLine(nargs, args.data(),
                        "qopt model runner\n\n  --threads N  worker "
                        "threads (OpenMP; default: all cores)\n"))
    return 1;
  if (threads < 0) return fail("--threads must be >= 0");
  if (bench < 0) return fail("--bench must be >= 0");
  (void)omp_get_max_threads; // keep libomp linked for JIT-compiled models

  Api api;
  qopt_model *model = nullptr;
  // JIT state (kept alive while the model runs).
  mlir::DialectRegistry registry;
  mlir::qopt::registerAllDialects(registry);
  mlir::MLIRContext ctx(registry);
  mlir::qopt::JITModel jit;
  std::vector<char> blob;
  void *weights = nullptr;
  // Every exit, error paths included, frees the model before the JIT state.
  auto release = llvm::make_scope_exit([&] {
    if (model)
      api.free(model);
    std::free(weights);
  });

  StringRef path = modelPath;
  if (!sys::fs::exists(path))
    return fail("no such file: '" + path + "'");
  if (path.ends_with(".so")) {
    std::string abs = path.str();
    SmallString<256> real;
    if (!sys::fs::real_path(path, real)) abs = std::string(real);
    void *h = dlopen(abs.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) return fail(Twine("cannot load '") + path + "': " + dlerror());
    bool ok = true;
    auto sym = [&](auto &fn, const char *name) {
      void *p = dlsym(h, name);
      if (!p) ok = false;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    sym(api.numInputs, "qopt_model_num_inputs");
    sym(api.numOutputs, "qopt_model_num_outputs");
    sym(api.inputInfo, "qopt_model_input_info");
    sym(api.outputInfo, "qopt_model_output_info");
    sym(api.run, "qopt_run");
    sym(api.lastError, "qopt_last_error");
    sym(api.setThreads, "qopt_set_num_threads");
    sym(api.free, "qopt_model_free");
    sym(api.load, "qopt_model_load");
    if (!ok) return fail("'" + path + "' is not a qopt model library");
    sym(api.isDynamic, "qopt_model_is_dynamic");
    sym(api.runDynamic, "qopt_run_dynamic");
    sym(api.freeData, "qopt_free");
    if (!api.runDynamic || !api.freeData) api.isDynamic = nullptr;
    if (api.load(nullptr, &model) != QOPT_OK)
      return fail(Twine("cannot load model: ") + api.lastError());
  } else {
    mlir::qopt::registerAllPasses();
    ctx.loadAllAvailableDialects();
    mlir::OwningOpRef<mlir::ModuleOp> module;
    if (path.ends_with(".mlir")) {
      SourceMgr sm;
      mlir::SourceMgrDiagnosticHandler handler(sm, &ctx);
      std::string err;
      auto buf = mlir::openInputFile(path, &err);
      if (!buf) return fail(err);
      sm.AddNewSourceBuffer(std::move(buf), SMLoc());
      module = mlir::parseSourceFile<mlir::ModuleOp>(sm, &ctx);
    } else {
      module = mlir::qopt::importONNXFile(path, &ctx);
    }
    if (!module) return 1;
    for (StringRef spec : constInputs) {
      auto [name, file] = spec.split('=');
      if (name.empty() || file.empty())
        return fail("bad --const-input '" + spec + "': expected NAME=FILE");
      qopt::HostTensor t;
      std::string err;
      bool ok = file.ends_with(".pb") ? qopt::readTensorProto(file, t, err)
                                      : qopt::readNpy(file, t, err);
      if (!ok) return fail(err);
      if (failed(mlir::qopt::bindInputAsConstant(*module, name, t.dtype, t.shape,
                                                 t.data)))
        return 1;
    }
    mlir::qopt::PipelineOptions popts;
    popts.target = target;
    popts.optLevel = std::clamp((int)optLevel, 0, 3);
    popts.weightsSink = &blob;
    popts.maxStaticArena = 0; // JIT: no large static data
    popts.kvCache = "copy"; // the ONNX graph's own inputs and outputs
    for (auto &s : inputShapes)
      popts.inputShapes += (popts.inputShapes.empty() ? "" : ",") + s;
    if (failed(mlir::qopt::lowerModule(*module, popts, mlir::qopt::Stage::LLVM)))
      return 1;
    mlir::qopt::TargetOptions topts{popts.target, popts.optLevel};
    auto jm = mlir::qopt::jitCompile(*module, topts);
    if (failed(jm)) return 1;
    jit = std::move(*jm);
    if (!blob.empty()) {
      size_t sz = (blob.size() + 63) / 64 * 64;
      weights = std::aligned_alloc(64, sz);
      if (!weights) return fail("out of memory");
      memcpy(weights, blob.data(), blob.size());
    }
    if (qopt_model_create(jit.abi.c_str(), jit.entry, weights, blob.size(),
                          &model) != QOPT_OK)
      return fail(Twine("cannot create model: ") + qopt_last_error());
  }

  // Inputs.
  size_t nin = api.numInputs(model), nout = api.numOutputs(model);
  std::vector<qopt::HostTensor> hin(inputs.size());
  std::vector<qopt_tensor> tin(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    StringRef spec = inputs[i], name, file = spec;
    if (!sys::fs::exists(spec) && spec.contains('='))
      std::tie(name, file) = spec.split('=');
    std::string err;
    qopt::HostTensor &t = hin[i];
    bool ok = file.ends_with(".pb") ? qopt::readTensorProto(file, t, err)
                                    : qopt::readNpy(file, t, err);
    if (!ok) return fail(err);
    if (!name.empty()) t.name = name.str();
    else if (!file.ends_with(".pb")) t.name.clear();
    // A .pb's own name is used only if the model has such an input.
    if (file.ends_with(".pb") && name.empty()) {
      bool known = false;
      for (size_t k = 0; k < nin; ++k) {
        qopt_tensor_info info;
        api.inputInfo(model, k, &info);
        known |= t.name == info.name;
      }
      if (!known) t.name.clear();
    }
    // NumPy has no bfloat16: .npy files and the ONNX test data (TensorProto
    // UINT16) carry bfloat16 tensors as their uint16 bit patterns. Take such
    // a tensor as bfloat16 where the model input is bfloat16.
    if (t.dtype == 4) {
      for (size_t k = 0; k < nin; ++k) {
        qopt_tensor_info info;
        if (api.inputInfo(model, k, &info) != QOPT_OK) continue;
        if (t.name.empty() ? k == i : t.name == info.name) {
          if (info.dtype == 16) t.dtype = 16;
          break;
        }
      }
    }
    tin[i] = {t.name.empty() ? nullptr : t.name.c_str(), t.dtype,
              (int32_t)t.shape.size(), t.shape.data(), t.data.data()};
  }
  // Outputs: a static model's are allocated here; a dynamic model's come
  // back with their run-time shapes (written into the previous run's
  // buffers when they fit).
  bool dynamic = api.isDynamic && api.isDynamic(model);
  std::vector<qopt::HostTensor> hout(nout);
  std::vector<qopt_tensor> tout(nout);
  std::vector<qopt_output> dout(nout);
  for (size_t k = 0; k < nout; ++k) {
    qopt_tensor_info info;
    if (api.outputInfo(model, k, &info) != QOPT_OK)
      return fail(api.lastError());
    qopt::HostTensor &t = hout[k];
    t.name = info.name;
    t.dtype = info.dtype;
    if (dynamic)
      continue;
    t.shape.assign(info.shape, info.shape + info.rank);
    t.data.assign(info.num_bytes, 0);
    tout[k] = {nullptr, t.dtype, info.rank, t.shape.data(), t.data.data()};
  }
  if (threads > 0) api.setThreads(threads);
  auto runDynamic = [&]() -> bool {
    for (size_t k = 0; k < nout; ++k) {
      dout[k] = qopt_output{};
      dout[k].data = hout[k].data.empty() ? nullptr : hout[k].data.data();
      dout[k].capacity = hout[k].data.size();
    }
    if (api.runDynamic(nullptr, model, tin.data(), tin.size(), dout.data(),
                       nout) != QOPT_OK)
      return false;
    for (size_t k = 0; k < nout; ++k) {
      qopt_output &o = dout[k];
      hout[k].shape.assign(o.shape, o.shape + o.rank);
      if (o.owned) {
        const char *p = static_cast<const char *>(o.data);
        hout[k].data.assign(p, p + o.num_bytes);
        api.freeData(o.data);
      } else {
        hout[k].data.resize(o.num_bytes);
      }
    }
    return true;
  };
  auto runOnce = [&]() -> bool {
    if (dynamic)
      return runDynamic();
    return api.run(model, tin.data(), tin.size(), tout.data(), nout) == QOPT_OK;
  };
  if (!runOnce()) return fail(api.lastError());
  if (bench > 0) {
    runOnce();
    std::vector<double> ms;
    // Process CPU time per run too: on a shared, oversubscribed machine it
    // is the 1-thread run time without the waits for a core.
    double cpu0 = cpuSeconds();
    for (int i = 0; i < bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      runOnce();
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.size() % 2 ? ms[ms.size() / 2]
                                  : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    double cpuMs = (cpuSeconds() - cpu0) * 1e3 / bench;
    outs() << format("median_ms=%.4f min_ms=%.4f cpu_ms=%.4f\n", median,
                     ms.front(), cpuMs);
  }
  if (!outputDir.empty()) {
    if (auto ec = sys::fs::create_directories(outputDir))
      return fail("cannot create '" + outputDir + "': " + ec.message());
    for (auto &t : hout) {
      SmallString<256> p(outputDir);
      sys::path::append(p, sanitize(t.name) + ".npy");
      std::string bytes = qopt::encodeNpy(t);
      if (Error e = writeToOutput(p, [&](raw_ostream &os) -> Error {
            os << bytes;
            return Error::success();
          }))
        return fail("cannot write '" + p + "': " + toString(std::move(e)));
    }
  }
  (void)nin;
  return 0;
}
