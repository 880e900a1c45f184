//===- LowerObservers.cpp - qopt.observe -> call @qopt_observe ------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Calibration builds only (normal builds strip the observers). Before
// bufferization, every f32 `qopt.observe %x {id}` becomes
//
//   %m = bufferization.to_buffer %x read_only : memref<..xf32>
//   %p = memref.extract_aligned_pointer_as_index %m
//   func.call @qopt_observe(%id : i64, %ptr : !llvm.ptr, %numel : i64)
//
// and its result is replaced by %x. `qopt_observe(int64_t id, const float *
// data, int64_t numel)` is a C function of the process running the model
// (the calibration collector in lib/Calibration); the data is dense and
// row-major (to_buffer of a tensor whose buffer is not an identity-layout
// buffer copies it). The call has unknown side effects, so it stays in
// program order with the producers and consumers of %x, and the buffer is
// live until the end of the block (ownership-based deallocation frees at
// block end), i.e. during the call.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTLOWEROBSERVERSPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptLowerObserversPass
    : qopt::impl::QOptLowerObserversPassBase<QOptLowerObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<ObserveOp> obs;
    module.walk([&](ObserveOp o) { obs.push_back(o); });
    if (obs.empty())
      return;
    Type i64 = IntegerType::get(ctx, 64);
    Type ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto fnTy = FunctionType::get(ctx, {i64, ptrTy, i64}, {});
    StringRef callee = "qopt_observe";
    if (auto existing = module.lookupSymbol<func::FuncOp>(callee)) {
      if (existing.getFunctionType() != fnTy) {
        existing.emitError("qopt-lower-observers: @qopt_observe exists with "
                           "another type");
        return signalPassFailure();
      }
    } else {
      OpBuilder mb(module.getBodyRegion());
      mb.setInsertionPointToStart(module.getBody());
      auto fn = func::FuncOp::create(mb, module.getLoc(), callee, fnTy);
      fn.setPrivate();
    }
    for (ObserveOp o : obs) {
      auto ty = o.getInput().getType();
      if (!ty.getElementType().isF32()) {
        o.emitError("qopt-lower-observers: only f32 tensors can be observed, "
                    "got ")
            << ty;
        return signalPassFailure();
      }
      OpBuilder b(o);
      Location loc = o.getLoc();
      // numel: static product, times the dynamic dims.
      int64_t staticCount = 1;
      SmallVector<Value> dyn;
      for (int64_t d = 0; d < ty.getRank(); ++d) {
        if (ty.isDynamicDim(d))
          dyn.push_back(tensor::DimOp::create(b, loc, o.getInput(), d));
        else
          staticCount *= ty.getDimSize(d);
      }
      Value numel = arith::ConstantIndexOp::create(b, loc, staticCount);
      for (Value d : dyn)
        numel = arith::MulIOp::create(b, loc, numel, d);
      numel = arith::IndexCastOp::create(b, loc, i64, numel);
      auto memTy = MemRefType::get(ty.getShape(), ty.getElementType());
      Value buf = bufferization::ToBufferOp::create(b, loc, memTy, o.getInput(),
                                                    /*read_only=*/true);
      Value p = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buf);
      p = arith::IndexCastOp::create(b, loc, i64, p);
      p = LLVM::IntToPtrOp::create(b, loc, ptrTy, p);
      Value id = arith::ConstantIntOp::create(b, loc, i64, o.getId());
      func::CallOp::create(b, loc, callee, TypeRange{},
                           ValueRange{id, p, numel});
      o.getResult().replaceAllUsesWith(o.getInput());
      o.erase();
    }
  }
};
} // namespace
