//===- EmitEntry.cpp - qopt_entry wrapper and ABI global -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// On the LLVM dialect: renames the model function to the internal
// `qopt_model_main`, adds `void qopt_entry(void **args)` that loads one
// pointer per argument (inputs, outputs, weights) and calls it, and adds the
// NUL-terminated `qopt_model_abi` string global.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTEMITENTRYPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
struct QOptEmitEntryPass : impl::QOptEmitEntryPassBase<QOptEmitEntryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto abi = module->getAttrOfType<StringAttr>(kABIAttrName);
    if (!abi) {
      module.emitError("qopt-emit-entry: module has no `qopt.abi` attribute "
                       "(run qopt-record-abi before bufferization)");
      return signalPassFailure();
    }
    StringRef entryName = "main";
    if (auto e = module->getAttrOfType<StringAttr>(kEntryFuncAttrName))
      entryName = e.getValue();
    auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(entryName);
    if (!fn || fn.isExternal()) {
      module.emitError("qopt-emit-entry: no llvm.func @") << entryName;
      return signalPassFailure();
    }
    if (module.lookupSymbol("qopt_entry") ||
        module.lookupSymbol("qopt_model_abi")) {
      module.emitError("qopt-emit-entry: qopt_entry/qopt_model_abi already "
                       "defined");
      return signalPassFailure();
    }
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    LLVM::LLVMFunctionType fnTy = fn.getFunctionType();
    if (!isa<LLVM::LLVMVoidType>(fnTy.getReturnType())) {
      fn.emitError("qopt-emit-entry: the model function must return void "
                   "(results become out-params)");
      return signalPassFailure();
    }
    for (auto [i, t] : llvm::enumerate(fnTy.getParams()))
      if (t != ptrTy) {
        fn.emitError("qopt-emit-entry: argument #")
            << i << " is " << t
            << ", expected !llvm.ptr (bare-pointer calling convention with "
               "static shapes)";
        return signalPassFailure();
      }

    // Make the model function internal so it cannot clash with `main` of a
    // host program and may be inlined into the wrapper.
    if (entryName != "qopt_model_main") {
      if (failed(SymbolTable::replaceAllSymbolUses(
              fn, StringAttr::get(ctx, "qopt_model_main"), module)))
        return signalPassFailure();
      SymbolTable::setSymbolName(fn, "qopt_model_main");
    }
    fn.setLinkage(LLVM::Linkage::Internal);

    Location loc = fn.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto wrapTy = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                              {ptrTy});
    auto wrap = LLVM::LLVMFuncOp::create(b, loc, "qopt_entry", wrapTy);
    Block *blk = wrap.addEntryBlock(b);
    b.setInsertionPointToStart(blk);
    SmallVector<Value> args;
    for (unsigned i = 0, e = fnTy.getNumParams(); i < e; ++i) {
      Value gep = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, blk->getArgument(0),
                                      ArrayRef<LLVM::GEPArg>{(int32_t)i});
      args.push_back(LLVM::LoadOp::create(b, loc, ptrTy, gep));
    }
    LLVM::CallOp::create(b, loc, fn, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});

    std::string text = abi.getValue().str();
    text.push_back('\0');
    b.setInsertionPointToEnd(module.getBody());
    auto arrTy = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    LLVM::GlobalOp::create(b, loc, arrTy, /*isConstant=*/true,
                           LLVM::Linkage::External, "qopt_model_abi",
                           b.getStringAttr(text));
  }
};
} // namespace
} // namespace mlir::qopt
