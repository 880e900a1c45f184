//===- ParallelizeRows.cpp - row-wise op chains in one scf.forall ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Between two matmuls of a transformer block sits a chain of small row-wise
// ops: dequantize the i32 accumulators, the residual add, RMSNorm (x*x, row
// sum, rsqrt, scale), the dynamic per-row quantization (row min and max,
// scale and zero point, quantize), SiLU * up. Each is a pass over a
// 128 x 256..768 tensor of 10-30 us; one parallel region each costs a
// fork/join apiece, so qopt-serialize-small-loops runs them serially, and
// with 2 threads they were a third of the forward pass. This pass runs each
// such chain as one scf.forall over row blocks (ParallelChain.h): one
// parallel region per chain, and a block's rows stay in cache from one op
// to the next. Bit-identical: the same operations in the same order.
//
//===----------------------------------------------------------------------===//
#include "ParallelChain.h"
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTPARALLELIZEROWSPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// Ops a row chain never takes: matmuls and convolutions (parallel on
/// their own, over weight panels), microkernel ops and the ops feeding
/// their accumulator (qopt-lower-ukernels matches those), loops.
bool isBarrier(Operation *op) {
  if (op->hasAttr("qopt.ukernel") || op->hasAttr("qopt.conv") ||
      (op->getNumRegions() && !isa<linalg::LinalgOp>(op)))
    return true;
  if (auto l = dyn_cast<linalg::LinalgOp>(op))
    if (linalg::isaContractionOpInterface(l) ||
        linalg::isaConvolutionOpInterface(l))
      return true;
  for (Value r : op->getResults())
    for (OpOperand &u : r.getUses())
      if (auto d = dyn_cast<linalg::LinalgOp>(u.getOwner()))
        if (d->hasAttr("qopt.ukernel") && d.isDpsInit(&u))
          return true;
  return false;
}

/// The row dim of a row reduction's result (its outermost parallel dim
/// larger than 1), or -1.
int64_t rowDim(linalg::GenericOp g) {
  if (g.getNumReductionLoops() == 0 || g.getNumDpsInits() != 1 ||
      !g.hasPureTensorSemantics())
    return -1;
  auto t = dyn_cast<RankedTensorType>(g->getResult(0).getType());
  if (!t || !t.hasStaticShape())
    return -1;
  AffineMap m = g.getIndexingMapMatchingResult(g->getResult(0));
  for (unsigned i = 0; i < m.getNumResults(); ++i)
    if (t.getDimSize(i) > 1 && isa<AffineDimExpr>(m.getResult(i)))
      return i;
  return -1;
}

struct QOptParallelizeRowsPass
    : qopt::impl::QOptParallelizeRowsPassBase<QOptParallelizeRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (getOperation().isExternal())
      return;
    Block &block = getOperation().getBody().front();
    // Segments: the ops between two barriers; a chain stays in one.
    DenseMap<Operation *, int64_t> segment;
    int64_t seg = 0;
    SmallVector<linalg::GenericOp> seeds;
    for (Operation &op : block) {
      if (isBarrier(&op))
        ++seg;
      segment[&op] = seg;
      if (auto g = dyn_cast<linalg::GenericOp>(op); g && rowDim(g) >= 0)
        seeds.push_back(g);
    }
    DenseSet<Operation *> done;
    for (linalg::GenericOp g : seeds) {
      if (done.contains(g))
        continue;
      int64_t p = rowDim(g);
      int64_t rows = cast<RankedTensorType>(g->getResult(0).getType())
                         .getDimSize(p);
      if (rows < minRows || rows % blocks)
        continue;
      qopt::Chain c;
      c.extent = rows;
      c.tile = rows / blocks;
      int64_t s = segment.lookup(g);
      c.accept = [&](Operation *op) {
        return !isBarrier(op) && segment.lookup(op) == s;
      };
      c.grow(g, g->getResult(0), p, &block);
      done.insert(c.ops.begin(), c.ops.end());
      if (c.ops.size() >= 2)
        (void)qopt::outlineChain(c);
    }
  }
};
} // namespace
