//===- SerializeSmallLoops.cpp - no OpenMP region for tiny loops ----------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Codegen/TargetDesc.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
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
constexpr llvm::StringLiteral kMaxThreads = "omp_get_max_threads";
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

/// `v` made available before `at`: itself if it dominates `at` (defined
/// outside `scope`), or a clone of its pure index computation from such
/// values; null if it depends on `scope`'s own values (an induction var).
Value hoisted(OpBuilder &b, Value v, Operation *scope, IRMapping &map,
              int depth = 0) {
  if (map.contains(v))
    return map.lookup(v);
  Operation *def = v.getDefiningOp();
  if (!def) {
    auto arg = cast<BlockArgument>(v);
    return scope->isAncestor(arg.getOwner()->getParentOp()) ? Value() : v;
  }
  if (!scope->isAncestor(def))
    return v;
  if (depth > 8 || def->getNumRegions() || !isPure(def) ||
      !llvm::all_of(def->getResultTypes(),
                    [](Type t) { return t.isIndex() || t.isInteger(); }))
    return Value();
  for (Value o : def->getOperands())
    if (!hoisted(b, o, scope, map, depth + 1))
      return Value();
  Operation *c = b.clone(*def, map);
  return c->getResult(cast<OpResult>(v).getResultNumber());
}

constexpr int64_t kPeeledRestTrips = 16;

/// Whether `f` (inside `scope`) runs from 0 to a bound computed by an
/// affine.apply/min of values (the remainder of a peeled vector loop:
/// `ub - iv` of the loop around it) with step 1.
bool isPeeledRest(scf::ForOp f, Operation *scope) {
  auto lb = getConstantIntValue(f.getLowerBound());
  auto st = getConstantIntValue(f.getStep());
  Operation *ub = f.getUpperBound().getDefiningOp();
  return lb && *lb == 0 && st && *st == 1 && ub && scope->isAncestor(ub) &&
         isa<affine::AffineApplyOp, affine::AffineMinOp>(ub);
}

/// The work of `block` (as opWork) as a run-time value, for loops whose
/// bounds are computed from values outside `scope`; null otherwise.
Value runtimeWork(OpBuilder &b, Location loc, Block &block, Operation *scope,
                  IRMapping &map, unsigned vectorBits);

Value runtimeTrips(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
                   Operation *scope, IRMapping &map) {
  Value l = hoisted(b, lb, scope, map), u = hoisted(b, ub, scope, map),
        s = hoisted(b, step, scope, map);
  if (!l || !u || !s)
    return Value();
  Value d = arith::MaxSIOp::create(
      b, loc, arith::SubIOp::create(b, loc, u, l),
      arith::ConstantIndexOp::create(b, loc, 0));
  return arith::CeilDivUIOp::create(b, loc, d, s);
}

Value runtimeWork(OpBuilder &b, Location loc, Block &block, Operation *scope,
                  IRMapping &map, unsigned vectorBits) {
  int64_t fixed = 0;
  Value sum;
  auto add = [&](Value w) {
    sum = sum ? arith::AddIOp::create(b, loc, sum, w).getResult() : w;
  };
  for (Operation &op : block) {
    int64_t w = opWork(op, vectorBits);
    if (w < kMany) {
      fixed += w;
      continue;
    }
    Value trips, body;
    if (auto f = dyn_cast<scf::ForOp>(op)) {
      trips = runtimeTrips(b, loc, f.getLowerBound(), f.getUpperBound(),
                           f.getStep(), scope, map);
      // Bounds from the enclosing loops' induction variables: the partial
      // last vector step that peeling leaves (a row's last T % 16 elements
      // inside a loop over rows), counted as one vector's worth of trips.
      if (!trips && isPeeledRest(f, scope))
        trips = arith::ConstantIndexOp::create(b, loc, kPeeledRestTrips);
      body = trips ? runtimeWork(b, loc, *f.getBody(), scope, map, vectorBits)
                   : Value();
    } else if (auto p = dyn_cast<scf::ParallelOp>(op)) {
      for (auto [l, u, st] :
           llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
        Value t = runtimeTrips(b, loc, l, u, st, scope, map);
        if (!t)
          return Value();
        trips = trips ? arith::MulIOp::create(b, loc, trips, t).getResult() : t;
      }
      body = trips ? runtimeWork(b, loc, *p.getBody(), scope, map, vectorBits)
                   : Value();
    } else {
      return Value(); // a call, or a region op with unknown work
    }
    if (!trips || !body)
      return Value();
    add(arith::MulIOp::create(b, loc, trips, body));
  }
  Value c = arith::ConstantIndexOp::create(b, loc, std::max<int64_t>(fixed, 1));
  if (sum)
    return arith::AddIOp::create(b, loc, sum, c);
  return c;
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
    int64_t oneThread = oneThreadWork >= 0 ? int64_t(oneThreadWork)
                                           : t->minParallelWorkOneThread;
    oneThread = std::max(oneThread, threshold);
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    // omp_get_max_threads() <= 1, once per function, created on first use.
    llvm::DenseMap<Operation *, Value> singleThread;
    auto isSingleThread = [&](Operation *at) -> Value {
      auto fn = at->getParentOfType<FunctionOpInterface>();
      Value &v = singleThread[fn];
      if (v)
        return v;
      OpBuilder b(&getContext());
      auto callee = module.lookupSymbol<func::FuncOp>(kMaxThreads);
      if (!callee) {
        b.setInsertionPointToStart(module.getBody());
        callee = func::FuncOp::create(
            b, module.getLoc(), kMaxThreads,
            b.getFunctionType({}, {b.getI32Type()}));
        callee.setPrivate();
      }
      b.setInsertionPointToStart(&fn.getFunctionBody().front());
      Location loc = fn.getLoc();
      Value n = func::CallOp::create(b, loc, callee).getResult(0);
      v = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sle, n,
          arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1));
      return v;
    };
    // A serial copy of `p` where `cond` holds, `p` itself otherwise.
    auto version = [&](scf::ParallelOp p, Value cond) -> LogicalResult {
      OpBuilder b(p);
      auto ifOp = scf::IfOp::create(b, p.getLoc(), TypeRange{}, cond,
                                    /*withElseRegion=*/true);
      b.setInsertionPointToStart(ifOp.thenBlock());
      auto serial = cast<scf::ParallelOp>(b.clone(*p));
      rewriter.setInsertionPoint(serial);
      if (failed(scf::parallelForToNestedFors(rewriter, serial)))
        return failure();
      p->moveBefore(ifOp.elseBlock()->getTerminator());
      return success();
    };
    auto eligible = [](scf::ParallelOp p) {
      return !p.getNumResults() && p.getInitVals().empty();
    };
    SmallVector<scf::ParallelOp> small, midsize;
    module.walk([&](scf::ParallelOp p) {
      if (!eligible(p))
        return;
      // A loop inside a parallel loop runs in one thread anyway (OpenMP's
      // nested regions get one), but as a nested region it would still pay
      // a fork/join per outer iteration (e.g. the ops inside
      // qopt-parallelize-heads' loop over the heads).
      if (p->getParentOfType<scf::ParallelOp>()) {
        small.push_back(p);
        return;
      }
      int64_t w = opWork(*p, t->vectorBits);
      if (w < threshold)
        small.push_back(p);
      else if (w < oneThread)
        midsize.push_back(p);
    });
    for (scf::ParallelOp p : small) {
      rewriter.setInsertionPoint(p);
      if (failed(scf::parallelForToNestedFors(rewriter, p)))
        return signalPassFailure();
    }
    // Worth splitting over threads, but with one thread a parallel region
    // still costs its entry (a decode step's 1x256x768 GEMV is 12,288 ops).
    for (scf::ParallelOp p : midsize)
      if (failed(version(p, isSingleThread(p))))
        return signalPassFailure();
    // Run-time trip counts (sequence lengths): the work is computed before
    // the loop and a serial copy runs when it is below the threshold (a
    // decode step's attention over one token would otherwise pay a
    // fork/join per op).
    SmallVector<scf::ParallelOp> dynamic;
    module.walk([&](scf::ParallelOp p) {
      if (eligible(p) && !p->getParentOfType<scf::ParallelOp>() &&
          opWork(*p, t->vectorBits) >= kMany)
        dynamic.push_back(p);
    });
    for (scf::ParallelOp p : dynamic) {
      OpBuilder b(p);
      Location loc = p.getLoc();
      IRMapping map;
      Value trips;
      for (auto [l, u, st] :
           llvm::zip(p.getLowerBound(), p.getUpperBound(), p.getStep())) {
        Value tr = runtimeTrips(b, loc, l, u, st, p, map);
        trips = trips && tr ? arith::MulIOp::create(b, loc, trips, tr).getResult()
                            : tr;
        if (!tr)
          break;
      }
      Value work = trips ? runtimeWork(b, loc, *p.getBody(), p, map,
                                       t->vectorBits)
                         : Value();
      if (!work)
        continue; // the estimate's ops are dead: canonicalize drops them
      work = arith::MulIOp::create(b, loc, trips, work);
      auto below = [&](int64_t n) {
        return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, work,
                                     arith::ConstantIndexOp::create(b, loc, n));
      };
      Value serial = below(threshold);
      if (oneThread > threshold)
        serial = arith::OrIOp::create(
            b, loc, serial,
            arith::AndIOp::create(b, loc, below(oneThread),
                                  isSingleThread(p)));
      if (failed(version(p, serial)))
        return signalPassFailure();
    }
  }
};
} // namespace
