//===- EmitEntry.cpp - qopt_entry wrapper and ABI global -------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// On the LLVM dialect: renames the model function to the internal
// `qopt_model_main`, adds `void qopt_entry(void **args)` that loads one
// pointer per argument (inputs, outputs, weights) and calls it, and adds the
// NUL-terminated `qopt_model_abi` string global. The model function uses the
// bare-pointer convention, or (where upstream cannot use it, e.g. for
// zero-size tensors) unpacked memref descriptors, which the wrapper builds
// from the pointers and the static shapes of the ABI. A dynamic entry
// (`entry dynamic` in the ABI) gets `qopt_entry_dyn` instead
// (EmitEntryDynamic.cpp).
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "EmitEntry.h"

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
        module.lookupSymbol("qopt_entry_dyn") ||
        module.lookupSymbol("qopt_model_abi")) {
      module.emitError("qopt-emit-entry: qopt_entry/qopt_entry_dyn/"
                       "qopt_model_abi already defined");
      return signalPassFailure();
    }
    abi::Desc desc;
    if (failed(abi::parse(abi.getValue(), desc))) {
      module.emitError("qopt-emit-entry: malformed `qopt.abi` attribute");
      return signalPassFailure();
    }
    if (failed(internalize(module, fn, entryName)))
      return signalPassFailure();
    if (desc.dynamic) {
      if (failed(emitDynamicEntry(module, fn, desc)))
        return signalPassFailure();
    } else if (failed(emitStaticEntry(fn, desc))) {
      return signalPassFailure();
    }
    std::string text = abi.getValue().str();
    text.push_back('\0');
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto arrTy = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    LLVM::GlobalOp::create(b, fn.getLoc(), arrTy, /*isConstant=*/true,
                           LLVM::Linkage::External, "qopt_model_abi",
                           b.getStringAttr(text));
  }

  /// Renames the model function to the internal `qopt_model_main`, so it
  /// cannot clash with `main` of a host program and may be inlined into the
  /// wrapper.
  static LogicalResult internalize(ModuleOp module, LLVM::LLVMFuncOp fn,
                                   StringRef entryName) {
    MLIRContext *ctx = module.getContext();
    if (entryName != "qopt_model_main") {
      if (failed(SymbolTable::replaceAllSymbolUses(
              fn, StringAttr::get(ctx, "qopt_model_main"), module)))
        return failure();
      SymbolTable::setSymbolName(fn, "qopt_model_main");
    }
    fn.setLinkage(LLVM::Linkage::Internal);
    return success();
  }

  /// `void qopt_entry(void **args)`: inputs, outputs, weights (docs/abi.md).
  static LogicalResult emitStaticEntry(LLVM::LLVMFuncOp fn,
                                       const abi::Desc &abiDesc) {
    MLIRContext *ctx = fn.getContext();
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    LLVM::LLVMFunctionType fnTy = fn.getFunctionType();
    if (!isa<LLVM::LLVMVoidType>(fnTy.getReturnType()))
      return fn.emitError("qopt-emit-entry: the model function must return "
                          "void (results become out-params)");
    // The shapes of the entry-point tensors (inputs, then outputs) and the
    // weights blob size, from the ABI description.
    SmallVector<SmallVector<int64_t>> ioShapes;
    for (auto *list : {&abiDesc.inputs, &abiDesc.outputs})
      for (const abi::TensorDesc &t : *list)
        ioShapes.push_back(t.dims);
    uint64_t weightBytes = abiDesc.weightBytes;
    ArrayRef<Type> params = fnTy.getParams();
    unsigned nio = ioShapes.size();
    // Bare-pointer convention: one pointer per tensor (+ the weights blob).
    bool bare = llvm::all_of(params, [&](Type t) { return t == ptrTy; }) &&
                (params.size() == nio || params.size() == nio + 1);
    // convert-func-to-llvm falls back to the unpacked memref-descriptor
    // convention for the whole function when one memref cannot be passed as a
    // bare pointer (upstream refuses e.g. memref<3x0x5xf32>: a zero-size dim
    // that is not the outermost). The descriptor of a rank-r memref is
    // (allocated ptr, aligned ptr, i64 offset, r x i64 size, r x i64 stride).
    auto descriptorParams = [&](unsigned rank) { return 3 + 2 * rank; };
    unsigned ndesc = 0;
    for (auto &shape : ioShapes)
      ndesc += descriptorParams(shape.size());
    bool desc = !bare && (params.size() == ndesc ||
                          params.size() == ndesc + descriptorParams(1));
    if (desc) {
      SmallVector<SmallVector<int64_t>> all(ioShapes);
      if (params.size() != ndesc)
        all.push_back({(int64_t)weightBytes});
      unsigned p = 0;
      for (auto &shape : all) {
        bool ok = params[p] == ptrTy && params[p + 1] == ptrTy;
        for (unsigned k = 2; k < descriptorParams(shape.size()); ++k)
          ok &= params[p + k] == IntegerType::get(ctx, 64);
        if (!ok) {
          desc = false;
          break;
        }
        p += descriptorParams(shape.size());
      }
    }
    if (!bare && !desc)
      return fn.emitError("qopt-emit-entry: the model function has parameters ")
             << fnTy << "; expected one !llvm.ptr per input/output (+ weights) "
             << "(bare-pointer calling convention with static shapes) or their "
                "unpacked memref descriptors";

    Location loc = fn.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(fn->getParentOfType<ModuleOp>().getBody());
    auto wrapTy = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                              {ptrTy});
    auto wrap = LLVM::LLVMFuncOp::create(b, loc, "qopt_entry", wrapTy);
    Block *blk = wrap.addEntryBlock(b);
    b.setInsertionPointToStart(blk);
    SmallVector<Value> args;
    auto loadSlot = [&](unsigned i) -> Value {
      Value gep = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, blk->getArgument(0),
                                      ArrayRef<LLVM::GEPArg>{(int32_t)i});
      return LLVM::LoadOp::create(b, loc, ptrTy, gep);
    };
    if (bare) {
      for (unsigned i = 0, e = fnTy.getNumParams(); i < e; ++i)
        args.push_back(loadSlot(i));
    } else {
      // Dense row-major descriptors of the static shapes, offset 0.
      auto i64 = IntegerType::get(ctx, 64);
      auto cst = [&](int64_t v) -> Value {
        return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
      };
      unsigned slots = params.size() == ndesc ? nio : nio + 1;
      for (unsigned i = 0; i < slots; ++i) {
        SmallVector<int64_t> shape =
            i < nio ? ioShapes[i] : SmallVector<int64_t>{(int64_t)weightBytes};
        Value ptr = loadSlot(i);
        args.append({ptr, ptr, cst(0)});
        for (int64_t d : shape)
          args.push_back(cst(d));
        SmallVector<int64_t> strides(shape.size(), 1);
        for (int r = (int)shape.size() - 2; r >= 0; --r)
          strides[r] = strides[r + 1] * shape[r + 1];
        for (int64_t s : strides)
          args.push_back(cst(s));
      }
    }
    LLVM::CallOp::create(b, loc, fn, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    return success();
  }
};
} // namespace
} // namespace mlir::qopt
