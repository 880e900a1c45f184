//===- qopt-translate.cpp - ONNX -> qonnx MLIR -----------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
//   qopt-translate --import-onnx model.onnx [-o out.mlir]
//
//===----------------------------------------------------------------------===//
#include "qopt/Dialect/QONNX/QONNXDialect.h"
#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input>"),
                                      cl::init("-"));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("filename"),
                                       cl::init("-"));
static cl::opt<bool> importONNX("import-onnx",
                                cl::desc("Import an ONNX model (binary "
                                         "protobuf or .onnxtext) to qonnx"));
static cl::opt<std::string>
    externalDataDir("external-data-dir",
                    cl::desc("Directory for external tensor data (default: "
                             "the model's directory)"),
                    cl::init(""));

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "qopt translation tool\n");
  if (!importONNX) {
    llvm::errs() << "qopt-translate: no translation given (use "
                    "--import-onnx)\n";
    return 1;
  }

  DialectRegistry registry;
  registry.insert<func::FuncDialect, qonnx::QONNXDialect>();
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);

  qopt::ImportOptions opts;
  opts.externalDataDir = externalDataDir;
  OwningOpRef<ModuleOp> module = qopt::importONNXFile(inputFile, &ctx, opts);
  if (!module)
    return 1;

  std::string errorMessage;
  auto output = openOutputFile(outputFile, &errorMessage);
  if (!output) {
    llvm::errs() << "qopt-translate: " << errorMessage << "\n";
    return 1;
  }
  module->print(output->os(), OpPrintingFlags());
  output->os() << "\n";
  output->os().flush();
  if (output->os().has_error()) {
    llvm::errs() << "qopt-translate: error writing '" << outputFile << "'\n";
    output->os().clear_error();
    return 1;
  }
  output->keep();
  return 0;
}
