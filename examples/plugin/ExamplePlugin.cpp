//===- ExamplePlugin.cpp - a qopt pass plugin -----------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// A minimal pass plugin: `qopt-example-mark-matmuls` tags every linalg or
// qopt matmul-like op with `example.layer = N` (its index in program order),
// the kind of analysis a custom quantization recipe starts from.
// Build it against libMLIR.so and load it into qopt-opt or qopt-compile with
// --load-pass-plugin.
//
//===----------------------------------------------------------------------===//
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

using namespace mlir;

namespace {
struct MarkMatmulsPass
    : PassWrapper<MarkMatmulsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MarkMatmulsPass)
  StringRef getArgument() const final { return "qopt-example-mark-matmuls"; }
  StringRef getDescription() const final {
    return "Tag matmul-like ops with their layer index (plugin example)";
  }
  void runOnOperation() override {
    int64_t n = 0;
    Builder b(&getContext());
    getOperation()->walk([&](Operation *op) {
      StringRef name = op->getName().getStringRef();
      if (name == "qopt.matmul" || name == "linalg.matmul" ||
          name == "linalg.batch_matmul")
        op->setAttr("example.layer", b.getI64IntegerAttr(n++));
    });
  }
};
} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK ::mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QOptExamplePlugin", "v0.1",
          []() { PassRegistration<MarkMatmulsPass>(); }};
}
