//===- ParallelChain.cpp - a chain of ops run one tile of a dim at a time -===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "ParallelChain.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// A static-shaped ranked tensor type, or null.
RankedTensorType staticTensor(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.hasStaticShape() ? r : RankedTensorType();
}

/// `t` with dim `p` set to `n`.
RankedTensorType sliced(RankedTensorType t, int64_t p, int64_t n) {
  SmallVector<int64_t> s(t.getShape());
  s[p] = n;
  return t.clone(s);
}

/// Whether `v` is a static tensor with `extent` elements along dim `p`.
bool hasDimAt(Value v, int64_t p, int64_t extent) {
  auto t = staticTensor(v.getType());
  return t && p >= 0 && p < t.getRank() && t.getDimSize(p) == extent;
}

std::optional<ChainPositions> linalgChainPositions(linalg::LinalgOp op,
                                                   Value known, int64_t p,
                                                   int64_t extent) {
  // The loop dim that iterates the chain's dim.
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
  // Ops reading their own indices would see tile 0's in every iteration.
  if (isa<linalg::GenericOp>(op) &&
      !op.getBlock()->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  ChainPositions pos;
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
    if (at >= 0 && !hasDimAt(o.get(), at, extent))
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

/// A collapse/expand_shape that keeps the dim whole: the group holding it
/// has only unit dims besides (1x128x256 <-> 128x256, 128 <-> 128x1).
std::optional<ChainPositions>
reshapePositions(Value src, Value res,
                 ArrayRef<ReassociationIndices> groups, Value known,
                 int64_t p, int64_t extent, bool collapse) {
  auto big = staticTensor(collapse ? src.getType() : res.getType());
  auto small = staticTensor(collapse ? res.getType() : src.getType());
  if (!big || !small)
    return std::nullopt;
  // (big pos, small pos) of the dim.
  bool knownBig = known == (collapse ? src : res);
  for (auto [g, group] : llvm::enumerate(groups)) {
    int64_t at = -1;
    for (int64_t d : group)
      if (big.getDimSize(d) != 1) {
        if (at >= 0)
          return std::nullopt;
        at = d;
      }
    if (knownBig ? !llvm::is_contained(group, p) : (int64_t)g != p)
      continue;
    if (at < 0 || big.getDimSize(at) != extent ||
        small.getDimSize(g) != extent)
      return std::nullopt;
    int64_t bp = at, sp = g;
    return collapse ? ChainPositions{{bp}, {sp}} : ChainPositions{{sp}, {bp}};
  }
  return std::nullopt;
}

/// A fill of a tensor.empty: recreated per tile, not part of the chain (CSE
/// shares one such fill between all layers).
bool isFillOfEmpty(Operation *op) {
  auto f = dyn_cast_or_null<linalg::FillOp>(op);
  return f && f.hasPureTensorSemantics() &&
         f.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();
}

} // namespace

std::optional<ChainPositions> mlir::qopt::chainPositions(Operation *op, Value known,
                                             int64_t p, int64_t extent) {
  if (auto l = dyn_cast<linalg::LinalgOp>(op))
    return l.hasPureTensorSemantics() ? linalgChainPositions(l, known, p, extent)
                                      : std::nullopt;
  auto all = [&](Operation *o) -> std::optional<ChainPositions> {
    for (Value v : o->getOperands())
      if (!hasDimAt(v, p, extent))
        return std::nullopt;
    for (Value v : o->getResults())
      if (!hasDimAt(v, p, extent))
        return std::nullopt;
    return ChainPositions{SmallVector<int64_t>(o->getNumOperands(), p),
                     SmallVector<int64_t>(o->getNumResults(), p)};
  };
  if (auto mm = dyn_cast<qopt::MatMulOp>(op)) {
    // Batch dims only, same rank on both sides (no broadcast on the dim).
    auto r = staticTensor(mm.getType());
    if (!r || p >= r.getRank() - 2 ||
        cast<ShapedType>(mm.getLhs().getType()).getRank() != r.getRank() ||
        cast<ShapedType>(mm.getRhs().getType()).getRank() != r.getRank())
      return std::nullopt;
    return all(op);
  }
  if (auto r = dyn_cast<tensor::CollapseShapeOp>(op))
    return reshapePositions(r.getSrc(), r.getResult(),
                            r.getReassociationIndices(), known, p, extent,
                            /*collapse=*/true);
  if (auto r = dyn_cast<tensor::ExpandShapeOp>(op))
    return reshapePositions(r.getSrc(), r.getResult(),
                            r.getReassociationIndices(), known, p, extent,
                            /*collapse=*/false);
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


void Chain::grow(Operation *op, Value known, int64_t p, Block *block) {
  SmallVector<std::tuple<Operation *, Value, int64_t>> work{{op, known, p}};
  while (!work.empty()) {
    auto [o, k, kp] = work.pop_back_val();
    if (ops.contains(o) || o->getBlock() != block || !accept(o))
      continue;
    std::optional<ChainPositions> ps = chainPositions(o, k, kp, extent);
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
      pos.try_emplace(v, vp);
    for (auto [v, vp] : llvm::zip(o->getResults(), ps->results))
      pos.try_emplace(v, vp);
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

LogicalResult mlir::qopt::outlineChain(Chain &c) {
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
          return failure(); // an outside op between the chain's ops
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
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(c.extent / c.tile)}, inits,
      std::nullopt);
  Block *body = forall.getBody();
  b.setInsertionPointToStart(body);
  // The tile's first index along the dim.
  Value h = body->getArgument(0);
  if (c.tile != 1)
    h = arith::MulIOp::create(b, loc, h,
                              arith::ConstantIndexOp::create(b, loc, c.tile));

  auto sliceAt = [&](Value v, int64_t p, bool insert, Value src,
                     Value dest) -> Operation * {
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> off(t.getRank(), b.getIndexAttr(0)),
        size, stride(t.getRank(), b.getIndexAttr(1));
    for (int64_t s : t.getShape())
      size.push_back(b.getIndexAttr(s));
    off[p] = h;
    size[p] = b.getIndexAttr(c.tile);
    if (insert)
      return tensor::ParallelInsertSliceOp::create(b, loc, src, dest, off,
                                                   size, stride);
    return tensor::ExtractSliceOp::create(b, loc, sliced(t, p, c.tile), v, off,
                                          size, stride);
  };

  IRMapping map;
  llvm::SetVector<Operation *> fills;
  for (Operation *o : ops) {
    const ChainPositions &ps = c.opPos[o];
    for (auto [v, vp] : llvm::zip(o->getOperands(), ps.operands)) {
      if (vp < 0 || map.contains(v))
        continue;
      auto t = cast<RankedTensorType>(v.getType());
      if (v.getDefiningOp<tensor::EmptyOp>()) {
        map.map(v, tensor::EmptyOp::create(b, loc, sliced(t, vp, c.tile).getShape(),
                                           t.getElementType()));
      } else if (isFillOfEmpty(v.getDefiningOp())) {
        auto f = v.getDefiningOp<linalg::FillOp>();
        Value e = tensor::EmptyOp::create(b, loc, sliced(t, vp, c.tile).getShape(),
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
      s[p] = c.tile;
      return s;
    };
    if (auto s = dyn_cast<tensor::ExtractSliceOp>(o)) {
      int64_t p = ps.results[0];
      n = tensor::ExtractSliceOp::create(
          b, s.getLoc(), sliced(s.getType(), p, c.tile), map.lookup(s.getSource()),
          ValueRange{}, ValueRange{}, ValueRange{}, s.getStaticOffsets(),
          shrink(s.getStaticSizes(), p), s.getStaticStrides());
    } else if (auto s = dyn_cast<tensor::InsertSliceOp>(o)) {
      int64_t p = ps.results[0];
      n = tensor::InsertSliceOp::create(
          b, s.getLoc(), map.lookup(s.getSource()), map.lookup(s.getDest()),
          ValueRange{}, ValueRange{}, ValueRange{}, s.getStaticOffsets(),
          shrink(s.getStaticSizes(), p), s.getStaticStrides());
    } else if (auto r = dyn_cast<tensor::ExpandShapeOp>(o)) {
      // Its static output_shape follows the new type.
      n = tensor::ExpandShapeOp::create(
          b, r.getLoc(), sliced(r.getResultType(), ps.results[0], c.tile),
          map.lookup(r.getSrc()), r.getReassociationIndices());
    } else {
      n = b.clone(*o, map);
      for (auto [res, rp] : llvm::zip(n->getResults(), ps.results))
        if (rp >= 0)
          res.setType(
                sliced(cast<RankedTensorType>(res.getType()), rp, c.tile));
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
