//===- SerializeSmallLoops.cpp - no OpenMP region for tiny loops ----------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Codegen/TargetDesc.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/CallInterfaces.h"

#include <limits>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSERIALIZESMALLLOOPSPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
constexpr int64_t kMany = std::numeric_limits<int64_t>::max() / 4;

int64_t satMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  return a > kMany / b ? kMany : a * b;
}

/// Vector registers one op spans: its widest vector operand or result.
int64_t opWidth(Operation &op, unsigned vectorBits) {
  int64_t w = 1;
  auto visit = [&](Type t) {
    auto v = dyn_cast<VectorType>(t);
    if (!v || v.isScalable())
      return;
    unsigned bits = v.getElementType().isIntOrFloat()
                        ? v.getElementType().getIntOrFloatBitWidth()
                        : 64;
    int64_t total = v.getNumElements() * bits;
    w = std::max<int64_t>(w, (total + vectorBits - 1) / vectorBits);
  };
  for (Type t : op.getResultTypes())
    visit(t);
  for (Type t : op.getOperandTypes())
    visit(t);
  return w;
}

/// Trip count of a loop dimension, or nullopt when not constant.
std::optional<int64_t> trips(Value lb, Value ub, Value step) {
  auto l = getConstantIntValue(lb), u = getConstantIntValue(ub),
       s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return *u > *l ? (*u - *l + *s - 1) / *s : 0;
}

int64_t blockWork(Block &b, unsigned vectorBits);

int64_t opWork(Operation &op, unsigned vectorBits) {
  if (isa<CallOpInterface>(op))
    return kMany; // unknown callee: keep the loop parallel
  if (auto f = dyn_cast<scf::ForOp>(op)) {
    auto n = trips(f.getLowerBound(), f.getUpperBound(), f.getStep());
    return n ? satMul(*n, blockWork(*f.getBody(), vectorBits)) : kMany;
  }
  if (auto p = dyn_cast<scf::ParallelOp>(op)) {
    int64_t n = 1;
    for (auto [l, u, s] :
         llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
      auto t = trips(l, u, s);
      n = t ? satMul(n, *t) : kMany;
    }
    return satMul(n, blockWork(*p.getBody(), vectorBits));
  }
  int64_t w = opWidth(op, vectorBits);
  for (Region &r : op.getRegions())
    for (Block &b : r)
      w = std::min(kMany, w + blockWork(b, vectorBits));
  return w;
}

int64_t blockWork(Block &b, unsigned vectorBits) {
  int64_t w = 0;
  for (Operation &op : b)
    w = std::min(kMany, w + opWork(op, vectorBits));
  return w;
}

struct QOptSerializeSmallLoopsPass
    : qopt::impl::QOptSerializeSmallLoopsPassBase<
          QOptSerializeSmallLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    const qopt::TargetDesc *t = qopt::lookupTargetDesc(target);
    if (!t) {
      getOperation().emitError("unknown target '" + target + "'");
      return signalPassFailure();
    }
    int64_t threshold = minWork >= 0 ? int64_t(minWork) : t->minParallelWork;
    SmallVector<scf::ParallelOp> small;
    getOperation().walk([&](scf::ParallelOp p) {
      if (p.getNumResults() || !p.getInitVals().empty())
        return;
      // A loop inside a parallel loop runs in one thread anyway (OpenMP's
      // nested regions get one), but as a nested region it would still pay
      // a fork/join per outer iteration (e.g. the ops inside
      // qopt-parallelize-heads' loop over the heads).
      if (p->getParentOfType<scf::ParallelOp>() ||
          opWork(*p, t->vectorBits) < threshold)
        small.push_back(p);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp p : small) {
      rewriter.setInsertionPoint(p);
      if (failed(scf::parallelForToNestedFors(rewriter, p)))
        return signalPassFailure();
    }
  }
};
} // namespace
