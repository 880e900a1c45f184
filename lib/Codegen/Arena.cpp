//===- Arena.cpp - temporaries in one static, liveness-packed arena -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTARENAPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
constexpr int64_t kAlign = 64;

struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t begin, end; // live range: positions in the entry block
  int64_t bytes, offset = -1;
};

/// Bytes of a static, identity-layout, default-memory-space memref whose
/// elements are whole bytes; 0 if it does not qualify.
int64_t staticBytes(MemRefType t) {
  if (!t.hasStaticShape() || !t.getLayout().isIdentity() ||
      t.getMemorySpace() || !t.getElementType().isIntOrFloat())
    return 0;
  unsigned bits = t.getElementType().getIntOrFloatBitWidth();
  if (bits % 8)
    return 0;
  return std::max<int64_t>(t.getNumElements() * (bits / 8), 1);
}

/// Each buffer becomes a view of `base` at its offset; its dealloc goes.
void placeBuffers(OpBuilder &b, MutableArrayRef<Buffer> bufs, Value base) {
  for (Buffer &buf : bufs) {
    b.setInsertionPoint(buf.alloc);
    Value off =
        arith::ConstantIndexOp::create(b, buf.alloc.getLoc(), buf.offset);
    Value v = memref::ViewOp::create(b, buf.alloc.getLoc(),
                                     buf.alloc.getType(), base, off,
                                     ValueRange{});
    buf.alloc.replaceAllUsesWith(v);
    buf.dealloc.erase();
    buf.alloc.erase();
  }
}

struct QOptArenaPass : qopt::impl::QOptArenaPassBase<QOptArenaPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (!fn.isExternal() && fn.getBody().hasOneBlock())
        rewrite(fn, symbols);
  }

  /// The position of the last op of `block` that uses `alloc` or a view of
  /// it (the deallocation pipeline puts deallocs at the end of the block, so
  /// they say nothing about liveness); `end` where an alias may escape.
  static int64_t lastUse(Block &block, DenseMap<Operation *, int64_t> &pos,
                         memref::AllocOp alloc, int64_t end) {
    int64_t last = pos[alloc];
    SmallVector<Value> work = {alloc.getResult()};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (isa<memref::DeallocOp>(user))
          continue;
        Operation *top = block.findAncestorOpInBlock(*user);
        if (!top || isa<RegionBranchTerminatorOpInterface>(user) ||
            isa<func::ReturnOp>(user))
          return end;
        last = std::max(last, pos[top]);
        auto view = dyn_cast<ViewLikeOpInterface>(user);
        if (view && view.getViewSource() == v) {
          llvm::append_range(work, user->getResults());
          continue;
        }
        for (Type t : user->getResultTypes())
          if (isa<BaseMemRefType>(t))
            return end; // an alias we do not follow
      }
    }
    return last;
  }

  void rewrite(func::FuncOp fn, SymbolTable &symbols) {
    Block &block = fn.getBody().front();
    DenseMap<Operation *, int64_t> pos;
    int64_t i = 0;
    for (Operation &op : block)
      pos[&op] = i++;
    SmallVector<Buffer> bufs;
    for (Operation &op : block) {
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (!alloc || !alloc.getDynamicSizes().empty() ||
          !alloc.getSymbolOperands().empty())
        continue;
      int64_t bytes = staticBytes(alloc.getType());
      memref::DeallocOp dealloc;
      int deallocs = 0;
      for (Operation *u : alloc->getUsers())
        if (auto d = dyn_cast<memref::DeallocOp>(u)) {
          dealloc = d;
          ++deallocs;
        }
      if (!bytes || deallocs != 1 || dealloc->getBlock() != &block)
        continue;
      bufs.push_back({alloc, dealloc, pos[alloc],
                      lastUse(block, pos, alloc, (int64_t)pos.size()), bytes});
    }
    if (bufs.empty())
      return;

    // Greedy placement, largest first: the lowest aligned offset that does
    // not overlap a placed buffer whose live range overlaps.
    SmallVector<Buffer *> order;
    for (Buffer &b : bufs)
      order.push_back(&b);
    llvm::sort(order, [](Buffer *a, Buffer *b) {
      return a->bytes != b->bytes ? a->bytes > b->bytes : a->begin < b->begin;
    });
    int64_t total = 0;
    SmallVector<Buffer *> placed;
    for (Buffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Buffer *p : placed)
        if (p->begin <= b->end && b->begin <= p->end)
          busy.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(busy);
      int64_t off = 0;
      for (auto [lo, hi] : busy) {
        if (off + b->bytes <= lo)
          break;
        off = std::max<int64_t>(off, llvm::alignTo(hi, kAlign));
      }
      b->offset = off;
      total = std::max(total, off + b->bytes);
      placed.push_back(b);
    }
    total = (int64_t)llvm::alignTo(total, kAlign);

    MLIRContext *ctx = fn.getContext();
    OpBuilder b(ctx);
    Location loc = fn.getLoc();
    auto arenaTy = MemRefType::get({total}, b.getI8Type());
    // A .bss past ~2 GB is out of reach of the small code model's 32-bit
    // PC-relative relocations (the link fails): large arenas are malloc'ed
    // per run instead (the buffers still share bytes by live range).
    if (total > maxStaticBytes) {
      b.setInsertionPointToStart(&block);
      Value base =
          memref::AllocOp::create(b, loc, arenaTy, b.getI64IntegerAttr(kAlign));
      placeBuffers(b, bufs, base);
      fn.walk([&](func::ReturnOp ret) {
        b.setInsertionPoint(ret);
        memref::DeallocOp::create(b, loc, base);
      });
      return;
    }
    auto flagTy = MemRefType::get({}, b.getI32Type());
    b.setInsertionPoint(fn);
    auto arena = memref::GlobalOp::create(
        b, loc, ("__qopt_arena_" + fn.getSymName()).str(),
        b.getStringAttr("private"), arenaTy, b.getUnitAttr(),
        /*constant=*/false, b.getI64IntegerAttr(kAlign));
    auto flag = memref::GlobalOp::create(
        b, loc, ("__qopt_arena_busy_" + fn.getSymName()).str(),
        b.getStringAttr("private"), flagTy,
        DenseElementsAttr::get(RankedTensorType::get({}, b.getI32Type()),
                               b.getI32IntegerAttr(0)),
        /*constant=*/false, IntegerAttr());
    symbols.insert(arena);
    symbols.insert(flag);

    // Take the static arena if no other run holds it, else malloc one.
    b.setInsertionPointToStart(&block);
    Value c0 = arith::ConstantIntOp::create(b, loc, 0, 32);
    Value c1 = arith::ConstantIntOp::create(b, loc, 1, 32);
    Value f = memref::GetGlobalOp::create(b, loc, flagTy, flag.getSymName());
    Value old = memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::assign,
                                            c1, f, ValueRange{});
    Value own =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, old, c0);
    auto pick = scf::IfOp::create(
        b, loc, own,
        [&](OpBuilder &nb, Location l) {
          Value g = memref::GetGlobalOp::create(nb, l, arenaTy,
                                                arena.getSymName());
          scf::YieldOp::create(nb, l, g);
        },
        [&](OpBuilder &nb, Location l) {
          Value a = memref::AllocOp::create(nb, l, arenaTy,
                                            nb.getI64IntegerAttr(kAlign));
          scf::YieldOp::create(nb, l, a);
        });
    Value base = pick.getResult(0);
    placeBuffers(b, bufs, base);

    // Give it back (or free the private one) at every return.
    fn.walk([&](func::ReturnOp ret) {
      b.setInsertionPoint(ret);
      scf::IfOp::create(
          b, loc, own,
          [&](OpBuilder &nb, Location l) {
            Value g = memref::GetGlobalOp::create(nb, l, flagTy,
                                                  flag.getSymName());
            memref::AtomicRMWOp::create(nb, l, arith::AtomicRMWKind::assign,
                                        c0, g, ValueRange{});
            scf::YieldOp::create(nb, l);
          },
          [&](OpBuilder &nb, Location l) {
            memref::DeallocOp::create(nb, l, base);
            scf::YieldOp::create(nb, l);
          });
    });
  }
};
} // namespace
