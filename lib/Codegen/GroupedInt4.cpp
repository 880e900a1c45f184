//===- GroupedInt4.cpp - the grouped int4 (w4a8) microkernel --------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// See GroupedInt4.h. Pack layout (L i32 lanes, K/8 blocks of 8 K):
//
//   wp[n1][kb][4l + q] = (W[8kb + q][n1 L + l] + 8)
//                      | (W[8kb + 4 + q][n1 L + l] + 8) << 4
//
// i.e. one L*4-byte vector is two 4-byte K-quads of L columns (the
// operand layout of x86 vpdpbusd and AArch64 sdot alike): the low nibbles
// the first, the high nibbles the second, both biased by +8 (so the unpack
// is `b & 15` / `b >> 4` then `- 8`, no sign extension). The dot
// instruction, the lanes L and the register budget come from the target
// description (TargetDesc::int4DotIntrinsic, vectorBits, vectorRegs).
// cs[n1][g][l] = sum over group g's K of W[k][n1 L + l] (the compensation)
// and the group scales sw[n1][g][l] = sw[g][n1 L + l] are stored per
// column panel, so a tile reads them sequentially along with its weights
// (as [G, N] each group's values were a new cache line 4N bytes away).
//
//===----------------------------------------------------------------------===//
#include "GroupedInt4.h"

#include "qopt/Support/DerivedConstant.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

using IT = utils::IteratorType;

} // namespace

bool mlir::qopt::isZeroIntConstant(Value v) {
  Attribute a;
  if (!matchPattern(v, m_Constant(&a)))
    return false;
  auto d = dyn_cast<DenseIntElementsAttr>(a);
  return d && llvm::all_of(d.getValues<APInt>(),
                           [](const APInt &x) { return x.isZero(); });
}

std::vector<int8_t> mlir::qopt::int8WeightValues(Value rhs, int64_t n) {
  std::vector<int8_t> w;
  Attribute attr;
  bool splat;
  Type i8 = IntegerType::get(rhs.getContext(), 8);
  if (auto up = rhs.getDefiningOp<UnpackInt4Op>()) {
    if (!matchPattern(up.getInput(), m_Constant(&attr)))
      return w;
    ArrayRef<char> p = rawConstantBytes(attr, i8, splat);
    if (p.empty() || (!splat && (int64_t)p.size() != (n + 1) / 2))
      return w;
    w.resize(n);
    for (int64_t e = 0; e < n; ++e) {
      // The nibble as 0..15, then sign-extended (no shifts of negative
      // values: UB before C++20).
      uint8_t byte = (uint8_t)p[splat ? 0 : e / 2];
      int nibble = e % 2 ? byte >> 4 : byte & 15;
      w[e] = (int8_t)(nibble >= 8 ? nibble - 16 : nibble);
    }
    return w;
  }
  if (!matchPattern(rhs, m_Constant(&attr)))
    return w;
  ArrayRef<char> p = rawConstantBytes(attr, i8, splat);
  if (p.empty() || (!splat && (int64_t)p.size() != n))
    return w;
  w.resize(n);
  for (int64_t e = 0; e < n; ++e)
    w[e] = p[splat ? 0 : e];
  return w;
}

namespace {

/// The epilogue of qopt-quantize-dynamic on `acc`:
///   y[m, n] = init + sum_g (f32(acc[g, m, n]) * sx[m or -]) * sw[g, n].
linalg::GenericOp matchEpilogue(Value acc, int64_t M, int64_t N, int64_t G) {
  if (!acc.hasOneUse())
    return {};
  auto e = dyn_cast<linalg::GenericOp>(*acc.getUsers().begin());
  if (!e || e.getNumDpsInputs() != 3 || e.getNumDpsInits() != 1 ||
      e.getDpsInputs()[0] != acc || e.getNumLoops() != 3 ||
      e.getIteratorTypesArray() !=
          SmallVector<IT>{IT::parallel, IT::parallel, IT::reduction})
    return {};
  MLIRContext *ctx = e.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  auto sxt = dyn_cast<RankedTensorType>(e.getDpsInputs()[1].getType());
  auto swt = dyn_cast<RankedTensorType>(e.getDpsInputs()[2].getType());
  auto yt = dyn_cast<RankedTensorType>(e.getDpsInits()[0].getType());
  if (!sxt || !swt || !yt || !sxt.getElementType().isF32() ||
      !(sxt.getRank() == 0 ||
        (sxt.getRank() == 1 && sxt.getDimSize(0) == M)) ||
      swt.getShape() != ArrayRef<int64_t>{G, N} ||
      !swt.getElementType().isF32() ||
      yt.getShape() != ArrayRef<int64_t>{M, N} || !yt.getElementType().isF32())
    return {};
  SmallVector<AffineMap> want = {
      AffineMap::get(3, 0, {d2, d0, d1}, ctx),
      sxt.getRank() ? AffineMap::get(3, 0, {d0}, ctx) : AffineMap::get(3, 0, {}, ctx),
      AffineMap::get(3, 0, {d2, d1}, ctx), AffineMap::get(3, 0, {d0, d1}, ctx)};
  if (e.getIndexingMapsArray() != want)
    return {};
  Block *bb = e.getBody();
  if (bb->getOperations().size() != 5)
    return {};
  auto add = cast<linalg::YieldOp>(bb->getTerminator())
                 .getValues()[0]
                 .getDefiningOp<arith::AddFOp>();
  auto m2 = add ? add.getRhs().getDefiningOp<arith::MulFOp>() : nullptr;
  auto m1 = m2 ? m2.getLhs().getDefiningOp<arith::MulFOp>() : nullptr;
  auto cv = m1 ? m1.getLhs().getDefiningOp<arith::SIToFPOp>() : nullptr;
  if (!cv || add.getLhs() != bb->getArgument(3) ||
      m2.getRhs() != bb->getArgument(2) || m1.getRhs() != bb->getArgument(1) ||
      cv.getIn() != bb->getArgument(0))
    return {};
  return e;
}

Value i32c(OpBuilder &b, Location l, int32_t v) {
  return arith::ConstantOp::create(b, l, b.getI32Type(),
                                   b.getI32IntegerAttr(v));
}

} // namespace

LogicalResult mlir::qopt::packGroupedInt4(QMatMulOp op, const TargetDesc &t) {
  if (!t.hasInt4Microkernel())
    return failure();
  auto lt = op.getLhs().getType(), rt = op.getRhs().getType();
  auto ot = op.getResult().getType();
  auto zat = cast<RankedTensorType>(op.getLhsZp().getType());
  if (lt.getRank() != 3 || rt.getRank() != 3 || !lt.hasStaticShape() ||
      !rt.hasStaticShape() || !lt.getElementType().isInteger(8) ||
      !rt.getElementType().isInteger(8) || op.getRhsUnsigned() ||
      !isZeroIntConstant(op.getRhsZp()))
    return failure();
  int64_t G = rt.getDimSize(0), gs = rt.getDimSize(1), N = rt.getDimSize(2);
  int64_t M = lt.getDimSize(1), K = G * gs, L = t.lanes();
  if (lt.getDimSize(0) != G || lt.getDimSize(2) != gs || gs % 8 || N % L ||
      !(zat.getRank() == 0 || (zat.getRank() == 1 && zat.getDimSize(0) == M)) ||
      ot.getShape() != ArrayRef<int64_t>{G, M, N})
    return failure();
  // lhs = transpose(expand(x [M, K]) [M, G, gs], [1, 0, 2])
  auto tr = op.getLhs().getDefiningOp<linalg::TransposeOp>();
  if (!tr || tr.getPermutation() != ArrayRef<int64_t>{1, 0, 2})
    return failure();
  auto ex = tr.getInput().getDefiningOp<tensor::ExpandShapeOp>();
  if (!ex || ex.getSrcType().getShape() != ArrayRef<int64_t>{M, K})
    return failure();
  Value x = ex.getSrc();
  linalg::GenericOp epi = matchEpilogue(op.getResult(), M, N, G);
  if (!epi)
    return failure();
  std::vector<int8_t> W = int8WeightValues(op.getRhs(), K * N);
  if (W.empty())
    return failure();
  // Symmetric int4 weights are in [-8, 7]: nibble = w + 8. Asymmetric ones
  // arrive with their zero points folded in (q - zp in [-15, 15], per group
  // and column a range of at most 15): nibble = w + off[g][n] with
  // off = -min over the group's column, unpacked as nibble - off.
  bool sym = llvm::all_of(W, [](int8_t v) { return v >= -8 && v <= 7; });
  std::vector<int8_t> off;
  if (!sym) {
    off.assign(G * N, 0);
    for (int64_t g = 0; g < G; ++g)
      for (int64_t n = 0; n < N; ++n) {
        int lo = 127, hi = -128;
        for (int64_t k = g * gs; k < (g + 1) * gs; ++k) {
          lo = std::min<int>(lo, W[k * N + n]);
          hi = std::max<int>(hi, W[k * N + n]);
        }
        if (hi - lo > 15 || lo < -15 || hi > 15)
          return failure();
        off[g * N + n] = (int8_t)-lo;
      }
    // A splat offset would be folded into the dot's body by the linalg
    // patterns, hiding it from qopt-lower-ukernels.
    if (llvm::all_equal(off))
      return failure();
  }
  Attribute swAttr;
  bool swSplat;
  if (!matchPattern(epi.getDpsInputs()[2], m_Constant(&swAttr)))
    return failure();
  ArrayRef<char> swBytes =
      rawConstantBytes(swAttr, Float32Type::get(op.getContext()), swSplat);
  if (swBytes.empty() ||
      (!swSplat && (int64_t)swBytes.size() != G * N * (int64_t)sizeof(float)))
    return failure();
  Attribute like;
  Value src = op.getRhs();
  if (auto up = src.getDefiningOp<UnpackInt4Op>())
    src = up.getInput();
  (void)matchPattern(src, m_Constant(&like));

  std::vector<int8_t> packed(K * N / 2);
  std::vector<int32_t> cs(G * N, 0);
  size_t i = 0;
  auto nib = [&](int64_t k, int64_t n) {
    return (uint8_t)((W[k * N + n] + (sym ? 8 : off[(k / gs) * N + n])) & 15);
  };
  for (int64_t n1 = 0; n1 < N / L; ++n1)
    for (int64_t kb = 0; kb < K / 8; ++kb)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t q = 0; q < 4; ++q) {
          int64_t n = n1 * L + l;
          packed[i++] =
              (int8_t)(nib(8 * kb + q, n) | nib(8 * kb + 4 + q, n) << 4);
        }
  // Panel order: [N/L][G][L].
  auto panel = [&](int64_t g, int64_t n) { return ((n / L) * G + g) * L + n % L; };
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      cs[panel(k / gs, n)] += W[k * N + n];
  std::vector<float> swp(G * N);
  for (int64_t g = 0; g < G; ++g)
    for (int64_t n = 0; n < N; ++n)
      memcpy(&swp[panel(g, n)],
             swBytes.data() + (swSplat ? 0 : (g * N + n) * sizeof(float)),
             sizeof(float));

  OpBuilder b(epi);
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  auto pty = RankedTensorType::get({N / L, G, gs / 8, L, 4}, i8);
  Value wp = arith::ConstantOp::create(
      b, loc,
      cast<TypedAttr>(derivedConstantAttr(pty, ArrayRef<int8_t>(packed), like,
                                          ".int4vnni")));
  auto panelTy = [&](Type e) { return RankedTensorType::get({N / L, G, L}, e); };
  Value csv = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(panelTy(i32), ArrayRef<int32_t>(cs)));
  Value swv = arith::ConstantOp::create(
      b, loc,
      cast<TypedAttr>(derivedConstantAttr(panelTy(f32), ArrayRef<float>(swp),
                                          swAttr, ".panels")));
  // The dot reads activations as u8 (x86 vpdpbusd) or s8 (AArch64 sdot);
  // activations of the other signedness are flipped (xor 0x80: +shift) and
  // the compensation takes shift * cs back out.
  bool uns = op.getLhsUnsigned(), dotU = t.dotUnsignedLhs, flip = uns != dotU;
  int32_t shift = dotU ? 128 : -128;

  // The reference int4 dot: acc[g, m, n1 L + l] = sum over (k2, h, q) of
  // dot-typed x[m, g gs + 8 k2 + 4 h + q] * (nibble h of wp[n1, g gs/8 + k2,
  // 4l + q] - 8 (asymmetric: - off[n1, g, l])), loops (g, m, n1, l, k2, h,
  // q).
  SmallVector<AffineExpr> d;
  for (unsigned j = 0; j < 7; ++j)
    d.push_back(b.getAffineDimExpr(j));
  // (x as [M, G, gs/8, 2, 4], wp as [N/L, G, gs/8, L, 4]: every loop is a
  // plain dim of an operand, as linalg's shape inference needs.)
  SmallVector<AffineMap> dmaps = {
      AffineMap::get(7, 0, {d[1], d[0], d[4], d[5], d[6]}, ctx),
      AffineMap::get(7, 0, {d[2], d[0], d[4], d[3], d[6]}, ctx),
      AffineMap::get(7, 0, {d[0], d[1], d[2] * L + d[3]}, ctx)};
  SmallVector<Value> dins = {nullptr, wp};
  if (!sym) {
    std::vector<int8_t> offp(G * N);
    for (int64_t g = 0; g < G; ++g)
      for (int64_t n = 0; n < N; ++n)
        offp[((n / L) * G + g) * L + n % L] = off[g * N + n];
    dins.push_back(arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({N / L, G, L}, i8),
                               ArrayRef<int8_t>(offp))));
    dmaps.insert(dmaps.begin() + 2,
                 AffineMap::get(7, 0, {d[2], d[0], d[3]}, ctx));
  }
  Value x5 = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({M, G, gs / 8, 2, 4}, i8), x,
      ArrayRef<ReassociationIndices>{{0}, {1, 2, 3, 4}});
  dins[0] = x5;
  SmallVector<IT> dits = {IT::parallel,  IT::parallel,  IT::parallel,
                          IT::parallel,  IT::reduction, IT::reduction,
                          IT::reduction};
  Value accInit = tensor::EmptyOp::create(b, loc, {G, M, N}, i32);
  accInit = linalg::FillOp::create(b, loc, ValueRange{i32c(b, loc, 0)},
                                   ValueRange{accInit})
                .getResult(0);
  auto dot = linalg::GenericOp::create(
      b, loc, TypeRange{accInit.getType()}, dins,
      ValueRange{accInit}, dmaps, dits,
      [&](OpBuilder &nb, Location l, ValueRange v) {
        auto c8 = [&](int8_t c) {
          return arith::ConstantOp::create(nb, l, i8, nb.getI8IntegerAttr(c));
        };
        Value h = linalg::IndexOp::create(nb, l, 5);
        Value isHi = arith::CmpIOp::create(
            nb, l, arith::CmpIPredicate::ne, h,
            arith::ConstantIndexOp::create(nb, l, 0));
        Value lo = arith::AndIOp::create(nb, l, v[1], c8(15));
        Value hi = arith::ShRUIOp::create(nb, l, v[1], c8(4));
        Value w = arith::SubIOp::create(
            nb, l, arith::SelectOp::create(nb, l, isHi, hi, lo),
            sym ? (Value)c8(8) : v[2]);
        Value xa = v[0];
        if (flip) // s8 <-> u8 (+-128), taken back out in the epilogue
          xa = arith::XOrIOp::create(nb, l, xa, c8(-128));
        Value xe = dotU ? (Value)arith::ExtUIOp::create(nb, l, i32, xa)
                        : (Value)arith::ExtSIOp::create(nb, l, i32, xa);
        Value p = arith::MulIOp::create(nb, l, xe,
                                        arith::ExtSIOp::create(nb, l, i32, w));
        linalg::YieldOp::create(nb, l,
                                ValueRange{arith::AddIOp::create(nb, l, v.back(), p)});
      });
  dot->setAttr("qopt.ukernel", b.getStringAttr("int4_grouped_dot"));

  // The epilogue with the compensation: c = acc - (ext(za) (+shift)) * cs,
  // y = init + sum_g (f32(c) * sx) * sw, g in order (qmatmul's i32 result
  // and the original epilogue's f32 operations, unchanged).
  // A constant zero point (symmetric activations) is folded now: the
  // epilogue adds comp[g][n] = -(za (+shift)) * cs[g][n] (a constant operand
  // would be folded into the body by the linalg patterns, hiding it from
  // qopt-lower-ukernels).
  AffineExpr e0 = d[0], e1 = d[1], e2 = d[2];
  Attribute zattr;
  auto zconst = dyn_cast_or_null<DenseIntElementsAttr>(
      matchPattern(op.getLhsZp(), m_Constant(&zattr)) ? zattr : Attribute());
  bool constZa = zat.getRank() == 0 && zconst;
  // cs / comp / sw as panels [N/L, G, L]: (n floordiv L, g, n mod L).
  AffineMap pmap =
      AffineMap::get(3, 0, {e1.floorDiv(L), e2, e1 % L}, ctx);
  SmallVector<Value> ins = {dot.getResult(0)};
  SmallVector<AffineMap> emaps = {AffineMap::get(3, 0, {e2, e0, e1}, ctx)};
  if (constZa) {
    APInt zv = *zconst.getValues<APInt>().begin();
    int64_t z = (uns ? zv.getZExtValue() : zv.getSExtValue()) + (flip ? shift : 0);
    std::vector<int32_t> comp(cs.size());
    for (size_t j = 0; j < cs.size(); ++j)
      comp[j] = (int32_t)(uint32_t)(-(uint64_t)z * (uint64_t)(int64_t)cs[j]);
    ins.push_back(arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(panelTy(i32), ArrayRef<int32_t>(comp))));
    emaps.push_back(pmap);
  } else {
    ins.append({op.getLhsZp(), csv});
    emaps.push_back(zat.getRank() ? AffineMap::get(3, 0, {e0}, ctx)
                                  : AffineMap::get(3, 0, {}, ctx));
    emaps.push_back(pmap);
  }
  ins.append({epi.getDpsInputs()[1], swv});
  emaps.append({epi.getIndexingMapsArray()[1], pmap,
                AffineMap::get(3, 0, {e0, e1}, ctx)});
  auto fused = linalg::GenericOp::create(
      b, loc, TypeRange{epi.getResultTypes()}, ins,
      ValueRange{epi.getDpsInits()[0]}, emaps,
      SmallVector<IT>{IT::parallel, IT::parallel, IT::reduction},
      [&](OpBuilder &nb, Location l, ValueRange v) {
        Value c;
        if (constZa) {
          c = arith::AddIOp::create(nb, l, v[0], v[1]);
          v = v.drop_front(2);
        } else {
          Value z = uns ? (Value)arith::ExtUIOp::create(nb, l, i32, v[1])
                        : (Value)arith::ExtSIOp::create(nb, l, i32, v[1]);
          if (flip)
            z = arith::AddIOp::create(nb, l, z, i32c(nb, l, shift));
          c = arith::SubIOp::create(nb, l, v[0],
                                    arith::MulIOp::create(nb, l, z, v[2]));
          v = v.drop_front(3);
        }
        Value f = arith::SIToFPOp::create(nb, l, f32, c);
        f = arith::MulFOp::create(nb, l, f, v[0]);
        f = arith::MulFOp::create(nb, l, f, v[1]);
        linalg::YieldOp::create(nb, l,
                                ValueRange{arith::AddFOp::create(nb, l, v[2], f)});
      });
  fused->setAttr("qopt.ukernel", b.getStringAttr("int4_grouped_epilogue"));
  epi.getResult(0).replaceAllUsesWith(fused.getResult(0));
  epi.erase();
  op.erase();
  return success();
}

//===----------------------------------------------------------------------===//
// The kernel (buffers)
//===----------------------------------------------------------------------===//

namespace {

struct Int4Kernel {
  const TargetDesc &t;
  Value a, wp, za, cs, sx, sw, y;
  int64_t M, N, G, gs;
  bool flip, zaUns;
  /// Asymmetric weights: the per-group column offsets [N/L, G, L] i8
  /// subtracted from the nibbles (null: the constant 8).
  Value off = nullptr;

  Value idx(OpBuilder &b, Location l, int64_t v) const {
    return arith::ConstantIndexOp::create(b, l, v);
  }
  Value plus(OpBuilder &b, Location l, Value v, int64_t c) const {
    return c ? arith::AddIOp::create(b, l, v, idx(b, l, c)).getResult() : v;
  }
  Value scalarAt(OpBuilder &b, Location l, Value buf, Value m) const {
    if (cast<MemRefType>(buf.getType()).getRank() == 0)
      return memref::LoadOp::create(b, l, buf, ValueRange{});
    return memref::LoadOp::create(b, l, buf, ValueRange{m});
  }

  /// One rows x (vecs * L) tile at (m0, n0): y (f32) and one group's i32
  /// sums in registers; per group the sums start at the compensation
  /// -(za (+shift)) * cs[g] (or cs[g] itself, the constant compensation,
  /// without za), take gs/4 dot instructions per accumulator, then
  /// y += (f32(sum) * sx) * sw[g].
  void tile(OpBuilder &b, Location loc, Value m0, Value n0, int64_t rows,
            int64_t vecs) const {
    int64_t L = t.lanes();
    Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
    auto accTy = VectorType::get({L}, i32), fTy = VectorType::get({L}, f32);
    auto bytesTy = VectorType::get({4 * L}, i8);
    SmallVector<Value> nz, sxv, ys;
    for (int64_t r = 0; r < rows; ++r) {
      Value m = plus(b, loc, m0, r);
      if (za) {
        Value zv = scalarAt(b, loc, za, m);
        Value z = zaUns ? (Value)arith::ExtUIOp::create(b, loc, i32, zv)
                        : (Value)arith::ExtSIOp::create(b, loc, i32, zv);
        if (flip)
          z = arith::AddIOp::create(b, loc, z,
                                    i32c(b, loc, t.dotUnsignedLhs ? 128 : -128));
        z = arith::SubIOp::create(b, loc, i32c(b, loc, 0), z);
        nz.push_back(vector::BroadcastOp::create(b, loc, accTy, z));
      }
      sxv.push_back(
          vector::BroadcastOp::create(b, loc, fTy, scalarAt(b, loc, sx, m)));
      for (int64_t v = 0; v < vecs; ++v)
        ys.push_back(vector::LoadOp::create(b, loc, fTy, y,
                                            ValueRange{m, plus(b, loc, n0, v * L)}));
    }
    Value nb0 = arith::DivUIOp::create(b, loc, n0, idx(b, loc, L));
    auto splat8 = [&](OpBuilder &nb, Location l, int8_t c) {
      return arith::ConstantOp::create(
          nb, l, bytesTy, DenseElementsAttr::get(bytesTy, nb.getI8IntegerAttr(c)));
    };
    auto gl = scf::ForOp::create(
        b, loc, idx(b, loc, 0), idx(b, loc, G), idx(b, loc, 1), ys,
        [&](OpBuilder &nb, Location l, Value g, ValueRange yit) {
          SmallVector<Value> csv, acc;
          for (int64_t v = 0; v < vecs; ++v)
            csv.push_back(vector::LoadOp::create(
                nb, l, accTy, cs, ValueRange{plus(nb, l, nb0, v), g, idx(nb, l, 0)}));
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < vecs; ++v)
              acc.push_back(za ? arith::MulIOp::create(nb, l, nz[r], csv[v])
                               : csv[v]);
          Value kb0 = arith::MulIOp::create(nb, l, g, idx(nb, l, gs / 8));
          Value c15 = splat8(nb, l, 15), c8 = splat8(nb, l, 8),
                c4 = splat8(nb, l, 4);
          // Per column vector: its group's offsets, each byte 4 times
          // (zext to i32 lanes, times 0x01010101).
          SmallVector<Value> offv(vecs, c8);
          if (off) {
            auto rep4 = arith::ConstantOp::create(
                nb, l, accTy,
                DenseElementsAttr::get(accTy,
                                       nb.getI32IntegerAttr(0x01010101)));
            for (int64_t v = 0; v < vecs; ++v) {
              Value o = vector::LoadOp::create(
                  nb, l, VectorType::get({L}, i8), off,
                  ValueRange{plus(nb, l, nb0, v), g, idx(nb, l, 0)});
              offv[v] = vector::BitCastOp::create(
                  nb, l, bytesTy,
                  arith::MulIOp::create(
                      nb, l, arith::ExtUIOp::create(nb, l, accTy, o), rep4));
            }
          }
          auto kl = scf::ForOp::create(
              nb, l, idx(nb, l, 0), idx(nb, l, gs / 8), idx(nb, l, 1), acc,
              [&](OpBuilder &ib, Location il, Value k2, ValueRange it) {
                Value kb = arith::AddIOp::create(ib, il, kb0, k2);
                SmallVector<Value> half[2];
                for (int64_t v = 0; v < vecs; ++v) {
                  Value w = vector::LoadOp::create(
                      ib, il, bytesTy, wp,
                      ValueRange{plus(ib, il, nb0, v), kb, idx(ib, il, 0)});
                  half[0].push_back(arith::SubIOp::create(
                      ib, il, arith::AndIOp::create(ib, il, w, c15), offv[v]));
                  half[1].push_back(arith::SubIOp::create(
                      ib, il, arith::ShRUIOp::create(ib, il, w, c4), offv[v]));
                }
                Value k = arith::MulIOp::create(ib, il, kb, idx(ib, il, 8));
                SmallVector<Value> next(it.begin(), it.end());
                // 4 activation bytes of row r, half h as one i32,
                // broadcast to every lane.
                auto bcast = [&](int64_t r, int64_t h) -> Value {
                  Value ab = vector::LoadOp::create(
                      ib, il, VectorType::get({4}, i8), a,
                      ValueRange{plus(ib, il, m0, r), plus(ib, il, k, 4 * h)});
                  Value s = vector::ExtractOp::create(
                      ib, il,
                      vector::BitCastOp::create(ib, il,
                                                VectorType::get({1}, i32), ab),
                      0);
                  if (flip)
                    s = arith::XOrIOp::create(ib, il, s,
                                              i32c(ib, il, (int32_t)0x80808080));
                  return vector::BitCastOp::create(
                      ib, il, bytesTy,
                      vector::BroadcastOp::create(ib, il, accTy, s));
                };
                auto call = [&](StringRef name, Type ty, ValueRange args) {
                  return LLVM::CallIntrinsicOp::create(
                             ib, il, ty, ib.getStringAttr(name), args)
                      .getResult(0);
                };
                if (t.int4WidenIntrinsic.empty()) {
                  for (int64_t h = 0; h < 2; ++h)
                    for (int64_t r = 0; r < rows; ++r) {
                      Value bytes = bcast(r, h);
                      for (int64_t v = 0; v < vecs; ++v)
                        next[r * vecs + v] =
                            call(t.int4DotIntrinsic, accTy,
                                 ValueRange{next[r * vecs + v], bytes,
                                            half[h][v]});
                    }
                } else {
                  // i16 pair products of both halves (exact: see
                  // TargetDesc.cpp), summed in i16, widened to i32 pairs.
                  auto i16Ty = VectorType::get({2 * L}, ib.getI16Type());
                  Value ones = arith::ConstantOp::create(
                      ib, il, i16Ty,
                      DenseElementsAttr::get(i16Ty, ib.getI16IntegerAttr(1)));
                  for (int64_t r = 0; r < rows; ++r) {
                    Value b0 = bcast(r, 0), b1 = bcast(r, 1);
                    for (int64_t v = 0; v < vecs; ++v) {
                      Value p = arith::AddIOp::create(
                          ib, il,
                          call(t.int4DotIntrinsic, i16Ty,
                               ValueRange{b0, half[0][v]}),
                          call(t.int4DotIntrinsic, i16Ty,
                               ValueRange{b1, half[1][v]}));
                      next[r * vecs + v] = arith::AddIOp::create(
                          ib, il, next[r * vecs + v],
                          call(t.int4WidenIntrinsic, accTy,
                               ValueRange{p, ones}));
                    }
                  }
                }
                scf::YieldOp::create(ib, il, next);
              });
          SmallVector<Value> swv, ny;
          for (int64_t v = 0; v < vecs; ++v)
            swv.push_back(vector::LoadOp::create(
                nb, l, fTy, sw, ValueRange{plus(nb, l, nb0, v), g, idx(nb, l, 0)}));
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < vecs; ++v) {
              Value f = arith::SIToFPOp::create(nb, l, fTy,
                                                kl.getResult(r * vecs + v));
              f = arith::MulFOp::create(nb, l, f, sxv[r]);
              f = arith::MulFOp::create(nb, l, f, swv[v]);
              ny.push_back(arith::AddFOp::create(nb, l, yit[r * vecs + v], f));
            }
          scf::YieldOp::create(nb, l, ny);
        });
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vecs; ++v)
        vector::StoreOp::create(b, loc, gl.getResult(r * vecs + v), y,
                                ValueRange{plus(b, loc, m0, r),
                                           plus(b, loc, n0, v * L)});
  }

  /// scf.parallel over (N tiles, M tiles) of one tile shape, N outer.
  void region(OpBuilder &b, Location loc, int64_t mBegin, int64_t mTiles,
              int64_t rows, int64_t nBegin, int64_t nTiles,
              int64_t vecs) const {
    if (mTiles == 0 || nTiles == 0 || rows == 0 || vecs == 0)
      return;
    int64_t L = t.lanes();
    scf::ParallelOp::create(
        b, loc, ValueRange{idx(b, loc, 0), idx(b, loc, 0)},
        ValueRange{idx(b, loc, nTiles), idx(b, loc, mTiles)},
        ValueRange{idx(b, loc, 1), idx(b, loc, 1)},
        [&](OpBuilder &nb, Location l, ValueRange iv) {
          Value m0 = plus(nb, l,
                          arith::MulIOp::create(nb, l, iv[1], idx(nb, l, rows)),
                          mBegin);
          Value n0 = plus(nb, l,
                          arith::MulIOp::create(nb, l, iv[0],
                                                idx(nb, l, vecs * L)),
                          nBegin);
          tile(nb, l, m0, n0, rows, vecs);
        });
  }

  /// Accumulator vectors per row of a `rows`-row tile: 2 * rows * vecs
  /// registers (i32 sums and f32 y), the unpacked weights (2 * vecs) and a
  /// broadcast within the target's vector registers, at most 4 (with 32
  /// registers: 4 rows x 3, 3 x 3, 2 x 4, 1 x 4; with 16: 2 x 2, 1 x 3).
  int64_t vecsFor(int64_t rows) const {
    // (Asymmetric weights: one more, the offsets, per vector.)
    return std::min<int64_t>(4,
                             (t.vectorRegs - 1) / (2 * rows + 2 + (off ? 1 : 0)));
  }

  /// Rows [mBegin, mBegin + mTiles * rows) over all of N.
  void rowBand(OpBuilder &b, Location loc, int64_t mBegin, int64_t mTiles,
               int64_t rows) const {
    int64_t vecs = vecsFor(rows);
    int64_t L = t.lanes(), nr = vecs * L, nMain = N / nr * nr;
    region(b, loc, mBegin, mTiles, rows, 0, N / nr, vecs);
    region(b, loc, mBegin, mTiles, rows, nMain, 1, (N - nMain) / L);
  }

  void emit(OpBuilder &b, Location loc) const {
    // The most rows (up to 4) whose tile still has 2 vectors per row (each
    // broadcast activation feeds 2 dots).
    int64_t mr = 4;
    while (mr > 1 && vecsFor(mr) < 2)
      --mr;
    int64_t mMain = M / mr * mr;
    rowBand(b, loc, 0, M / mr, mr);
    rowBand(b, loc, mMain, 1, M - mMain);
  }
};

/// The reference int4 dot of packGroupedInt4 on buffers, for target `t`.
bool matchesDot(linalg::GenericOp op, const TargetDesc &t, int64_t &gs) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 7 ||
      (op.getNumDpsInputs() != 2 && op.getNumDpsInputs() != 3) ||
      op.getNumDpsInits() != 1)
    return false;
  auto at = dyn_cast<MemRefType>(op.getDpsInputs()[0].getType());
  auto wt = dyn_cast<MemRefType>(op.getDpsInputs()[1].getType());
  auto ot = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  int64_t L = t.lanes();
  if (!at || !wt || !ot || at.getRank() != 5 || wt.getRank() != 5 ||
      ot.getRank() != 3 || !at.hasStaticShape() || !ot.hasStaticShape() ||
      !wt.hasStaticShape() || !at.getElementType().isInteger(8) ||
      !wt.getElementType().isInteger(8) || !ot.getElementType().isInteger(32) ||
      wt.getDimSize(3) != L || wt.getDimSize(4) != 4 ||
      at.getDimSize(3) != 2 || at.getDimSize(4) != 4 ||
      !wt.getLayout().isIdentity() || !at.getLayout().isIdentity())
    return false;
  gs = at.getDimSize(2) * 8;
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> d;
  for (unsigned j = 0; j < 7; ++j)
    d.push_back(getAffineDimExpr(j, ctx));
  SmallVector<AffineMap> want = {
      AffineMap::get(7, 0, {d[1], d[0], d[4], d[5], d[6]}, ctx),
      AffineMap::get(7, 0, {d[2], d[0], d[4], d[3], d[6]}, ctx),
      AffineMap::get(7, 0, {d[0], d[1], d[2] * L + d[3]}, ctx)};
  if (op.getNumDpsInputs() == 3) { // asymmetric: offsets [N/L, G, L] i8
    auto ft = dyn_cast<MemRefType>(op.getDpsInputs()[2].getType());
    if (!ft || ft.getRank() != 3 || !ft.getElementType().isInteger(8) ||
        ft.getDimSize(2) != L || !ft.getLayout().isIdentity())
      return false;
    want.insert(want.begin() + 2,
                AffineMap::get(7, 0, {d[2], d[0], d[3]}, ctx));
  }
  return op.getIndexingMapsArray() == want;
}

} // namespace

void mlir::qopt::lowerGroupedInt4(Operation *root, const TargetDesc &t) {
  if (!t.hasInt4Microkernel())
    return;
  SmallVector<std::pair<linalg::GenericOp, int64_t>> dots;
  root->walk([&](linalg::GenericOp op) {
    int64_t gs;
    if (matchesDot(op, t, gs))
      dots.push_back({op, gs});
  });
  auto lowerOne = [&](linalg::GenericOp dot, int64_t gs) -> bool {
    Value acc = dot.getDpsInits()[0];
    // acc's users: its zero init (a fill, or a copy of a shared zero-filled
    // buffer after CSE merged the fills of same-shaped pairs), the dot, one
    // epilogue reading it, deallocs.
    linalg::GenericOp epi;
    SmallVector<Operation *> dead;
    SmallVector<Value> sources;
    bool ok = true;
    for (Operation *u : acc.getUsers()) {
      if (u == dot.getOperation())
        continue;
      auto copy = dyn_cast<memref::CopyOp>(u);
      if (copy && copy.getTarget() == acc) {
        dead.push_back(u);
        sources.push_back(copy.getSource());
        continue;
      }
      if (isa<linalg::FillOp, memref::DeallocOp>(u)) {
        dead.push_back(u);
        continue;
      }
      auto g = dyn_cast<linalg::GenericOp>(u);
      if (g && !epi &&
          (g.getNumDpsInputs() == 5 || g.getNumDpsInputs() == 4) &&
          g.getNumLoops() == 3 &&
          g.getDpsInputs()[0] == acc && g->getBlock() == dot->getBlock() &&
          dot->isBeforeInBlock(g)) {
        epi = g;
        continue;
      }
      ok = false;
    }
    if (!ok || !epi)
      return false;
    auto ot = cast<MemRefType>(acc.getType());
    auto yt = dyn_cast<MemRefType>(epi.getDpsInits()[0].getType());
    MLIRContext *ctx = epi.getContext();
    AffineExpr e0 = getAffineDimExpr(0, ctx), e1 = getAffineDimExpr(1, ctx),
               e2 = getAffineDimExpr(2, ctx);
    // Inputs (acc, za, cs, sx, sw) or, with a constant zero point folded
    // into the compensation, (acc, comp, sx, sw).
    bool constZa = epi.getNumDpsInputs() == 4;
    Value za = constZa ? Value() : epi.getDpsInputs()[1];
    Value cs = epi.getDpsInputs()[constZa ? 1 : 2];
    Value sx = epi.getDpsInputs()[constZa ? 2 : 3];
    Value sw = epi.getDpsInputs()[constZa ? 3 : 4];
    auto rowMap = [&](Value v) {
      return cast<MemRefType>(v.getType()).getRank()
                 ? AffineMap::get(3, 0, {e0}, ctx)
                 : AffineMap::get(3, 0, {}, ctx);
    };
    SmallVector<AffineMap> want = {AffineMap::get(3, 0, {e2, e0, e1}, ctx)};
    if (za)
      want.push_back(rowMap(za));
    int64_t L = t.lanes();
    AffineMap pmap = AffineMap::get(3, 0, {e1.floorDiv(L), e2, e1 % L}, ctx);
    want.append({pmap, rowMap(sx), pmap, AffineMap::get(3, 0, {e0, e1}, ctx)});
    if (!yt || epi.getIndexingMapsArray() != want)
      return false;
    // Signedness: the dot flips s8 activations (xori); the zero point is
    // read with extui (u8) or extsi.
    bool flip = false, zaUns = false;
    dot.getBody()->walk([&](arith::XOrIOp) { flip = true; });
    epi.getBody()->walk([&](arith::ExtUIOp) { zaUns = true; });
    OpBuilder b(epi);
    Location loc = epi.getLoc();
    // The kernel's views: activations [M, K], weights [N/L, K/8, 4L].
    Value a = memref::CollapseShapeOp::create(
        b, loc, dot.getDpsInputs()[0],
        ArrayRef<ReassociationIndices>{{0}, {1, 2, 3, 4}});
    Value w = memref::CollapseShapeOp::create(
        b, loc, dot.getDpsInputs()[1],
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3, 4}});
    Int4Kernel k{t,
                 a,
                 w,
                 za,
                 cs,
                 sx,
                 sw,
                 epi.getDpsInits()[0],
                 ot.getDimSize(1),
                 ot.getDimSize(2),
                 ot.getDimSize(0),
                 gs,
                 flip,
                 zaUns};
    if (dot.getNumDpsInputs() == 3)
      k.off = dot.getDpsInputs()[2];
    k.emit(b, loc);
    epi.erase();
    dot.erase();
    for (Operation *u : dead)
      u->erase();
    if (auto alloc = acc.getDefiningOp<memref::AllocOp>())
      if (alloc->use_empty())
        alloc.erase();
    // A shared zero buffer that only fed the dropped copies goes too.
    for (Value src : sources) {
      auto alloc = src.getDefiningOp<memref::AllocOp>();
      if (!alloc || !llvm::all_of(src.getUsers(), [](Operation *u) {
            return isa<linalg::FillOp, memref::DeallocOp>(u);
          }))
        continue;
      for (Operation *u : llvm::make_early_inc_range(src.getUsers()))
        u->erase();
      alloc.erase();
    }
    return true;
  };
  for (auto [dot, gs] : dots)
    if (!lowerOne(dot, gs))
      dot.emitWarning("qopt-lower-ukernels: grouped int4 matmul left to the "
                      "reference loops (slow): its i32 buffer or epilogue is "
                      "not the packed pair's");
}
