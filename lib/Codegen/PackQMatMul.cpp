//===- PackQMatMul.cpp - int8 weights into the microkernel layout ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.qmatmul(a, W constant, za, 0) -> linalg.generic {qopt.ukernel} over
// the packed weights [N/P, K/G, P, G] (P: the register tile's columns, or
// one vector's lanes L) and the weight column sums. The
// generic's body is the exact qmatmul arithmetic, so it stays a correct
// reference (plain loops) until qopt-lower-ukernels replaces it.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Support/DerivedConstant.h"
#include "qopt/Codegen/TargetDesc.h"
#include "GroupedInt4.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTPACKQMATMULPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct QOptPackQMatMulPass
    : qopt::impl::QOptPackQMatMulPassBase<QOptPackQMatMulPass> {
  using Base::Base;
  llvm::DenseMap<std::pair<Attribute, Type>, ElementsAttr> packedWeights;

  void runOnOperation() override {
    const TargetDesc *t = lookupTargetDesc(target);
    if (!t) {
      getOperation().emitError("unknown target '" + target + "' (expected " +
                               targetNames() + ")");
      return signalPassFailure();
    }
    if (!t->hasInt8Microkernel() && !t->hasInt4Microkernel())
      return; // the portable path
    SmallVector<QMatMulOp> ops;
    getOperation().walk([&](QMatMulOp op) { ops.push_back(op); });
    for (QMatMulOp op : ops)
      if (failed(packGroupedInt4(op, *t)) && t->hasInt8Microkernel())
        (void)pack(op, *t);
  }

  LogicalResult pack(QMatMulOp op, const TargetDesc &t) {
    auto lt = op.getLhs().getType(), rt = op.getRhs().getType();
    auto ot = op.getResult().getType();
    auto zat = cast<RankedTensorType>(op.getLhsZp().getType());
    if (!lt.hasStaticShape() || !ot.hasStaticShape() || rt.getRank() < 2 ||
        rt.getRank() > 3 || lt.getRank() < 2 ||
        !rt.getElementType().isInteger(8) ||
        !lt.getElementType().isInteger(8) || op.getRhsUnsigned() ||
        !ot.getElementType().isInteger(32))
      return failure();
    // Batched (the grouped int4 path: [B, M, K] x [B, K, N] constant, one
    // weight matrix per batch); otherwise the lhs batch dims fold into rows.
    bool batched = rt.getRank() == 3;
    int64_t B = batched ? rt.getDimSize(0) : 1;
    if (batched && (lt.getRank() != 3 || lt.getDimSize(0) != B))
      return failure();
    // Per-row activation zero points: along lhs dim -2.
    if (zat.getRank() != 0 && lt.getRank() != 2 && !batched)
      return failure();
    if (!isZeroIntConstant(op.getRhsZp()))
      return failure(); // asymmetric weights: portable path
    // A constant, or int4 values stored two per byte (qopt.unpack_int4 of
    // a constant: w4a8 without groups).
    Attribute wattr;
    Value src = op.getRhs();
    if (auto up = src.getDefiningOp<UnpackInt4Op>())
      src = up.getInput();
    if (!matchPattern(src, m_Constant(&wattr)))
      return failure();
    int64_t K = rt.getDimSize(rt.getRank() - 2), N = rt.getDimSize(rt.getRank() - 1);
    int64_t L = t.lanes(), G = t.kGroup;
    if (K % G || N % L || lt.getShape().back() != K)
      return failure();
    // Panel width P: the register tile's columns when N is a multiple of
    // them, so a tile's weight vectors for one K step are one contiguous
    // stream; otherwise one vector (smmla's tile reads its own block form).
    int64_t P = L;
    if (t.dot != Int8Dot::Smmla && N % (t.nrVectors * L) == 0)
      P = t.nrVectors * L;
    std::vector<int8_t> w = int8WeightValues(op.getRhs(), B * K * N);
    if (w.empty())
      return failure();
    auto at = [&](int64_t b, int64_t k, int64_t n) -> int8_t {
      return w[(b * K + k) * N + n];
    };
    // packed[b][n1][k1][l][g] = W[b][k1*G + g][n1*P + l];
    // colsum[b][n] = sum_k W[b][k][n]
    std::vector<int8_t> packed(B * K * N);
    std::vector<int32_t> colsum(B * N, 0);
    size_t i = 0;
    for (int64_t bi = 0; bi < B; ++bi)
      for (int64_t n1 = 0; n1 < N / P; ++n1)
        for (int64_t k1 = 0; k1 < K / G; ++k1)
          for (int64_t l = 0; l < P; ++l)
            for (int64_t g = 0; g < G; ++g)
              packed[i++] = at(bi, k1 * G + g, n1 * P + l);
    for (int64_t bi = 0; bi < B; ++bi)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          colsum[bi * N + n] += at(bi, k, n);

    OpBuilder b(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = b.getContext();
    SmallVector<int64_t> pshape = {N / P, K / G, P, G}, csShape = {N};
    if (batched) {
      pshape.insert(pshape.begin(), B);
      csShape.insert(csShape.begin(), B);
    }
    auto pty = RankedTensorType::get(pshape, b.getI8Type());
    // One packing per weight (qopt-specialize-dynamic-rows gives a weight
    // several static matmuls).
    ElementsAttr &pattr = packedWeights[{wattr, pty}];
    if (!pattr)
      pattr = derivedConstantAttr(pty, ArrayRef<int8_t>(packed), wattr,
                                  ".packed");
    Value wp = arith::ConstantOp::create(b, loc, cast<TypedAttr>(pattr));

    // Activations as [M, K] (batch dims folded into rows) or [B, M, K].
    Value a = op.getLhs();
    int64_t M = batched ? lt.getDimSize(1) : lt.getNumElements() / K;
    if (!batched && lt.getRank() > 2) {
      ReassociationIndices rows =
          llvm::to_vector(llvm::seq<int64_t>(0, lt.getRank() - 1));
      a = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({M, K}, lt.getElementType()), a,
          ArrayRef<ReassociationIndices>{rows, {lt.getRank() - 1}});
    }
    SmallVector<int64_t> oshape = {M, N};
    if (batched)
      oshape.insert(oshape.begin(), B);
    Type i32 = b.getI32Type();
    bool uns = op.getLhsUnsigned();
    // The dot reads activations as u8 (x86 vpdpbusd) or s8 (AArch64 sdot).
    // When the activations have the other signedness, flipping the top bit
    // shifts them by `shift` (+128: s8 -> u8, -128: u8 -> s8); the init
    // takes that shift times the weight column sums back out.
    bool dotU = t.dotTakesEitherSign() ? uns : t.dotUnsignedLhs;
    bool flip = uns != dotU;
    int32_t shift = dotU ? 128 : -128;
    auto ext = [&](OpBuilder &nb, Location l, Value x, bool u) -> Value {
      return u ? (Value)arith::ExtUIOp::create(nb, l, i32, x)
               : (Value)arith::ExtSIOp::create(nb, l, i32, x);
    };
    using IT = utils::IteratorType;
    // The accumulator starts at the zero-point compensation
    // -(za[m] + shift) * colsum[(b,) n] (an elementwise
    // generic: the microkernel loads it as its initial accumulators).
    Value cs = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get(csShape, i32),
                               ArrayRef<int32_t>(colsum)));
    int64_t nb0 = batched ? 1 : 0; // first non-batch loop
    int64_t R = 2 + nb0;
    AffineExpr em = b.getAffineDimExpr(nb0), en = b.getAffineDimExpr(nb0 + 1);
    SmallVector<AffineExpr> csEx = {en};
    if (batched)
      csEx.insert(csEx.begin(), b.getAffineDimExpr(0));
    SmallVector<AffineMap> cmaps = {
        zat.getRank() == 0 ? AffineMap::get(R, 0, {}, ctx)
                           : AffineMap::get(R, 0, {em}, ctx),
        AffineMap::get(R, 0, csEx, ctx), b.getMultiDimIdentityMap(R)};
    Value init =
        linalg::GenericOp::create(
            b, loc, TypeRange{RankedTensorType::get(oshape, i32)},
            ValueRange{op.getLhsZp(), cs},
            ValueRange{tensor::EmptyOp::create(b, loc, oshape, i32)}, cmaps,
            SmallVector<IT>(R, IT::parallel),
            [&](OpBuilder &nb, Location l, ValueRange v) {
              Value z = ext(nb, l, v[0], uns);
              if (flip)
                z = arith::AddIOp::create(
                    nb, l, z,
                    arith::ConstantOp::create(nb, l, i32,
                                              nb.getI32IntegerAttr(shift)));
              Value c = arith::MulIOp::create(nb, l, z, v[1]);
              Value zero = arith::ConstantOp::create(nb, l, i32,
                                                     nb.getI32IntegerAttr(0));
              linalg::YieldOp::create(
                  nb, l, ValueRange{arith::SubIOp::create(nb, l, zero, c)});
            })
            .getResult(0);
    // out[(b,) m, n] += dot-typed a[(b,) m, k] * w[(b,) k, n] over loops
    // ((b,) m, n1, l, k1, g).
    int64_t nl = 5 + nb0;
    AffineExpr m = b.getAffineDimExpr(nb0), n1 = b.getAffineDimExpr(nb0 + 1),
               l = b.getAffineDimExpr(nb0 + 2), k1 = b.getAffineDimExpr(nb0 + 3),
               g = b.getAffineDimExpr(nb0 + 4);
    auto map = [&](SmallVector<AffineExpr> e) {
      if (batched)
        e.insert(e.begin(), b.getAffineDimExpr(0));
      return AffineMap::get(nl, 0, e, ctx);
    };
    SmallVector<AffineMap> maps = {map({m, k1 * G + g}), map({n1, k1, l, g}),
                                   map({m, n1 * P + l})};
    SmallVector<IT> its = {IT::parallel, IT::parallel, IT::parallel,
                           IT::reduction, IT::reduction};
    if (batched)
      its.insert(its.begin(), IT::parallel);
    auto gen = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{a, wp}, ValueRange{init},
        maps, its, [&](OpBuilder &nb, Location l, ValueRange v) {
          Value x = v[0];
          if (flip) // s8 <-> u8 (+-128), compensated in the init
            x = arith::XOrIOp::create(
                nb, l, x,
                arith::ConstantOp::create(nb, l, nb.getI8Type(),
                                          nb.getI8IntegerAttr(-128)));
          Value p = arith::MulIOp::create(nb, l, ext(nb, l, x, dotU),
                                          ext(nb, l, v[1], false));
          linalg::YieldOp::create(nb, l,
                                  ValueRange{arith::AddIOp::create(nb, l, v[2], p)});
        });
    // Informational: qopt-lower-ukernels matches the structure, since
    // canonicalization may rebuild the op without discardable attributes.
    gen->setAttr("qopt.ukernel", b.getStringAttr("int8_dot"));
    Value y = gen.getResult(0);
    if (!batched && ot.getRank() != 2) {
      ReassociationIndices rows =
          llvm::to_vector(llvm::seq<int64_t>(0, ot.getRank() - 1));
      y = tensor::ExpandShapeOp::create(
          b, loc, ot, y,
          ArrayRef<ReassociationIndices>{rows, {ot.getRank() - 1}});
    }
    op.replaceAllUsesWith(y);
    op.erase();
    return success();
  }
};

} // namespace
