//===- SpecializeDynamicRows.cpp - run-time row counts on static matmuls ---===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// A model compiled once for any sequence length has matmuls with `?` rows;
// the quantizers and the packed kernels need static shapes. M == 1 (decode)
// gets its own [1, K] matmuls, other M full chunks of rows plus one
// zero-padded chunk; the matmuls of one input share the structure.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/Dominance.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSPECIALIZEDYNAMICROWSPASS
#include "qopt/Transforms/Passes.h.inc"

namespace {

struct QOptSpecializeDynamicRowsPass
    : impl::QOptSpecializeDynamicRowsPassBase<QOptSpecializeDynamicRowsPass> {
  using Base::Base;

  static bool qualifies(MatMulOp op) {
    auto lt = op.getLhs().getType(), rt = op.getRhs().getType();
    int64_t r = lt.getRank();
    return r >= 2 && !lt.hasStaticShape() && !lt.isDynamicDim(r - 1) &&
           rt.getRank() == 2 && rt.hasStaticShape() &&
           lt.getElementType().isF32() && rt.getElementType().isF32() &&
           op.getType().getRank() == r;
  }

  void runOnOperation() override {
    if (chunk < 1) {
      getOperation().emitError("qopt-specialize-dynamic-rows: chunk must be "
                               ">= 1");
      return signalPassFailure();
    }
    // Matmuls grouped by their input, in program order; a group is built
    // at its first matmul, so its weights must be defined before it.
    DominanceInfo dom(getOperation());
    llvm::MapVector<Value, SmallVector<SmallVector<MatMulOp>>> groups;
    getOperation().walk([&](MatMulOp op) {
      if (!qualifies(op))
        return;
      // Matmuls with equal [T, N] results stay apart: their zero-filled
      // inits would be one value after CSE, and the packed f32 kernel then
      // writes both products into one buffer (seen on q/k/v: wrong
      // results). Different N share.
      auto &gs = groups[op.getLhs()];
      int64_t n = op.getRhs().getType().getDimSize(1);
      if (gs.empty() || gs.back().front()->getBlock() != op->getBlock() ||
          !dom.properlyDominates(op.getRhs(), gs.back().front()) ||
          llvm::any_of(gs.back(), [&](MatMulOp o) {
            return o.getRhs().getType().getDimSize(1) == n;
          }))
        gs.emplace_back();
      gs.back().push_back(op);
    });
    for (auto &[lhs, gs] : groups)
      for (auto &ops : gs)
        rewrite(lhs, ops);
  }

  /// The static [m, N_i] matmuls of `rows` ([m, K]) with each weight.
  static SmallVector<Value> matmuls(OpBuilder &b, Location loc, Value rows,
                                    SmallVector<MatMulOp> &ops, int64_t m) {
    SmallVector<Value> out;
    for (MatMulOp op : ops) {
      int64_t n = op.getRhs().getType().getDimSize(1);
      auto ty = RankedTensorType::get({m, n}, b.getF32Type());
      auto mm = MatMulOp::create(b, loc, ty, rows, op.getRhs());
      mm->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      out.push_back(mm);
    }
    return out;
  }

  void rewrite(Value lhs, SmallVector<MatMulOp> &ops) {
    OpBuilder b(ops.front());
    Location loc = ops.front().getLoc();
    auto lt = cast<RankedTensorType>(lhs.getType());
    int64_t r = lt.getRank(), K = lt.getDimSize(r - 1), T = chunk;
    Type f32 = b.getF32Type();
    auto idx = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
    auto dynTy = [&](int64_t cols) {
      return RankedTensorType::get({ShapedType::kDynamic, cols}, f32);
    };
    Value x = lhs;
    if (r > 2)
      x = tensor::CollapseShapeOp::create(
          b, loc, x,
          ArrayRef<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(0, r - 1)), {r - 1}});
    if (x.getType() != dynTy(K))
      x = tensor::CastOp::create(b, loc, dynTy(K), x);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value cT = arith::ConstantIndexOp::create(b, loc, T);
    Value M = tensor::DimOp::create(b, loc, x, c0);
    SmallVector<Type> resTys;
    SmallVector<int64_t> ns;
    for (MatMulOp op : ops) {
      ns.push_back(op.getRhs().getType().getDimSize(1));
      resTys.push_back(dynTy(ns.back()));
    }
    auto slice = [&](OpBuilder &nb, Location nl, Value src, OpFoldResult off,
                     OpFoldResult rows, int64_t cols, Type ty) -> Value {
      return tensor::ExtractSliceOp::create(
          nb, nl, cast<RankedTensorType>(ty), src,
          ArrayRef<OpFoldResult>{off, idx(0)},
          ArrayRef<OpFoldResult>{rows, idx(cols)},
          ArrayRef<OpFoldResult>{idx(1), idx(1)});
    };
    Value one = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, M, c1);
    auto ifOp = scf::IfOp::create(b, loc, resTys, one, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value row = slice(b, loc, x, idx(0), idx(1), K,
                        RankedTensorType::get({1, K}, f32));
      SmallVector<Value> ys;
      for (Value y : matmuls(b, loc, row, ops, 1))
        ys.push_back(tensor::CastOp::create(
            b, loc, dynTy(cast<RankedTensorType>(y.getType()).getDimSize(1)), y));
      scf::YieldOp::create(b, loc, ys);
    }
    b.setInsertionPointToStart(ifOp.elseBlock());
    Value full = arith::DivUIOp::create(b, loc, M, cT);
    SmallVector<Value> outs;
    // alloc_tensor, not tensor.empty: CSE would merge equal empties into
    // one shared_out for every result, which bufferizes to one buffer.
    for (int64_t n : ns)
      outs.push_back(bufferization::AllocTensorOp::create(
          b, loc, dynTy(n), ValueRange{M}));
    // Full chunks, in parallel.
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{full}, outs, std::nullopt,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value r0 = arith::MulIOp::create(nb, nl, args[0], cT);
          Value rows = slice(nb, nl, x, r0, idx(T), K,
                             RankedTensorType::get({T, K}, f32));
          SmallVector<Value> ys = matmuls(nb, nl, rows, ops, T);
          auto term = scf::InParallelOp::create(nb, nl);
          nb.setInsertionPointToStart(term.getBody());
          for (auto [k, y] : llvm::enumerate(ys))
            tensor::ParallelInsertSliceOp::create(
                nb, nl, y, args[1 + k], ArrayRef<OpFoldResult>{r0, idx(0)},
                ArrayRef<OpFoldResult>{idx(T), idx(ns[k])},
                ArrayRef<OpFoldResult>{idx(1), idx(1)});
        });
    // The rest (< T rows), zero-padded to one chunk.
    Value r0 = arith::MulIOp::create(b, loc, full, cT);
    Value rem = arith::SubIOp::create(b, loc, M, r0);
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, rem, c0);
    auto tail = scf::IfOp::create(b, loc, resTys, any, true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(tail.thenBlock());
      Value rows = slice(b, loc, x, r0, rem, K, dynTy(K));
      Value zero = arith::ConstantOp::create(b, loc, f32, b.getZeroAttr(f32));
      Value pad = linalg::FillOp::create(
                      b, loc, ValueRange{zero},
                      ValueRange{tensor::EmptyOp::create(
                          b, loc, ArrayRef<int64_t>{T, K}, f32)})
                      .getResult(0);
      pad = tensor::InsertSliceOp::create(
          b, loc, rows, pad, ArrayRef<OpFoldResult>{idx(0), idx(0)},
          ArrayRef<OpFoldResult>{rem, idx(K)},
          ArrayRef<OpFoldResult>{idx(1), idx(1)});
      SmallVector<Value> ys;
      for (auto [k, y] : llvm::enumerate(matmuls(b, loc, pad, ops, T))) {
        Value valid = slice(b, loc, y, idx(0), rem, ns[k], dynTy(ns[k]));
        ys.push_back(tensor::InsertSliceOp::create(
            b, loc, valid, forall.getResult(k),
            ArrayRef<OpFoldResult>{r0, idx(0)},
            ArrayRef<OpFoldResult>{rem, idx(ns[k])},
            ArrayRef<OpFoldResult>{idx(1), idx(1)}));
      }
      scf::YieldOp::create(b, loc, ys);
    }
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(tail.elseBlock());
      scf::YieldOp::create(b, loc, forall.getResults());
    }
    scf::YieldOp::create(b, loc, tail.getResults());
    // Back to each matmul's result shape: [d0, .., N].
    b.setInsertionPointAfter(ifOp);
    SmallVector<OpFoldResult> lead;
    for (int64_t d = 0; d < r - 1; ++d)
      lead.push_back(tensor::getMixedSize(b, loc, lhs, d));
    for (auto [k, op] : llvm::enumerate(ops)) {
      Value y = ifOp.getResult(k);
      auto ot = op.getType();
      if (r > 2) {
        SmallVector<OpFoldResult> outDims(lead);
        outDims.push_back(idx(ns[k]));
        SmallVector<int64_t> shape;
        for (OpFoldResult d : outDims)
          shape.push_back(getConstantIntValue(d).value_or(ShapedType::kDynamic));
        auto ty = RankedTensorType::get(shape, f32);
        if (llvm::count(shape, ShapedType::kDynamic) > 1) {
          // expand-strided-metadata (MLIR 22) crashes on an expand_shape
          // group with two dynamic dims: a reshape by a shape tensor.
          SmallVector<Value> ext;
          for (OpFoldResult d : outDims)
            ext.push_back(getValueOrCreateConstantIndexOp(b, loc, d));
          Value st = tensor::FromElementsOp::create(
              b, loc, RankedTensorType::get({r}, b.getIndexType()), ext);
          y = tensor::ReshapeOp::create(b, loc, ty, y, st);
        } else {
          y = tensor::ExpandShapeOp::create(
              b, loc, ty, y,
              ArrayRef<ReassociationIndices>{
                  llvm::to_vector(llvm::seq<int64_t>(0, r - 1)), {r - 1}},
              outDims);
        }
      }
      if (y.getType() != ot)
        y = tensor::CastOp::create(b, loc, ot, y);
      op.getResult().replaceAllUsesWith(y);
    }
    for (MatMulOp op : ops)
      op.erase();
  }
};

} // namespace
} // namespace mlir::qopt
