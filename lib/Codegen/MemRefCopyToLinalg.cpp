//===- MemRefCopyToLinalg.cpp - strided memref.copy -> linalg.copy ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTMEMREFCOPYTOLINALGPASS
#define GEN_PASS_DEF_QOPTINLINEALLOCASCOPESPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
/// Elements per vector step for a copy whose innermost dim has `n`
/// elements of `bits`: the widest of 512, 256, 128 bits dividing the row;
/// 0 when none does (or the innermost stride is not 1).
int64_t copyVectorWidth(MemRefType s, MemRefType t) {
  if (!s.hasStaticShape() || !t.hasStaticShape() || s.getRank() < 1 ||
      !s.getElementType().isIntOrFloat())
    return 0;
  for (MemRefType m : {s, t}) {
    SmallVector<int64_t> strides;
    int64_t off;
    if (failed(m.getStridesAndOffset(strides, off)) || strides.back() != 1)
      return 0;
  }
  unsigned bits = s.getElementType().getIntOrFloatBitWidth();
  int64_t n = s.getShape().back();
  for (unsigned vbits : {512u, 256u, 128u})
    if (vbits % bits == 0 && n % (vbits / bits) == 0)
      return vbits / bits;
  return 0;
}

/// The copy as scf.parallel over the outer dims and a vector loop over the
/// row (transfer_read/write in bounds: plain vector loads and stores). As
/// linalg.copy it became scalar loops, e.g. RoPE's rotate-half halves of
/// 16 floats in each of 128 rows.
void vectorCopy(OpBuilder &b, memref::CopyOp op, int64_t vw) {
  Location loc = op.getLoc();
  auto s = cast<MemRefType>(op.getSource().getType());
  int64_t rank = s.getRank();
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  Value step = arith::ConstantIndexOp::create(b, loc, vw);
  Value n = arith::ConstantIndexOp::create(b, loc, s.getShape().back());
  Type elt = s.getElementType();
  auto vt = VectorType::get({vw}, elt);
  auto row = [&](OpBuilder &rb, ValueRange outer) {
    auto loop = scf::ForOp::create(rb, loc, c0, n, step);
    OpBuilder ib = OpBuilder::atBlockBegin(loop.getBody());
    SmallVector<Value> idx(outer);
    idx.push_back(loop.getInductionVar());
    Value pad = arith::ConstantOp::create(ib, loc, elt, ib.getZeroAttr(elt));
    Value v = vector::TransferReadOp::create(ib, loc, vt, op.getSource(), idx,
                                             pad, ArrayRef<bool>{true});
    vector::TransferWriteOp::create(ib, loc, v, op.getTarget(), idx,
                                    ArrayRef<bool>{true});
  };
  if (rank == 1) {
    row(b, {});
    return;
  }
  SmallVector<Value> lbs(rank - 1, c0), ubs, steps(rank - 1, c1);
  for (int64_t d : s.getShape().drop_back())
    ubs.push_back(arith::ConstantIndexOp::create(b, loc, d));
  scf::ParallelOp::create(b, loc, lbs, ubs, steps,
                          [&](OpBuilder &pb, Location, ValueRange ivs) {
                            row(pb, ivs);
                          });
}

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
      auto s = cast<MemRefType>(op.getSource().getType());
      auto t = cast<MemRefType>(op.getTarget().getType());
      if (int64_t vw = copyVectorWidth(s, t))
        vectorCopy(b, op, vw);
      else
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
