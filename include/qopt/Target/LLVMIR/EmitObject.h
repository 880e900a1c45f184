//===- EmitObject.h - LLVM dialect -> LLVM IR / asm / object / .so / JIT -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_TARGET_LLVMIR_EMITOBJECT_H
#define QOPT_TARGET_LLVMIR_EMITOBJECT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
namespace qopt {

struct TargetOptions {
  std::string target = "host"; ///< host | avx512 | avx2 | x86-64
  int optLevel = 3;            ///< 0..3
};

/// Initializes the native target (idempotent).
void initializeLLVMTargets();

/// A TargetMachine for `opts` (PIC, host triple). Null + `err` on failure.
std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const TargetOptions &opts, std::string &err);

/// Translates an LLVM-dialect module, sets triple/data layout/CPU attrs and
/// runs LLVM's O-level pipeline. Emits a diagnostic on `module` and returns
/// null on failure.
std::unique_ptr<llvm::Module> translateAndOptimize(ModuleOp module,
                                                   llvm::LLVMContext &ctx,
                                                   llvm::TargetMachine &tm,
                                                   int optLevel);

/// Assembly (asm=true) or object code for `mod` into `out`.
LogicalResult emitMachineCode(llvm::Module &mod, llvm::TargetMachine &tm,
                              bool asmText, llvm::SmallVectorImpl<char> &out,
                              std::string &err);

/// Whether the LLVM-dialect module uses OpenMP (needs -lomp).
bool usesOpenMP(ModuleOp module);

/// The static runtime archive, looked up relative to the running executable
/// (<bindir>/../lib/libQOptRuntime.a). `argv0`: main's argv[0].
std::string findRuntimeArchive(const char *argv0, void *mainAddr);

/// Links `objectBytes` with the runtime into a shared library at `outPath`
/// (atomically: temp file + rename) with clang-22 + lld.
LogicalResult linkSharedLibrary(llvm::ArrayRef<char> objectBytes,
                                llvm::StringRef runtimeArchive, bool openmp,
                                llvm::StringRef outPath, std::string &err);

/// A JIT-compiled model: keeps the engine alive.
struct JITModel {
  std::unique_ptr<ExecutionEngine> engine;
  void (*entry)(void **) = nullptr;
  std::string abi;
};

/// A symbol the JIT resolves to a given address (e.g. the calibration
/// collector `qopt_observe`), ahead of the process's own symbols.
struct JITSymbol {
  std::string name;
  void *address;
};

/// JIT-compiles an LLVM-dialect module produced by qopt-lower-to-llvm. The
/// runtime's/libm's/libomp's symbols resolve against the process;
/// `extraSymbols` are registered first.
FailureOr<JITModel> jitCompile(ModuleOp module, const TargetOptions &opts,
                               llvm::ArrayRef<JITSymbol> extraSymbols = {});

} // namespace qopt
} // namespace mlir

#endif
