//===- qopt-generate.cpp - text generation with a compiled KV decoder -----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
//   qopt-generate MODEL.so|MODEL.onnx (--prompt TEXT | --prompt-ids F.npy)
//       [--max-new-tokens 64] [--temperature 0] [--top-k 0] [--top-p 1]
//       [--seed 0] [--threads N] [--max-length N] [--output-ids F.npy]
//
// A thin driver over the runtime's qopt_decoder (docs/abi.md): the prompt is
// one prefill step, then one step per generated token, over a KV decoder
// compiled with in-place caches (qopt-compile's default for a model in the
// Hugging Face Optimum layout). A .so is driven through its own runtime copy
// (every qopt_* function from dlsym); an .onnx is JIT-compiled with
// --kv-cache=inplace and driven through the runtime linked into this tool.
//
// Prints the continuation (raw bytes for a 256-token vocabulary, else the
// ids separated by spaces), a newline, and as the last line
// `prefill: P tokens, X tok/s; decode: D tokens, Y tok/s`.
//
//===----------------------------------------------------------------------===//
#include "qopt/InitAll.h"
#include "qopt/Pipelines/Pipelines.h"
#include "qopt/Support/TensorFile.h"
#include "qopt/Support/ToolSupport.h"
#include "qopt/Target/LLVMIR/EmitObject.h"
#include "qopt/Target/ONNX/ImportONNX.h"
#include "qopt/qopt_runtime.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <numeric>
#include <random>

extern "C" int omp_get_max_threads(void);

using namespace llvm;

static cl::OptionCategory cat("qopt-generate options");
static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::cat(cat),
                                      cl::desc("<model.so|model.onnx>"));
static cl::opt<std::string> prompt("prompt", cl::cat(cat),
                                   cl::desc("prompt text (its bytes are the ids)"));
static cl::opt<std::string> promptIds("prompt-ids", cl::cat(cat),
                                      cl::desc("prompt ids (.npy, any integer dtype, flattened)"));
static cl::opt<int64_t> maxNewTokens("max-new-tokens", cl::cat(cat),
                                     cl::desc("tokens to generate (default 64)"),
                                     cl::init(64));
static cl::opt<double> temperature("temperature", cl::cat(cat),
                                   cl::desc("sampling temperature (<= 0: greedy, the default)"),
                                   cl::init(0.0));
static cl::opt<int64_t> topK("top-k", cl::cat(cat),
                             cl::desc("sample among the K most likely tokens (0: all)"),
                             cl::init(0));
static cl::opt<double> topP("top-p", cl::cat(cat),
                            cl::desc("nucleus sampling: smallest set with probability >= P (1: all)"),
                            cl::init(1.0));
static cl::opt<uint64_t> seed("seed", cl::cat(cat),
                              cl::desc("std::mt19937_64 seed (default 0)"),
                              cl::init(0));
static cl::opt<int64_t> maxLength("max-length", cl::cat(cat),
                                  cl::desc("cache capacity (default: prompt + new tokens)"),
                                  cl::init(0));
static cl::opt<std::string> outputIds("output-ids", cl::cat(cat),
                                      cl::desc("write prompt + generated ids (int64 .npy)"));
static cl::opt<std::string> target("target", cl::cat(cat),
                                   cl::desc("JIT target (.onnx)"), cl::init("host"));
static cl::opt<int> optLevel("opt-level", cl::cat(cat),
                             cl::desc("JIT opt level (.onnx)"), cl::init(3));
static cl::opt<std::string> kvCache(
    "kv-cache", cl::cat(cat),
    cl::desc("JIT cache format (.onnx): inplace (f32) | int8 (int8 rows "
             "with a scale per row; docs/abi.md)"),
    cl::init("inplace"));
// `--threads` clashes with an option inside libLLVM: parsed by hand below.
static int threads = 0;

static int fail(const Twine &msg) {
  errs() << "qopt-generate: error: " << msg << "\n";
  return 1;
}

static std::string num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

namespace {
/// The runtime entry points: from a dlopen'ed model or the linked runtime.
struct Api {
  decltype(&qopt_model_load) load = qopt_model_load;
  decltype(&qopt_model_free) free = qopt_model_free;
  decltype(&qopt_last_error) lastError = qopt_last_error;
  decltype(&qopt_set_num_threads) setThreads = qopt_set_num_threads;
  decltype(&qopt_decoder_create) create = qopt_decoder_create;
  decltype(&qopt_decoder_free) decoderFree = qopt_decoder_free;
  decltype(&qopt_decoder_step) step = qopt_decoder_step;
  decltype(&qopt_decoder_vocab) vocab = qopt_decoder_vocab;
  decltype(&qopt_decoder_length) length = qopt_decoder_length;
  decltype(&qopt_decoder_max_length) maxLength = qopt_decoder_max_length;
};

/// The next token from the last position's logits: greedy (first maximum)
/// when temperature <= 0, else softmax(logits / T) in double over the top-k,
/// then the smallest probability-sorted prefix reaching top-p, renormalized,
/// one draw from `rng`.
class Sampler {
public:
  Sampler(double t, int64_t k, double p, uint64_t s)
      : temp(t), topK(k), topP(p), rng(s) {}

  int64_t next(const float *logits, int64_t vocab) {
    if (temp <= 0) {
      int64_t best = 0;
      for (int64_t i = 1; i < vocab; ++i)
        if (logits[i] > logits[best]) best = i;
      return best;
    }
    order.resize(vocab);
    std::iota(order.begin(), order.end(), 0);
    // Descending logits, ties to the lower id (a strict weak order: no NaN).
    auto before = [&](int64_t a, int64_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    };
    int64_t n = topK > 0 && topK < vocab ? topK : vocab;
    if (n < vocab)
      std::partial_sort(order.begin(), order.begin() + n, order.end(), before);
    else
      std::sort(order.begin(), order.end(), before);
    order.resize(n);
    prob.resize(n);
    double zmax = logits[order[0]] / temp, sum = 0;
    for (int64_t i = 0; i < n; ++i)
      sum += prob[i] = std::exp(logits[order[i]] / temp - zmax);
    if (topP < 1) {
      double cum = 0;
      int64_t keep = n;
      for (int64_t i = 0; i < n; ++i) {
        cum += prob[i] / sum;
        if (cum >= topP) { keep = i + 1; break; }
      }
      n = keep;
      sum = std::accumulate(prob.begin(), prob.begin() + n, 0.0);
    }
    // 53 random bits in [0, 1): the same on every platform (unlike
    // std::uniform_real_distribution).
    double u = double(rng() >> 11) * 0x1.0p-53 * sum, cum = 0;
    for (int64_t i = 0; i < n; ++i) {
      cum += prob[i];
      if (u < cum) return order[i];
    }
    return order[n - 1];
  }

private:
  double temp;
  int64_t topK;
  double topP;
  std::mt19937_64 rng;
  std::vector<int64_t> order;
  std::vector<double> prob;
};
} // namespace

/// The prompt ids from --prompt (bytes) or --prompt-ids (any integer .npy).
static bool readPrompt(std::vector<int64_t> &ids, std::string &err) {
  if (prompt.getNumOccurrences()) {
    for (unsigned char c : prompt) ids.push_back(c);
    return true;
  }
  qopt::HostTensor t;
  if (!qopt::readNpy(promptIds, t, err)) return false;
  size_t n = 1;
  for (int64_t d : t.shape) n *= (size_t)d;
  const char *p = t.data.data();
  for (size_t i = 0; i < n; ++i) {
    int64_t v;
    switch (t.dtype) {
    case QOPT_DTYPE_UINT8: v = ((const uint8_t *)p)[i]; break;
    case QOPT_DTYPE_INT8: v = ((const int8_t *)p)[i]; break;
    case QOPT_DTYPE_UINT16: v = ((const uint16_t *)p)[i]; break;
    case QOPT_DTYPE_INT16: v = ((const int16_t *)p)[i]; break;
    case QOPT_DTYPE_INT32: v = ((const int32_t *)p)[i]; break;
    case QOPT_DTYPE_UINT32: v = ((const uint32_t *)p)[i]; break;
    case QOPT_DTYPE_INT64: memcpy(&v, p + 8 * i, 8); break;
    case QOPT_DTYPE_UINT64: {
      uint64_t u;
      memcpy(&u, p + 8 * i, 8);
      if (u > (uint64_t)INT64_MAX) {
        err = "--prompt-ids: id at index " + std::to_string(i) + " is " +
              std::to_string(u) + ", outside the vocabulary";
        return false;
      }
      v = (int64_t)u;
      break;
    }
    default:
      err = "--prompt-ids: '" + promptIds + "' must hold integers (ONNX dtype " +
            std::to_string(t.dtype) + " given)";
      return false;
    }
    ids.push_back(v);
  }
  return true;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    StringRef a = argv[i], v;
    if (a == "--threads" || a == "-threads") {
      if (i + 1 >= argc) return fail("--threads needs a value");
      v = argv[++i];
    } else if (a.consume_front("--threads=") || a.consume_front("-threads=")) {
      v = a;
    } else {
      args.push_back(argv[i]);
      continue;
    }
    if (v.getAsInteger(10, threads) || threads < 0)
      return fail("bad --threads value '" + v + "' (expected an integer >= 0)");
  }
  int nargs = (int)args.size();
  cl::HideUnrelatedOptions(cat);
  if (!mlir::qopt::parseToolCommandLine(
          nargs, args.data(),
          "qopt text generation with a KV-cache decoder\n\n  --threads N  "
          "worker threads (OpenMP; default: all cores)\n"))
    return 1;
  (void)omp_get_max_threads; // keep libomp linked for JIT-compiled models

  // Options.
  if (!prompt.getNumOccurrences() == !promptIds.getNumOccurrences())
    return fail("give exactly one of --prompt TEXT and --prompt-ids FILE.npy");
  if (maxNewTokens < 0)
    return fail("--max-new-tokens must be >= 0, got " + Twine(maxNewTokens));
  if (std::isnan(temperature) || std::isinf(temperature))
    return fail("bad --temperature " + num(temperature));
  if (topK < 0) return fail("--top-k must be >= 0, got " + Twine(topK));
  if (!(topP > 0 && topP <= 1))
    return fail("--top-p must be in (0, 1], got " + num(topP));
  if (maxLength < 0)
    return fail("--max-length must be >= 0, got " + Twine(maxLength));
  constexpr int64_t kLimit = int64_t(1) << 40; // keeps the sums below exact
  if (maxNewTokens > kLimit || maxLength > kLimit)
    return fail("--max-new-tokens / --max-length over 2^40");
  if (optLevel < 0 || optLevel > 3)
    return fail("--opt-level must be 0..3, got " + Twine(optLevel));
  if (kvCache != "inplace" && kvCache != "int8")
    return fail("--kv-cache must be inplace or int8, got '" +
                Twine(kvCache.getValue()) + "'");
  std::vector<int64_t> ids;
  std::string err;
  if (!readPrompt(ids, err)) return fail(err);
  if (ids.empty()) return fail("the prompt is empty");
  int64_t plen = (int64_t)ids.size();
  int64_t capacity = maxLength ? (int64_t)maxLength : plen + maxNewTokens;
  if (plen + maxNewTokens > capacity)
    return fail("the prompt (" + Twine(plen) + " tokens) + --max-new-tokens " +
                Twine(maxNewTokens) + " is over --max-length " +
                Twine(capacity));

  Api api;
  qopt_model *model = nullptr;
  qopt_decoder *dec = nullptr;
  // JIT state, kept alive while the model runs.
  mlir::DialectRegistry registry;
  mlir::qopt::registerAllDialects(registry);
  mlir::MLIRContext ctx(registry);
  mlir::qopt::JITModel jit;
  std::vector<char> blob;
  void *weights = nullptr;
  // Every exit frees the decoder, then the model, then the JIT state.
  scope_exit release([&] {
    if (dec) api.decoderFree(dec);
    if (model) api.free(model);
    std::free(weights);
  });

  StringRef path = modelPath;
  if (!sys::fs::exists(path)) return fail("no such file: '" + path + "'");
  if (path.ends_with(".so")) {
    SmallString<256> real;
    std::string abs = sys::fs::real_path(path, real) ? path.str()
                                                     : std::string(real);
    void *h = dlopen(abs.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) return fail(Twine("cannot load '") + path + "': " + dlerror());
    bool ok = true;
    auto sym = [&](auto &fn, const char *name) {
      void *p = dlsym(h, name);
      ok &= p != nullptr;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    sym(api.load, "qopt_model_load");
    sym(api.free, "qopt_model_free");
    sym(api.lastError, "qopt_last_error");
    sym(api.setThreads, "qopt_set_num_threads");
    if (!ok) return fail("'" + path + "' is not a qopt model library");
    sym(api.create, "qopt_decoder_create");
    sym(api.decoderFree, "qopt_decoder_free");
    sym(api.step, "qopt_decoder_step");
    sym(api.vocab, "qopt_decoder_vocab");
    sym(api.length, "qopt_decoder_length");
    sym(api.maxLength, "qopt_decoder_max_length");
    if (!ok)
      return fail("'" + path + "' has no qopt_decoder API (a model library "
                  "built before it: recompile it with qopt-compile)");
    if (api.load(nullptr, &model) != QOPT_OK)
      return fail(Twine("cannot load model '") + path + "': " +
                  api.lastError());
  } else if (path.ends_with(".onnx")) {
    mlir::qopt::registerAllPasses();
    ctx.loadAllAvailableDialects();
    // Compile errors as this tool's error lines.
    mlir::ScopedDiagnosticHandler diag(&ctx, [&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
        fail("cannot compile '" + path + "': " + d.str());
      return mlir::success();
    });
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::qopt::importONNXFile(path, &ctx);
    if (!module) return 1;
    mlir::qopt::PipelineOptions popts;
    popts.target = target;
    popts.optLevel = optLevel;
    popts.weightsSink = &blob;
    popts.maxStaticArena = 0; // JIT: no large static data
    popts.kvCache = kvCache; // caches qopt_decoder drives: inplace | int8
    if (failed(mlir::qopt::lowerModule(*module, popts, mlir::qopt::Stage::LLVM)))
      return 1;
    mlir::qopt::TargetOptions topts{popts.target, popts.optLevel};
    auto jm = mlir::qopt::jitCompile(*module, topts);
    if (failed(jm)) return 1;
    jit = std::move(*jm);
    if (!blob.empty()) {
      weights = std::aligned_alloc(64, (blob.size() + 63) / 64 * 64);
      if (!weights) return fail("out of memory");
      memcpy(weights, blob.data(), blob.size());
    }
    if (qopt_model_create(jit.abi.c_str(), jit.entry, weights, blob.size(),
                          &model) != QOPT_OK)
      return fail(Twine("cannot create model: ") + qopt_last_error());
  } else {
    return fail("'" + path + "': expected a .so (qopt-compile) or .onnx model");
  }

  if (api.create(model, capacity, &dec) != QOPT_OK)
    return fail(Twine("cannot drive '") + path + "' as a KV decoder: " +
                api.lastError());
  int64_t vocab = api.vocab(dec);
  for (int64_t i = 0; i < plen; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return fail("prompt id at index " + Twine(i) + " is " + Twine(ids[i]) +
                  ", outside the vocabulary [0, " + Twine(vocab) + ")");
  if (threads > 0) api.setThreads(threads);

  // Prefill, then one token per step; the first new token comes from the
  // prefill's logits.
  using clock = std::chrono::steady_clock;
  std::vector<float> logits(vocab);
  std::vector<int64_t> out;
  Sampler sampler(temperature, topK, topP, seed);
  auto next = [&]() -> bool {
    for (float l : logits)
      if (std::isnan(l)) return false;
    out.push_back(sampler.next(logits.data(), vocab));
    return true;
  };
  auto t0 = clock::now();
  if (api.step(nullptr, dec, ids.data(), plen, logits.data(), 0) != QOPT_OK)
    return fail(Twine("prefill: ") + api.lastError());
  auto t1 = clock::now();
  for (int64_t k = 0; k < maxNewTokens; ++k) {
    if (!next())
      return fail("the model's logits are NaN (generated token " + Twine(k) +
                  ")");
    if (k + 1 < maxNewTokens &&
        api.step(nullptr, dec, &out.back(), 1, logits.data(), 0) != QOPT_OK)
      return fail("decode step " + Twine(k + 1) + ": " + api.lastError());
  }
  auto t2 = clock::now();

  if (api.length(dec) != plen + std::max<int64_t>(maxNewTokens - 1, 0) ||
      api.maxLength(dec) != capacity)
    return fail("the decoder's context length is off"); // cannot happen
  if (!outputIds.empty()) {
    qopt::HostTensor t;
    t.dtype = QOPT_DTYPE_INT64;
    t.shape = {plen + (int64_t)out.size()};
    t.data.resize(t.shape[0] * sizeof(int64_t));
    memcpy(t.data.data(), ids.data(), plen * sizeof(int64_t));
    memcpy(t.data.data() + plen * sizeof(int64_t), out.data(),
           out.size() * sizeof(int64_t));
    if (!qopt::writeNpy(outputIds, t, err)) return fail(err);
  }
  if (vocab == 256) {
    std::string text(out.begin(), out.end());
    fwrite(text.data(), 1, text.size(), stdout);
  } else {
    for (size_t i = 0; i < out.size(); ++i)
      printf(i ? " %lld" : "%lld", (long long)out[i]);
  }
  printf("\n");
  double tp = std::chrono::duration<double>(t1 - t0).count();
  double td = std::chrono::duration<double>(t2 - t1).count();
  int64_t d = std::max<int64_t>((int64_t)out.size() - 1, 0);
  printf("prefill: %lld tokens, %.1f tok/s; decode: %lld tokens, %.1f tok/s\n",
         (long long)plen, tp > 0 ? plen / tp : 0.0, (long long)d,
         d > 0 && td > 0 ? d / td : 0.0);
  fflush(stdout);
  return 0;
}
