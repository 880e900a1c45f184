//===- PackQMatMul.cpp - int8 weights into the microkernel layout ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.qmatmul(a, W constant, za, 0) -> linalg.generic {qopt.ukernel} over
// the packed weights [N/L, K/G, L, G] and the weight column sums. The
// generic's body is the exact qmatmul arithmetic, so it stays a correct
// reference (plain loops) until qopt-lower-ukernels replaces it.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Codegen/TargetDesc.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTPACKQMATMULPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The raw bytes of an i8 constant (dense or dense_resource), or empty.
/// A splat comes back as a single byte with `splat` set.
ArrayRef<char> rawBytes(Attribute attr, bool &splat) {
  splat = false;
  if (auto d = dyn_cast<DenseIntElementsAttr>(attr)) {
    splat = d.isSplat();
    return d.getRawData();
  }
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob())
      return blob->getData();
  return {};
}

bool isZeroConstant(Value v) {
  Attribute a;
  if (!matchPattern(v, m_Constant(&a)))
    return false;
  auto d = dyn_cast<DenseIntElementsAttr>(a);
  return d && llvm::all_of(d.getValues<APInt>(),
                           [](const APInt &x) { return x.isZero(); });
}

struct QOptPackQMatMulPass
    : qopt::impl::QOptPackQMatMulPassBase<QOptPackQMatMulPass> {
  using Base::Base;

  void runOnOperation() override {
    const TargetDesc *t = lookupTargetDesc(target);
    if (!t) {
      getOperation().emitError("unknown target '" + target + "' (expected " +
                               targetNames() + ")");
      return signalPassFailure();
    }
    if (!t->hasInt8Microkernel())
      return; // the portable path
    SmallVector<QMatMulOp> ops;
    getOperation().walk([&](QMatMulOp op) { ops.push_back(op); });
    for (QMatMulOp op : ops)
      (void)pack(op, *t);
  }

  LogicalResult pack(QMatMulOp op, const TargetDesc &t) {
    auto lt = op.getLhs().getType(), rt = op.getRhs().getType();
    auto ot = op.getResult().getType();
    auto zat = cast<RankedTensorType>(op.getLhsZp().getType());
    if (!lt.hasStaticShape() || !ot.hasStaticShape() || rt.getRank() != 2 ||
        lt.getRank() < 2 || !rt.getElementType().isInteger(8) ||
        !lt.getElementType().isInteger(8) || op.getRhsUnsigned() ||
        !ot.getElementType().isInteger(32))
      return failure();
    // Per-row activation zero points only for 2-D activations (the batch
    // dims are folded into rows otherwise).
    if (zat.getRank() != 0 && lt.getRank() != 2)
      return failure();
    if (!isZeroConstant(op.getRhsZp()))
      return failure(); // asymmetric weights: portable path
    Attribute wattr;
    if (!matchPattern(op.getRhs(), m_Constant(&wattr)))
      return failure();
    int64_t K = rt.getDimSize(0), N = rt.getDimSize(1);
    int64_t L = t.lanes(), G = t.kGroup;
    if (K % G || N % L || lt.getShape().back() != K)
      return failure();
    bool splat;
    ArrayRef<char> w = rawBytes(wattr, splat);
    if (w.empty() || (!splat && (int64_t)w.size() != K * N))
      return failure();
    auto at = [&](int64_t k, int64_t n) -> int8_t {
      return splat ? w[0] : w[k * N + n];
    };
    // packed[n1][k1][l][g] = W[k1*G + g][n1*L + l]; colsum[n] = sum_k W[k][n]
    std::vector<int8_t> packed(K * N);
    std::vector<int32_t> colsum(N, 0);
    size_t i = 0;
    for (int64_t n1 = 0; n1 < N / L; ++n1)
      for (int64_t k1 = 0; k1 < K / G; ++k1)
        for (int64_t l = 0; l < L; ++l)
          for (int64_t g = 0; g < G; ++g)
            packed[i++] = at(k1 * G + g, n1 * L + l);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n)
        colsum[n] += at(k, n);

    OpBuilder b(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = b.getContext();
    auto pty = RankedTensorType::get({N / L, K / G, L, G}, b.getI8Type());
    ElementsAttr pattr;
    if (auto r = dyn_cast<DenseResourceElementsAttr>(wattr))
      pattr = DenseResourceElementsAttr::get(
          pty, (r.getRawHandle().getKey() + ".packed").str(),
          HeapAsmResourceBlob::allocateAndCopyInferAlign(
              ArrayRef<int8_t>(packed)));
    else
      pattr = DenseElementsAttr::get(pty, ArrayRef<int8_t>(packed));
    Value wp = arith::ConstantOp::create(b, loc, cast<TypedAttr>(pattr));

    // Activations as [M, K] (batch dims folded into rows).
    Value a = op.getLhs();
    int64_t M = lt.getNumElements() / K;
    if (lt.getRank() > 2) {
      ReassociationIndices rows =
          llvm::to_vector(llvm::seq<int64_t>(0, lt.getRank() - 1));
      a = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({M, K}, lt.getElementType()), a,
          ArrayRef<ReassociationIndices>{rows, {lt.getRank() - 1}});
    }
    Type i32 = b.getI32Type();
    bool uns = op.getLhsUnsigned();
    auto ext = [&](OpBuilder &nb, Location l, Value x, bool u) -> Value {
      return u ? (Value)arith::ExtUIOp::create(nb, l, i32, x)
               : (Value)arith::ExtSIOp::create(nb, l, i32, x);
    };
    using IT = utils::IteratorType;
    // The accumulator starts at the zero-point compensation
    // -(za[m] (+128 for s8 activations)) * colsum[n] (an elementwise generic:
    // the microkernel loads it as its initial accumulators).
    Value cs = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({N}, i32),
                               ArrayRef<int32_t>(colsum)));
    AffineExpr e0 = b.getAffineDimExpr(0), e1 = b.getAffineDimExpr(1);
    SmallVector<AffineMap> cmaps = {
        zat.getRank() == 0 ? AffineMap::get(2, 0, {}, ctx)
                           : AffineMap::get(2, 0, {e0}, ctx),
        AffineMap::get(2, 0, {e1}, ctx), b.getMultiDimIdentityMap(2)};
    Value init =
        linalg::GenericOp::create(
            b, loc, TypeRange{RankedTensorType::get({M, N}, i32)},
            ValueRange{op.getLhsZp(), cs},
            ValueRange{tensor::EmptyOp::create(b, loc, {M, N}, i32)}, cmaps,
            {IT::parallel, IT::parallel},
            [&](OpBuilder &nb, Location l, ValueRange v) {
              Value z = ext(nb, l, v[0], uns);
              if (!uns)
                z = arith::AddIOp::create(
                    nb, l, z,
                    arith::ConstantOp::create(nb, l, i32,
                                              nb.getI32IntegerAttr(128)));
              Value c = arith::MulIOp::create(nb, l, z, v[1]);
              Value zero = arith::ConstantOp::create(nb, l, i32,
                                                     nb.getI32IntegerAttr(0));
              linalg::YieldOp::create(
                  nb, l, ValueRange{arith::SubIOp::create(nb, l, zero, c)});
            })
            .getResult(0);
    // out[m, n] += u8(a[m, k]) * w[k, n] over loops (m, n1, l, k1, g).
    AffineExpr m = b.getAffineDimExpr(0), n1 = b.getAffineDimExpr(1),
               l = b.getAffineDimExpr(2), k1 = b.getAffineDimExpr(3),
               g = b.getAffineDimExpr(4);
    auto map = [&](ArrayRef<AffineExpr> e) {
      return AffineMap::get(5, 0, e, ctx);
    };
    SmallVector<AffineMap> maps = {map({m, k1 * G + g}), map({n1, k1, l, g}),
                                   map({m, n1 * L + l})};
    SmallVector<IT> its = {IT::parallel, IT::parallel, IT::parallel,
                           IT::reduction, IT::reduction};
    auto gen = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{a, wp}, ValueRange{init},
        maps, its, [&](OpBuilder &nb, Location l, ValueRange v) {
          Value x = v[0];
          if (!uns) // s8 -> u8 (+128), compensated in the init
            x = arith::XOrIOp::create(
                nb, l, x,
                arith::ConstantOp::create(nb, l, nb.getI8Type(),
                                          nb.getI8IntegerAttr(-128)));
          Value p = arith::MulIOp::create(nb, l, ext(nb, l, x, true),
                                          ext(nb, l, v[1], false));
          linalg::YieldOp::create(nb, l,
                                  ValueRange{arith::AddIOp::create(nb, l, v[2], p)});
        });
    // Informational: qopt-lower-ukernels matches the structure, since
    // canonicalization may rebuild the op without discardable attributes.
    gen->setAttr("qopt.ukernel", b.getStringAttr("int8_dot"));
    Value y = gen.getResult(0);
    if (ot.getRank() != 2) {
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
