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
#include "ParallelChain.h"
#include "qopt/Codegen/Passes.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTPARALLELIZEHEADSPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
struct QOptParallelizeHeadsPass
    : qopt::impl::QOptParallelizeHeadsPassBase<QOptParallelizeHeadsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<qopt::MatMulOp> seeds;
    getOperation().walk([&](qopt::MatMulOp mm) {
      // Both operands computed (attention's QK^T and PV, not a layer with
      // constant weights).
      if (!matchPattern(mm.getRhs(), m_Constant()) &&
          !matchPattern(mm.getLhs(), m_Constant()))
        seeds.push_back(mm);
    });
    DenseSet<Operation *> done;
    for (qopt::MatMulOp mm : seeds) {
      if (done.contains(mm)) // possibly erased by an earlier chain
        continue;
      auto r = dyn_cast<RankedTensorType>(mm.getType());
      if (!r || !r.hasStaticShape() || r.getRank() < 3)
        continue;
      // The head: the innermost batch dim > 1.
      int64_t p = -1;
      for (int64_t i = r.getRank() - 3; i >= 0 && p < 0; --i)
        if (r.getDimSize(i) > 1)
          p = i;
      if (p < 0)
        continue;
      qopt::Chain c;
      c.extent = r.getDimSize(p);
      c.grow(mm, mm.getResult(), p, mm->getBlock());
      done.insert(c.ops.begin(), c.ops.end());
      if (c.ops.size() >= 2)
        (void)qopt::outlineChain(c);
    }
  }
};
} // namespace
