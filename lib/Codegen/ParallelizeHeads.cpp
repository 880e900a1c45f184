//===- ParallelizeHeads.cpp - attention's per-head ops in one scf.forall --===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Attention is a chain of small ops over [B, H, L, *] tensors (Q/K/V
// transposes, RoPE, QK^T, scale, mask, softmax's four passes, PV, the
// transpose back), each independent across the head dim H. Lowered one by
// one, each is a pass over a few hundred KB and, when parallel, a fork/join
// of its own. This pass moves such a chain into one scf.forall over the
// heads: every op of the chain is cloned with the head dim of its operands
// and results shrunk to 1 (indexing maps and bodies unchanged), inputs from
// outside are sliced at head h, and the values used after the chain are
// written back with tensor.parallel_insert_slice. Per head the chain works
// on a 128x128 score tile that stays in cache, and the whole attention is
// one parallel region. Every op computes the same scalar expressions in the
// same order as before: results are bit-identical.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTPARALLELIZEHEADSPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// A static-shaped ranked tensor type, or null.
RankedTensorType staticTensor(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.hasStaticShape() ? r : RankedTensorType();
}

/// `t` with dim `p` set to 1.
RankedTensorType sliced(RankedTensorType t, int64_t p) {
  SmallVector<int64_t> s(t.getShape());
  s[p] = 1;
  return t.clone(s);
}

/// The head position (-1: not sliced, the value is used whole) of each
/// operand and result of `op`, given that `known` (an operand or result of
/// `op`) has its head dim, of size `heads`, at `p`. False if `op` cannot be
/// run one head at a time.
struct Positions {
  SmallVector<int64_t> operands, results;
};

bool sameHeadDim(Value v, int64_t p, int64_t heads) {
  auto t = staticTensor(v.getType());
  return t && p >= 0 && p < t.getRank() && t.getDimSize(p) == heads;
}

std::optional<Positions> linalgPositions(linalg::LinalgOp op, Value known,
                                         int64_t p, int64_t heads) {
  // The loop dim that iterates the head.
  std::optional<unsigned> d;
  for (OpOperand &o : op->getOpOperands())
    if (o.get() == known) {
      AffineMap m = op.getMatchingIndexingMap(&o);
      if (auto e = dyn_cast<AffineDimExpr>(m.getResult(p)))
        d = e.getPosition();
      break;
    }
  for (OpResult r : op->getResults())
    if (r == known) {
      AffineMap m = op.getIndexingMapMatchingResult(r);
      if (auto e = dyn_cast<AffineDimExpr>(m.getResult(p)))
        d = e.getPosition();
    }
  if (!d || op.getIteratorTypesArray()[*d] != utils::IteratorType::parallel)
    return std::nullopt;
  // Ops reading their own indices would see head 0 in every iteration.
  if (isa<linalg::GenericOp>(op) &&
      !op.getBlock()->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  Positions pos;
  for (OpOperand &o : op->getOpOperands()) {
    if (!isa<RankedTensorType>(o.get().getType())) {
      pos.operands.push_back(-1);
      continue;
    }
    AffineMap m = op.getMatchingIndexingMap(&o);
    int64_t at = -1;
    for (unsigned i = 0; i < m.getNumResults(); ++i) {
      AffineExpr e = m.getResult(i);
      if (!e.isFunctionOfDim(*d))
        continue;
      if (at >= 0 || !isa<AffineDimExpr>(e))
        return std::nullopt; // d twice, or inside an expression
      at = i;
    }
    if (at >= 0 && !sameHeadDim(o.get(), at, heads))
      return std::nullopt;
    if (at < 0 && op.isDpsInit(&o))
      return std::nullopt;
    pos.operands.push_back(at);
  }
  for (OpResult r : op->getResults())
    pos.results.push_back(
        pos.operands[op.getDpsInitOperand(r.getResultNumber())
                         ->getOperandNumber()]);
  return pos;
}

/// Offsets 0 and full size along `p`, unit strides, all static.
bool fullAlong(OffsetSizeAndStrideOpInterface op, Value whole, int64_t p) {
  auto t = staticTensor(whole.getType());
  if (!t || !op.hasUnitStride())
    return false;
  auto off = op.getStaticOffsets(), size = op.getStaticSizes();
  return off[p] == 0 && size[p] == t.getDimSize(p) &&
         llvm::none_of(off, ShapedType::isDynamic) &&
         llvm::none_of(size, ShapedType::isDynamic);
}

std::optional<Positions> positions(Operation *op, Value known, int64_t p,
                                   int64_t heads) {
  if (auto l = dyn_cast<linalg::LinalgOp>(op))
    return l.hasPureTensorSemantics() ? linalgPositions(l, known, p, heads)
                                      : std::nullopt;
  auto all = [&](Operation *o) -> std::optional<Positions> {
    for (Value v : o->getOperands())
      if (!sameHeadDim(v, p, heads))
        return std::nullopt;
    for (Value v : o->getResults())
      if (!sameHeadDim(v, p, heads))
        return std::nullopt;
    return Positions{SmallVector<int64_t>(o->getNumOperands(), p),
                     SmallVector<int64_t>(o->getNumResults(), p)};
  };
  if (auto mm = dyn_cast<qopt::MatMulOp>(op)) {
    // Batch dims only, same rank on both sides (no broadcast on the head).
    auto r = staticTensor(mm.getType());
    if (!r || p >= r.getRank() - 2 ||
        cast<ShapedType>(mm.getLhs().getType()).getRank() != r.getRank() ||
        cast<ShapedType>(mm.getRhs().getType()).getRank() != r.getRank())
      return std::nullopt;
    return all(op);
  }
  if (auto s = dyn_cast<tensor::ExtractSliceOp>(op)) {
    if (s.getSourceType().getRank() != s.getType().getRank() ||
        !fullAlong(s, s.getSource(), p))
      return std::nullopt;
    return all(op);
  }
  if (auto s = dyn_cast<tensor::InsertSliceOp>(op)) {
    if (s.getSourceType().getRank() != s.getType().getRank() ||
        !fullAlong(s, s.getDest(), p))
      return std::nullopt;
    return all(op);
  }
  return std::nullopt;
}

/// A fill of a tensor.empty: recreated per head, not part of the chain (CSE
/// shares one such fill between all layers).
bool isFillOfEmpty(Operation *op) {
  auto f = dyn_cast_or_null<linalg::FillOp>(op);
  return f && f.hasPureTensorSemantics() &&
         f.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();
}

/// One chain: its ops and the head position of every value it touches.
struct Chain {
  int64_t heads = 0;
  llvm::SetVector<Operation *> ops;
  DenseMap<Value, int64_t> pos; // -1: used whole
  DenseMap<Operation *, Positions> opPos;

  bool record(Value v, int64_t p) {
    auto [it, fresh] = pos.try_emplace(v, p);
    return fresh || it->second == p;
  }

  /// Adds `op` (reached through `known` at `p`) if it can run per head and
  /// agrees with what is recorded; then grows through its neighbours.
  void grow(Operation *op, Value known, int64_t p, Block *block) {
    SmallVector<std::tuple<Operation *, Value, int64_t>> work{{op, known, p}};
    while (!work.empty()) {
      auto [o, k, kp] = work.pop_back_val();
      if (ops.contains(o) || o->getBlock() != block)
        continue;
      std::optional<Positions> ps = positions(o, k, kp, heads);
      if (!ps)
        continue;
      // Every value must keep one position (sliced or whole) in the chain.
      bool ok = true;
      for (auto [v, vp] : llvm::zip(o->getOperands(), ps->operands)) {
        auto it = pos.find(v);
        ok &= it == pos.end() || it->second == vp;
      }
      for (auto [v, vp] : llvm::zip(o->getResults(), ps->results)) {
        auto it = pos.find(v);
        ok &= it == pos.end() || it->second == vp;
      }
      if (!ok)
        continue;
      for (auto [v, vp] : llvm::zip(o->getOperands(), ps->operands))
        record(v, vp);
      for (auto [v, vp] : llvm::zip(o->getResults(), ps->results))
        record(v, vp);
      ops.insert(o);
      opPos[o] = *ps;
      for (auto [v, vp] : llvm::zip(o->getOperands(), ps->operands)) {
        Operation *def = v.getDefiningOp();
        if (vp >= 0 && def && !isa<tensor::EmptyOp>(def) &&
            !isFillOfEmpty(def) && !def->hasTrait<OpTrait::ConstantLike>())
          work.push_back({def, v, vp});
      }
      for (auto [v, vp] : llvm::zip(o->getResults(), ps->results))
        if (vp >= 0)
          for (Operation *u : v.getUsers())
            work.push_back({u, v, vp});
    }
  }
};

struct QOptParallelizeHeadsPass
    : qopt::impl::QOptParallelizeHeadsPassBase<QOptParallelizeHeadsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<qopt::MatMulOp> seeds;
    getOperation().walk([&](qopt::MatMulOp mm) {
      // Both operands computed (attention's QK^T and PV, not a layer with
      // constant weights), with a batch dim > 1.
      if (matchPattern(mm.getRhs(), m_Constant()) ||
          matchPattern(mm.getLhs(), m_Constant()))
        return;
      seeds.push_back(mm);
    });
    DenseSet<Operation *> done;
    for (qopt::MatMulOp mm : seeds) {
      if (done.contains(mm))
        continue;
      auto r = staticTensor(mm.getType());
      if (!r || r.getRank() < 3)
        continue;
      int64_t p = -1;
      for (int64_t i = r.getRank() - 3; i >= 0 && p < 0; --i)
        if (r.getDimSize(i) > 1)
          p = i;
      if (p < 0)
        continue;
      Chain c;
      c.heads = r.getDimSize(p);
      c.grow(mm, mm.getResult(), p, mm->getBlock());
      for (Operation *o : c.ops)
        done.insert(o);
      if (c.ops.size() >= 2)
        (void)outline(c);
    }
  }

  LogicalResult outline(Chain &c) {
    // Program order; the forall goes right after the last op.
    SmallVector<Operation *> ops(c.ops.begin(), c.ops.end());
    llvm::sort(ops, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    Operation *last = ops.back();
    DenseSet<Operation *> in(ops.begin(), ops.end());
    // Values used after the chain; their users must follow it.
    SmallVector<Value> outs;
    for (Operation *o : ops)
      for (Value v : o->getResults()) {
        bool outside = false;
        for (Operation *u : v.getUsers()) {
          if (in.contains(u))
            continue;
          if (u->getBlock() != last->getBlock() || u->isBeforeInBlock(last))
            return failure(); // an outside op between the chain's ops // an outside op between the chain's ops
          outside = true;
        }
        if (outside) {
          if (c.pos.lookup(v) < 0 || !staticTensor(v.getType()))
            return failure();
          outs.push_back(v);
        }
      }
    if (outs.empty())
      return failure();

    Location loc = last->getLoc();
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    SmallVector<Value> inits;
    for (Value v : outs) {
      auto t = cast<RankedTensorType>(v.getType());
      inits.push_back(tensor::EmptyOp::create(b, loc, t.getShape(),
                                              t.getElementType()));
    }
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(c.heads)}, inits,
        std::nullopt);
    Block *body = forall.getBody();
    Value h = body->getArgument(0);
    b.setInsertionPointToStart(body);

    auto sliceAt = [&](Value v, int64_t p, bool insert, Value src,
                       Value dest) -> Operation * {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<OpFoldResult> off(t.getRank(), b.getIndexAttr(0)),
          size, stride(t.getRank(), b.getIndexAttr(1));
      for (int64_t s : t.getShape())
        size.push_back(b.getIndexAttr(s));
      off[p] = h;
      size[p] = b.getIndexAttr(1);
      if (insert)
        return tensor::ParallelInsertSliceOp::create(b, loc, src, dest, off,
                                                     size, stride);
      return tensor::ExtractSliceOp::create(b, loc, sliced(t, p), v, off,
                                            size, stride);
    };

    IRMapping map;
    llvm::SetVector<Operation *> fills;
    for (Operation *o : ops) {
      const Positions &ps = c.opPos[o];
      for (auto [v, vp] : llvm::zip(o->getOperands(), ps.operands)) {
        if (vp < 0 || map.contains(v))
          continue;
        auto t = cast<RankedTensorType>(v.getType());
        if (v.getDefiningOp<tensor::EmptyOp>()) {
          map.map(v, tensor::EmptyOp::create(b, loc, sliced(t, vp).getShape(),
                                             t.getElementType()));
        } else if (isFillOfEmpty(v.getDefiningOp())) {
          auto f = v.getDefiningOp<linalg::FillOp>();
          Value e = tensor::EmptyOp::create(b, loc, sliced(t, vp).getShape(),
                                            t.getElementType());
          map.map(v, linalg::FillOp::create(b, f.getLoc(), f.getInputs()[0], e)
                         .getResult(0));
          fills.insert(f);
        } else
          map.map(v, sliceAt(v, vp, false, {}, {})->getResult(0));
      }
      Operation *n;
      auto shrink = [&](ArrayRef<int64_t> sizes, int64_t p) {
        SmallVector<int64_t> s(sizes);
        s[p] = 1;
        return s;
      };
      if (auto s = dyn_cast<tensor::ExtractSliceOp>(o)) {
        int64_t p = ps.results[0];
        n = tensor::ExtractSliceOp::create(
            b, s.getLoc(), sliced(s.getType(), p), map.lookup(s.getSource()),
            ValueRange{}, ValueRange{}, ValueRange{}, s.getStaticOffsets(),
            shrink(s.getStaticSizes(), p), s.getStaticStrides());
      } else if (auto s = dyn_cast<tensor::InsertSliceOp>(o)) {
        int64_t p = ps.results[0];
        n = tensor::InsertSliceOp::create(
            b, s.getLoc(), map.lookup(s.getSource()), map.lookup(s.getDest()),
            ValueRange{}, ValueRange{}, ValueRange{}, s.getStaticOffsets(),
            shrink(s.getStaticSizes(), p), s.getStaticStrides());
      } else {
        n = b.clone(*o, map);
        for (auto [res, rp] : llvm::zip(n->getResults(), ps.results))
          if (rp >= 0)
            res.setType(sliced(cast<RankedTensorType>(res.getType()), rp));
      }
      map.map(o->getResults(), n->getResults());
    }
    b.setInsertionPointToStart(forall.getTerminator().getBody());
    for (auto [i, v] : llvm::enumerate(outs))
      sliceAt(v, c.pos.lookup(v), true, map.lookup(v),
              body->getArgument(1 + i));
    for (auto [i, v] : llvm::enumerate(outs))
      v.replaceUsesWithIf(forall.getResult(i), [&](OpOperand &u) {
        return !forall->isProperAncestor(u.getOwner());
      });
    for (Operation *o : llvm::reverse(ops))
      o->erase();
    for (Operation *f : fills)
      if (f->use_empty())
        f->erase();
    return success();
  }
};
} // namespace
