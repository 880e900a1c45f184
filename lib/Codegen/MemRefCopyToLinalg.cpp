//===- MemRefCopyToLinalg.cpp - strided memref.copy -> linalg.copy ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTMEMREFCOPYTOLINALGPASS
#define GEN_PASS_DEF_QOPTINLINEALLOCASCOPESPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
struct QOptMemRefCopyToLinalgPass
    : impl::QOptMemRefCopyToLinalgPassBase<QOptMemRefCopyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) {
      auto s = dyn_cast<MemRefType>(op.getSource().getType());
      auto t = dyn_cast<MemRefType>(op.getTarget().getType());
      if (s && t && s.getLayout().isIdentity() && t.getLayout().isIdentity())
        return;
      copies.push_back(op);
    });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};

struct QOptInlineAllocaScopesPass
    : impl::QOptInlineAllocaScopesPassBase<QOptInlineAllocaScopesPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp op) {
      bool hasAlloca = false;
      op.getBodyRegion().walk([&](memref::AllocaOp) { hasAlloca = true; });
      if (!hasAlloca && op.getBodyRegion().hasOneBlock())
        scopes.push_back(op);
    });
    for (memref::AllocaScopeOp op : scopes) {
      Block &body = op.getBodyRegion().front();
      Operation *term = body.getTerminator();
      op->replaceAllUsesWith(term->getOperands());
      op->getBlock()->getOperations().splice(Block::iterator(op),
                                             body.getOperations(), body.begin(),
                                             Block::iterator(term));
      op.erase();
    }
  }
};
} // namespace
} // namespace mlir::qopt
