//===- qopt-fuzz-import.cpp - libFuzzer target: ONNX import + legalize ----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to the ONNX importer (binary protobuf, or the text
// format when the input starts with '<') and runs convert-onnx-to-qopt on
// whatever imports. Any input must end in success or a diagnostic: a crash,
// abort, sanitizer report, leak or timeout is a bug. Diagnostics are
// swallowed. Built only with -DQOPT_ENABLE_FUZZER=ON (scripts/fuzz.sh).
//
//===----------------------------------------------------------------------===//
#include "qopt/Conversion/Passes.h"
#include "qopt/InitAll.h"
#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <cstdlib>

using namespace mlir;

static const DialectRegistry &registry() {
  static DialectRegistry *r = [] {
    auto *reg = new DialectRegistry;
    qopt::registerAllDialects(*reg);
    return reg;
  }();
  return *r;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: attributes/types are uniqued for the
  // context's lifetime, so a shared one would grow without bound.
  MLIRContext ctx(registry(), MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler swallow(&ctx, [](Diagnostic &) { return success(); });
  StringRef bytes(reinterpret_cast<const char *>(data), size);
  bool isText = bytes.ltrim().starts_with("<");
  // External data resolves against a directory that does not exist, so a
  // fuzz input never reads the file system.
  qopt::ImportOptions opts;
  opts.externalDataDir = "/nonexistent-qopt-fuzz-dir";
  OwningOpRef<ModuleOp> module =
      qopt::importONNXBuffer(bytes, "fuzz.onnx", &ctx, isText, opts);
  if (!module)
    return 0;
  PassManager pm(&ctx);
  qopt::ConvertONNXToQOptPassOptions o;
  pm.addPass(qopt::createConvertONNXToQOptPass(o));
  (void)pm.run(*module);
  return 0;
}
