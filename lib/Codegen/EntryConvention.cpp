//===- EntryConvention.cpp - calling convention of the entry function -----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Two passes that pick between the two conventions of docs/abi.md by the
// entry function's signature:
//   - static shapes: results become out-params (hoisting static allocs), and
//     memrefs are passed as bare pointers;
//   - some dynamic dim: results stay memrefs, each one a fresh allocation
//     the caller owns (frees), and memrefs are passed as descriptors.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTENTRYRESULTSPASS
#define GEN_PASS_DEF_QOPTFUNCTOLLVMPASS
#include "qopt/Codegen/Passes.h.inc"

func::FuncOp findEntryFunc(ModuleOp module) {
  StringRef name = "main";
  if (auto e = module->getAttrOfType<StringAttr>(kEntryFuncAttrName))
    name = e.getValue();
  auto fn = module.lookupSymbol<func::FuncOp>(name);
  return fn && !fn.isExternal() ? fn : func::FuncOp();
}

bool hasDynamicSignature(func::FuncOp fn) {
  auto dynamic = [](Type t) {
    auto s = dyn_cast<ShapedType>(t);
    return s && !s.hasStaticShape();
  };
  return llvm::any_of(fn.getArgumentTypes(), dynamic) ||
         llvm::any_of(fn.getResultTypes(), dynamic);
}

namespace {
/// The buffer `v` is a view of (through view-like ops).
static Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Makes every memref result of `fn` a distinct heap allocation that is not
/// deallocated: the caller takes ownership. Results that alias an argument,
/// a global, a stack buffer or another result are copied into a fresh
/// allocation. The allocations keep malloc's own alignment (no `alignment`
/// attribute), so the pointer to free is the data pointer.
static LogicalResult ownResults(func::FuncOp fn) {
  llvm::SmallPtrSet<Value, 8> owned;
  WalkResult r = fn.walk([&](func::ReturnOp ret) -> WalkResult {
    OpBuilder b(ret);
    for (OpOperand &o : ret->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(o.get().getType());
      if (!type)
        continue;
      if (!type.getLayout().isIdentity())
        return ret.emitError("qopt-entry-results: result #")
               << o.getOperandNumber() << " has type " << type
               << "; a dynamic entry returns identity-layout memrefs";
      Value root = rootBuffer(o.get());
      auto alloc = root.getDefiningOp<memref::AllocOp>();
      if (alloc && alloc->getParentOfType<func::FuncOp>() == fn &&
          owned.insert(root).second) {
        alloc.removeAlignmentAttr();
        continue;
      }
      Location loc = ret.getLoc();
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          sizes.push_back(memref::DimOp::create(b, loc, o.get(), d));
      Value copy = memref::AllocOp::create(b, loc, type, sizes);
      memref::CopyOp::create(b, loc, o.get(), copy);
      owned.insert(copy);
      o.set(copy);
    }
    return WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

struct QOptEntryResultsPass
    : impl::QOptEntryResultsPassBase<QOptEntryResultsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = findEntryFunc(module);
    bool dynamic = entry && hasDynamicSignature(entry);
    // Exactly buffer-results-to-out-params{hoist-static-allocs
    // modify-public-functions}, for every function but a dynamic entry.
    bufferization::BufferResultsToOutParamsOpts opts;
    opts.hoistStaticAllocs = true;
    opts.modifyPublicFunctions = true;
    opts.filterFn = [&](func::FuncOp *f) { return !dynamic || *f != entry; };
    if (failed(bufferization::promoteBufferResultsToOutParams(module, opts)))
      return signalPassFailure();
    if (dynamic && failed(ownResults(entry)))
      return signalPassFailure();
  }
};

struct QOptFuncToLLVMPass : impl::QOptFuncToLLVMPassBase<QOptFuncToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = findEntryFunc(module);
    ConvertFuncToLLVMPassOptions o;
    o.useBarePtrCallConv = !(entry && hasDynamicSignature(entry));
    OpPassManager pm(ModuleOp::getOperationName());
    pm.addPass(createConvertFuncToLLVMPass(o));
    if (failed(runPipeline(pm, module)))
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::qopt
