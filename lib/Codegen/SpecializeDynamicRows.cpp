//===- SpecializeDynamicRows.cpp - dynamic-M matmuls on static kernels -----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// A model compiled once for any sequence length has matmuls with `?` rows;
// the packed register-tiled kernels of qopt-tile-and-vectorize need static
// shapes. This pass gives them static shapes: M == 1 (decode) as its own
// [1, K] matmul, other M as full chunks of rows plus one zero-padded chunk.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSPECIALIZEDYNAMICROWSPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {

/// Whether a matmul accumulates into a zero fill.
static bool isZeroFilled(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

struct QOptSpecializeDynamicRowsPass
    : impl::QOptSpecializeDynamicRowsPassBase<QOptSpecializeDynamicRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> targets;
    getOperation().walk([&](linalg::MatmulOp op) {
      auto lt = dyn_cast<RankedTensorType>(op.getDpsInputs()[0].getType());
      auto rt = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
      auto ot = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (op.hasPureTensorSemantics() && lt && rt && ot &&
          lt.isDynamicDim(0) && !lt.isDynamicDim(1) && rt.hasStaticShape() &&
          ot.getElementType().isF32() && lt.getElementType().isF32() &&
          rt.getElementType().isF32() && isZeroFilled(op.getDpsInits()[0]) &&
          op.getIndexingMapsArray() ==
              linalg::MatmulOp::getDefaultIndexingMaps(op.getContext()))
        targets.push_back(op);
    });
    if (chunk < 1)
      return signalPassFailure();
    for (linalg::MatmulOp op : targets)
      rewrite(op);
  }

  /// A zero-filled static [m, N] matmul of `lhs` ([m, K]) and `rhs`.
  static Value staticMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                            int64_t m, int64_t n) {
    Type f32 = b.getF32Type();
    Value zero = arith::ConstantOp::create(b, loc, f32, b.getZeroAttr(f32));
    Value e = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, n}, f32);
    Value init =
        linalg::FillOp::create(b, loc, ValueRange{zero}, ValueRange{e})
            .getResult(0);
    return linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                    ValueRange{lhs, rhs}, ValueRange{init})
        .getResult(0);
  }

  void rewrite(linalg::MatmulOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
    auto lt = cast<RankedTensorType>(lhs.getType());
    auto ot = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t K = lt.getDimSize(1), N = ot.getDimSize(1), T = chunk;
    Type f32 = b.getF32Type();
    auto idx = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
    Value cT = arith::ConstantIndexOp::create(b, loc, T);
    Value M = tensor::DimOp::create(b, loc, lhs, c0);
    Value one = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, M, c1);
    auto dynTy = RankedTensorType::get({ShapedType::kDynamic, N}, f32);
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{dynTy}, one,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value row = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({1, K}, f32), lhs,
          ArrayRef<OpFoldResult>{idx(0), idx(0)},
          ArrayRef<OpFoldResult>{idx(1), idx(K)},
          ArrayRef<OpFoldResult>{idx(1), idx(1)});
      Value y = staticMatmul(b, loc, row, rhs, 1, N);
      scf::YieldOp::create(b, loc,
                           ValueRange{tensor::CastOp::create(b, loc, dynTy, y)});
    }
    b.setInsertionPointToStart(ifOp.elseBlock());
    Value full = arith::DivUIOp::create(b, loc, M, cT);
    Value out = tensor::EmptyOp::create(b, loc, ArrayRef<OpFoldResult>{M, idx(N)},
                                        f32);
    // Full chunks, in parallel.
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{full}, ValueRange{out}, std::nullopt,
        [&](OpBuilder &nb, Location nl, ValueRange ivs) {
          Value i = ivs[0], o = ivs[1];
          Value r0 = arith::MulIOp::create(nb, nl, i, cT);
          Value rows = tensor::ExtractSliceOp::create(
              nb, nl, RankedTensorType::get({T, K}, f32), lhs,
              ArrayRef<OpFoldResult>{r0, idx(0)},
              ArrayRef<OpFoldResult>{idx(T), idx(K)},
              ArrayRef<OpFoldResult>{idx(1), idx(1)});
          Value y = staticMatmul(nb, nl, rows, rhs, T, N);
          auto term = scf::InParallelOp::create(nb, nl);
          nb.setInsertionPointToStart(term.getBody());
          tensor::ParallelInsertSliceOp::create(
              nb, nl, y, o, ArrayRef<OpFoldResult>{r0, idx(0)},
              ArrayRef<OpFoldResult>{idx(T), idx(N)},
              ArrayRef<OpFoldResult>{idx(1), idx(1)});
        });
    Value done = forall.getResult(0);
    // The rest (< T rows), zero-padded to one chunk.
    Value r0 = arith::MulIOp::create(b, loc, full, cT);
    Value rem = arith::SubIOp::create(b, loc, M, r0);
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, rem, c0);
    auto tail = scf::IfOp::create(b, loc, TypeRange{dynTy}, any, true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(tail.thenBlock());
      auto remTy = RankedTensorType::get({ShapedType::kDynamic, K}, f32);
      Value rows = tensor::ExtractSliceOp::create(
          b, loc, remTy, lhs, ArrayRef<OpFoldResult>{r0, idx(0)},
          ArrayRef<OpFoldResult>{rem, idx(K)},
          ArrayRef<OpFoldResult>{idx(1), idx(1)});
      Value padRows = arith::SubIOp::create(b, loc, cT, rem);
      Value zero = arith::ConstantOp::create(b, loc, f32, b.getZeroAttr(f32));
      Value padded = tensor::PadOp::create(
          b, loc, RankedTensorType::get({T, K}, f32), rows,
          ArrayRef<OpFoldResult>{idx(0), idx(0)},
          ArrayRef<OpFoldResult>{padRows, idx(0)}, zero);
      Value y = staticMatmul(b, loc, padded, rhs, T, N);
      Value valid = tensor::ExtractSliceOp::create(
          b, loc, dynTy, y, ArrayRef<OpFoldResult>{idx(0), idx(0)},
          ArrayRef<OpFoldResult>{rem, idx(N)},
          ArrayRef<OpFoldResult>{idx(1), idx(1)});
      Value ins = tensor::InsertSliceOp::create(
          b, loc, valid, done, ArrayRef<OpFoldResult>{r0, idx(0)},
          ArrayRef<OpFoldResult>{rem, idx(N)},
          ArrayRef<OpFoldResult>{idx(1), idx(1)});
      scf::YieldOp::create(b, loc, ValueRange{ins});
    }
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(tail.elseBlock());
      scf::YieldOp::create(b, loc, ValueRange{done});
    }
    scf::YieldOp::create(b, loc, tail.getResults());
    b.setInsertionPointAfter(ifOp);
    Value res = ifOp.getResult(0);
    if (res.getType() != ot)
      res = tensor::CastOp::create(b, loc, ot, res);
    op->getResult(0).replaceAllUsesWith(res);
    op->erase();
  }
};

} // namespace
} // namespace mlir::qopt
