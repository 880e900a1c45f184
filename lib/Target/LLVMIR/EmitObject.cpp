//===- EmitObject.cpp - LLVM dialect -> machine code / .so / JIT -----------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Target/LLVMIR/EmitObject.h"
#include "qopt/Codegen/TargetDesc.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <mutex>
#include <unistd.h>

using namespace mlir;
using namespace mlir::qopt;

void mlir::qopt::initializeLLVMTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    // Cross targets (--target=neon on x86): libLLVM has every backend.
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
}

static llvm::CodeGenOptLevel cgLevel(int o) {
  switch (o) {
  case 0: return llvm::CodeGenOptLevel::None;
  case 1: return llvm::CodeGenOptLevel::Less;
  case 2: return llvm::CodeGenOptLevel::Default;
  default: return llvm::CodeGenOptLevel::Aggressive;
  }
}

/// CPU and features from the target table (qopt/Codegen/TargetDesc.h).
static const TargetDesc *cpuAndFeatures(const TargetOptions &opts,
                                        std::string &cpu, std::string &features,
                                        std::string &err) {
  const TargetDesc *d = lookupTargetDesc(opts.target);
  if (!d) {
    err = "unknown target '" + opts.target + "' (expected " + targetNames() +
          ")";
    return nullptr;
  }
  cpu = d->cpu;
  features = d->features;
  return d;
}

std::unique_ptr<llvm::TargetMachine>
mlir::qopt::createTargetMachine(const TargetOptions &opts, std::string &err) {
  initializeLLVMTargets();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string cpu, features;
  const TargetDesc *desc = cpuAndFeatures(opts, cpu, features, err);
  if (!desc)
    return nullptr;
  // Another architecture: cross-compile for its Linux GNU triple (the
  // object / asm / IR only; JIT and --emit=so need a host target).
  if (llvm::Triple(desc->arch + "-unknown-unknown").getArch() !=
      triple.getArch())
    triple = llvm::Triple(desc->arch + "-unknown-linux-gnu");
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return nullptr;
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, to, llvm::Reloc::PIC_, std::nullopt,
      cgLevel(opts.optLevel)));
  if (!tm)
    err = "cannot create a target machine for " + triple.str();
  return tm;
}

static void registerTranslations(MLIRContext *ctx) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
}

std::unique_ptr<llvm::Module>
mlir::qopt::translateAndOptimize(ModuleOp module, llvm::LLVMContext &ctx,
                                 llvm::TargetMachine &tm, int optLevel) {
  registerTranslations(module.getContext());
  std::unique_ptr<llvm::Module> mod = translateModuleToLLVMIR(module, ctx);
  if (!mod) {
    module.emitError("failed to translate the LLVM dialect to LLVM IR");
    return nullptr;
  }
  mod->setTargetTriple(tm.getTargetTriple());
  mod->setDataLayout(tm.createDataLayout());
  for (llvm::Function &f : *mod) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", tm.getTargetCPU());
    if (!tm.getTargetFeatureString().empty())
      f.addFnAttr("target-features", tm.getTargetFeatureString());
  }
  auto transformer =
      makeOptimizingTransformer(std::min(optLevel, 3), /*sizeLevel=*/0, &tm);
  if (llvm::Error e = transformer(mod.get())) {
    module.emitError("LLVM optimization failed: ")
        << llvm::toString(std::move(e));
    return nullptr;
  }
  return mod;
}

LogicalResult mlir::qopt::emitMachineCode(llvm::Module &mod,
                                          llvm::TargetMachine &tm, bool asmText,
                                          llvm::SmallVectorImpl<char> &out,
                                          std::string &err) {
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr,
                             asmText ? llvm::CodeGenFileType::AssemblyFile
                                     : llvm::CodeGenFileType::ObjectFile)) {
    err = "the target cannot emit this file type";
    return failure();
  }
  pm.run(mod);
  return success();
}

bool mlir::qopt::usesOpenMP(ModuleOp module) {
  bool found = false;
  module.walk([&](Operation *op) {
    if (isa<omp::OpenMPDialect>(op->getDialect())) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

std::string mlir::qopt::findRuntimeArchive(const char *argv0, void *mainAddr) {
  if (const char *env = std::getenv("QOPT_RUNTIME_LIB"))
    return env;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, mainAddr);
  llvm::SmallString<256> p(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(p, "..", "lib", "libQOptRuntime.a");
  llvm::SmallString<256> real;
  if (!llvm::sys::fs::real_path(p, real))
    return std::string(real);
  return std::string(p);
}

static std::string findClang() {
  for (const char *name : {"clang-22"})
    if (auto p = llvm::sys::findProgramByName(name))
      return *p;
  if (auto p = llvm::sys::findProgramByName("clang", {"/usr/lib/llvm-22/bin"}))
    return *p;
  return "";
}

LogicalResult mlir::qopt::linkSharedLibrary(llvm::ArrayRef<char> objectBytes,
                                            llvm::StringRef runtimeArchive,
                                            bool openmp,
                                            llvm::StringRef outPath,
                                            std::string &err) {
  if (!llvm::sys::fs::exists(runtimeArchive)) {
    err = ("runtime library not found: " + runtimeArchive +
           " (set QOPT_RUNTIME_LIB)").str();
    return failure();
  }
  std::string clang = findClang();
  if (clang.empty()) {
    err = "clang-22 not found in PATH or /usr/lib/llvm-22/bin";
    return failure();
  }
  llvm::SmallString<256> objPath, tmpOut;
  int fd;
  if (auto ec = llvm::sys::fs::createTemporaryFile("qopt-model", "o", fd,
                                                   objPath)) {
    err = "cannot create a temporary file: " + ec.message();
    return failure();
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(objectBytes.data(), objectBytes.size());
  }
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(objPath);
    if (!tmpOut.empty())
      llvm::sys::fs::remove(tmpOut);
  });
  if (auto ec = llvm::sys::fs::createUniqueFile(outPath + ".tmp-%%%%%%", fd,
                                                tmpOut)) {
    err = ("cannot create '" + outPath + ".tmp-*': " + ec.message()).str();
    return failure();
  }
  ::close(fd);
  std::vector<std::string> args = {clang, "-shared", "-fuse-ld=lld",
                                   "-Wl,-Bsymbolic", "-Wl,-z,defs",
                                   std::string(objPath), "-Wl,--whole-archive",
                                   runtimeArchive.str(), "-Wl,--no-whole-archive",
                                   "-lm"};
  if (openmp) {
    args.push_back("-L/usr/lib/llvm-22/lib");
    args.push_back("-Wl,-rpath,/usr/lib/llvm-22/lib");
    args.push_back("-lomp");
  }
  args.push_back("-o");
  args.push_back(std::string(tmpOut));
  llvm::SmallVector<llvm::StringRef> argv(args.begin(), args.end());
  std::string execErr;
  llvm::SmallString<256> logPath;
  llvm::sys::fs::createTemporaryFile("qopt-link", "log", logPath);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  int rc = llvm::sys::ExecuteAndWait(clang, argv, std::nullopt, redirects, 0, 0,
                                     &execErr);
  std::string log;
  if (auto buf = llvm::MemoryBuffer::getFile(logPath))
    log = (*buf)->getBuffer().str();
  llvm::sys::fs::remove(logPath);
  if (rc != 0) {
    err = "linking the shared library failed (" + llvm::join(argv, " ") +
          "): " + (execErr.empty() ? log : execErr);
    return failure();
  }
  if (auto ec = llvm::sys::fs::rename(tmpOut, outPath)) {
    err = ("cannot rename to '" + outPath + "': " + ec.message()).str();
    return failure();
  }
  tmpOut.clear();
  return success();
}

FailureOr<JITModel>
mlir::qopt::jitCompile(ModuleOp module, const TargetOptions &opts,
                       llvm::ArrayRef<JITSymbol> extraSymbols) {
  std::string err;
  auto tm = createTargetMachine(opts, err);
  if (!tm)
    return module.emitError(err), failure();
  if (tm->getTargetTriple().getArch() !=
      llvm::Triple(llvm::sys::getProcessTriple()).getArch())
    return module.emitError("target '" + opts.target +
                            "' cannot run in this process (cross target: "
                            "use --emit=obj)"),
           failure();
  // Large code model: RuntimeDyld maps code, data and stub/GOT sections
  // separately, and in an ASan-instrumented host (spread-out mappings) the
  // small code model's 32-bit PC-relative stub jumps read unmapped memory
  // (a KV decoder's first call to an external function faulted).
  tm->setCodeModel(llvm::CodeModel::Large);
  registerTranslations(module.getContext());
  JITModel jm;
  if (auto a = module->getAttrOfType<StringAttr>("qopt.abi"))
    jm.abi = a.getValue().str();
  // Find the ABI text in the qopt_model_abi global if the attr is gone.
  if (jm.abi.empty())
    if (auto g = module.lookupSymbol<LLVM::GlobalOp>("qopt_model_abi"))
      if (auto s = dyn_cast_or_null<StringAttr>(g.getValueOrNull()))
        jm.abi = s.getValue().str();
  if (!jm.abi.empty() && jm.abi.back() == '\0')
    jm.abi.pop_back();
  ExecutionEngineOptions eo;
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(std::min(opts.optLevel, 3), 0, tm.get());
  eo.transformer = transformer;
  eo.jitCodeGenOptLevel = cgLevel(opts.optLevel);
  auto engine = ExecutionEngine::create(module, eo, std::move(tm));
  if (!engine) {
    module.emitError("JIT compilation failed: ")
        << llvm::toString(engine.takeError());
    return failure();
  }
  jm.engine = std::move(*engine);
  if (!extraSymbols.empty())
    jm.engine->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
      llvm::orc::SymbolMap map;
      for (const JITSymbol &s : extraSymbols)
        map[interner(s.name)] = {llvm::orc::ExecutorAddr::fromPtr(s.address),
                                 llvm::JITSymbolFlags::Exported};
      return map;
    });
  auto sym = jm.engine->lookup("qopt_entry");
  if (!sym) {
    module.emitError("JIT: no qopt_entry: ") << llvm::toString(sym.takeError());
    return failure();
  }
  jm.entry = reinterpret_cast<void (*)(void **)>(*sym);
  return jm;
}
