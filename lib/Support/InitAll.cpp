//===- InitAll.cpp - curated registries -----------------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/InitAll.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "qopt/Codegen/Passes.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QONNX/QONNXDialect.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"
#include "qopt/Pipelines/Pipelines.h"
#include "qopt/Transforms/Passes.h"

void mlir::qopt::registerAllDialects(DialectRegistry &registry) {
  registry.insert<qonnx::QONNXDialect, qopt::QOptDialect>();
  // Upstream dialects and extensions: the lowering touches most of the
  // tensor/linalg/bufferization/vector/LLVM stack, and external models
  // (bufferization, inliner, ...) must be attached for it to work.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void mlir::qopt::registerAllPasses() {
  mlir::registerAllPasses();
  registerQOptConversionPasses();
  registerQOptCodegenPasses();
  registerQOptTransformsPasses();
  registerQOptPipelines();
}
