//===- qopt-opt.cpp - replay any qopt pass or pipeline ---------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "qopt/InitAll.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::qopt::registerAllDialects(registry);
  mlir::qopt::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qopt optimizer driver\n", registry));
}
