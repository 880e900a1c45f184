//===- LowerUkernels.cpp - int8 dot microkernels --------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// linalg.generic {qopt.ukernel = "int8_dot"} on buffers (qopt-pack-qmatmul)
// -> scf.parallel over weight panels (NRV*L columns) and M blocks; in each,
// a loop over K blocks and in it a loop over the MR-row register tiles of
// the M block (GotoBLAS order: the panel's K block stays in L1 while every
// row tile of the block streams past it, the A block stays in L2). A tile
// runs the target's dot intrinsic on MR x NRV accumulator vectors over one
// K block. The tile, the intrinsic and the cache sizes come from the
// target description.
//
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Codegen/TargetDesc.h"
#include "AmxKernel.h"
#include "GroupedInt4.h"

#include "mlir/IR/Matchers.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTLOWERUKERNELSPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct Kernel {
  const TargetDesc &t;
  Value a, w, out; // w: [(B,) N/P, K/G, P*G]
  int64_t B, M, N, K; // B: batch (0: not batched)
  /// Packed panel width: L (one vector per panel) or the register tile's
  /// NRV*L columns (N a multiple of them: a tile's weight vectors for one
  /// K step are contiguous).
  int64_t P;
  bool flip, zeroInit; // flip: xor 0x80 into the dot's activation type
  /// Bytes per activation element in `a`: 2 for vpmaddwd
  /// (Int8Dot::Pmaddwd: the activations widened to i16 before the kernel,
  /// the weights after their load), else 1.
  int64_t aBytes() const { return t.dot == Int8Dot::Pmaddwd ? 2 : 1; }
  /// The elementwise generic that wrote the output's initial value (the
  /// zero-point compensation, from row and column vectors): evaluated per
  /// tile in registers instead of an M x N pass through memory (null: the
  /// tile loads the output).
  linalg::GenericOp initGen = nullptr;
  /// The elementwise generic that read the finished output (the
  /// dequantization dst[m, n] = f(out[m, n], row/column vectors)): applied
  /// to the accumulators of a tile's last K block, which store dst instead
  /// of the i32 output (null: the tile stores the output).
  linalg::GenericOp epiGen = nullptr;

  /// The batch `bi` of a batched operand (rank-reducing subview).
  static Value slice(OpBuilder &b, Location l, Value src, Value bi) {
    auto st = cast<MemRefType>(src.getType());
    SmallVector<OpFoldResult> offs(st.getRank(), b.getIndexAttr(0)),
        sizes = {b.getIndexAttr(1)}, strides(st.getRank(), b.getIndexAttr(1));
    offs[0] = bi;
    for (int64_t d = 1; d < st.getRank(); ++d)
      sizes.push_back(b.getIndexAttr(st.getDimSize(d)));
    auto rt = memref::SubViewOp::inferRankReducedResultType(
        st.getShape().drop_front(), st, offs, sizes, strides);
    return memref::SubViewOp::create(b, l, cast<MemRefType>(rt), src, offs,
                                     sizes, strides);
  }

  Value idx(OpBuilder &b, Location l, int64_t v) const {
    return arith::ConstantIndexOp::create(b, l, v);
  }

  /// The i8mm form of `tile` (G = 8): smmla multiplies a 2x8 block of two
  /// activation rows by an 8x2 block of two weight columns (the pack layout
  /// holds each column's 8 K bytes together, so one 16-byte half of a
  /// packed [L=4][G=8] group is two columns) into a 2x2 i32 accumulator
  /// [r0c0, r0c1, r1c0, r1c1]. An odd last row is paired with itself and its
  /// duplicate results are dropped.
  void tileMmla(OpBuilder &b, Location loc, Value m0, Value n0, int64_t rows,
                int64_t vecs, Value kb0, Value kEnd, Value first) const {
    int64_t L = t.lanes(), G = t.kGroup, pairs = (rows + 1) / 2;
    Type i8 = b.getI8Type(), i32 = b.getI32Type();
    auto accTy = VectorType::get({4}, i32), halfTy = VectorType::get({2}, i32);
    auto rowTy = VectorType::get({G}, i8), blkTy = VectorType::get({2 * G}, i8);
    auto at = [&](OpBuilder &nb, Location l, Value base, int64_t off) {
      return arith::AddIOp::create(nb, l, base, idx(nb, l, off)).getResult();
    };
    auto rowOf = [&](int64_t p, int64_t i) { return std::min(2 * p + i, rows - 1); };
    auto col = [&](int64_t v, int64_t h) { return v * L + 2 * h; };
    SmallVector<int64_t> cat = llvm::to_vector(llvm::seq<int64_t>(0, 2 * G));
    SmallVector<Value> acc = initAcc(
        b, loc, accTy, pairs * vecs * 2, first,
        [&](OpBuilder &b, Location loc) {
          SmallVector<Value> acc;
          for (int64_t p = 0; p < pairs; ++p)
            for (int64_t v = 0; v < vecs; ++v)
              for (int64_t h = 0; h < 2; ++h) {
                Value c = at(b, loc, n0, col(v, h));
                Value lo = vector::LoadOp::create(
                    b, loc, halfTy, out,
                    ValueRange{at(b, loc, m0, rowOf(p, 0)), c});
                Value hi = vector::LoadOp::create(
                    b, loc, halfTy, out,
                    ValueRange{at(b, loc, m0, rowOf(p, 1)), c});
                acc.push_back(vector::ShuffleOp::create(
                    b, loc, lo, hi, ArrayRef<int64_t>{0, 1, 2, 3}));
              }
          return acc;
        });
    Value nb0 = arith::DivUIOp::create(b, loc, n0, idx(b, loc, L));
    Value flipVec = arith::ConstantOp::create(
        b, loc, blkTy, DenseElementsAttr::get(blkTy, b.getI8IntegerAttr(-128)));
    auto loop = scf::ForOp::create(
        b, loc, kb0, kEnd, idx(b, loc, 1), acc,
        [&](OpBuilder &nb, Location l, Value kb, ValueRange it) {
          SmallVector<Value> ws; // [v][h]: columns (2h, 2h+1) of vector v
          for (int64_t v = 0; v < vecs; ++v) {
            Value n1 = at(nb, l, nb0, v);
            for (int64_t h = 0; h < 2; ++h)
              ws.push_back(vector::LoadOp::create(
                  nb, l, blkTy, w, ValueRange{n1, kb, idx(nb, l, h * 2 * G)}));
          }
          Value k = arith::MulIOp::create(nb, l, kb, idx(nb, l, G));
          SmallVector<Value> next;
          for (int64_t p = 0; p < pairs; ++p) {
            Value r0 = vector::LoadOp::create(
                nb, l, rowTy, a, ValueRange{at(nb, l, m0, rowOf(p, 0)), k});
            Value r1 = vector::LoadOp::create(
                nb, l, rowTy, a, ValueRange{at(nb, l, m0, rowOf(p, 1)), k});
            Value ab = vector::ShuffleOp::create(nb, l, r0, r1, cat);
            if (flip) // u8 -> s8: -128 per byte
              ab = arith::XOrIOp::create(nb, l, ab, flipVec);
            for (int64_t v = 0; v < vecs; ++v)
              for (int64_t h = 0; h < 2; ++h)
                next.push_back(
                    LLVM::CallIntrinsicOp::create(
                        nb, l, accTy, nb.getStringAttr(t.dotIntrinsic),
                        ValueRange{it[(p * vecs + v) * 2 + h], ab,
                                   ws[v * 2 + h]})
                        .getResult(0));
          }
          scf::YieldOp::create(nb, l, next);
        });
    for (int64_t p = 0; p < pairs; ++p)
      for (int64_t v = 0; v < vecs; ++v)
        for (int64_t h = 0; h < 2; ++h) {
          Value r = loop.getResult((p * vecs + v) * 2 + h);
          Value c = at(b, loc, n0, col(v, h));
          for (int64_t i = 0; i < 2 && 2 * p + i < rows; ++i)
            vector::StoreOp::create(
                b, loc,
                vector::ExtractStridedSliceOp::create(
                    b, loc, r, ArrayRef<int64_t>{2 * i}, ArrayRef<int64_t>{2},
                    ArrayRef<int64_t>{1}),
                out, ValueRange{at(b, loc, m0, 2 * p + i), c});
        }
  }

  /// One rows x (vecs * L) tile at (m0, n0).
  /// One rows x (vecs * L) tile at (m0, n0) over the K groups
  /// [kb0, kEnd).
  void tile(OpBuilder &b, Location loc, Value m0, Value n0, int64_t rows,
            int64_t vecs, Value kb0, Value kEnd, Value first) const {
    if (t.dot == Int8Dot::Smmla)
      return tileMmla(b, loc, m0, n0, rows, vecs, kb0, kEnd, first);
    int64_t L = t.lanes(), G = t.kGroup;
    bool wd = t.dot == Int8Dot::Pmaddwd;
    Type i32 = b.getI32Type();
    auto accTy = VectorType::get({L}, i32);
    auto bytesTy = VectorType::get({L * G}, b.getI8Type());
    // The dot's operand vectors: bytes, or (vpmaddwd) i16.
    auto opTy = wd ? VectorType::get({L * G}, b.getI16Type()) : bytesTy;
    Type aElem = cast<MemRefType>(a.getType()).getElementType();
    auto row = [&](int64_t r) {
      return arith::AddIOp::create(b, loc, m0, idx(b, loc, r)).getResult();
    };
    auto col = [&](int64_t v) {
      return arith::AddIOp::create(b, loc, n0, idx(b, loc, v * L)).getResult();
    };
    SmallVector<Value> acc = initAcc(
        b, loc, accTy, rows * vecs, first, [&](OpBuilder &b, Location loc) {
          SmallVector<Value> acc;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < vecs; ++v)
              acc.push_back(vector::LoadOp::create(
                  b, loc, accTy, out,
                  ValueRange{
                      arith::AddIOp::create(b, loc, m0, idx(b, loc, r)),
                      arith::AddIOp::create(b, loc, n0, idx(b, loc, v * L))}));
          return acc;
        },
        [&](OpBuilder &b, Location loc) {
          SmallVector<Value> acc;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t v = 0; v < vecs; ++v)
              acc.push_back(initVector(
                  b, loc, arith::AddIOp::create(b, loc, m0, idx(b, loc, r)),
                  arith::AddIOp::create(b, loc, n0, idx(b, loc, v * L))));
          return acc;
        });
    // Vector v of the tile: panel n0/P + v at offset 0 (P = L), or offset
    // v*L*G of panel n0/P (P = vecs*L).
    Value nb0 = arith::DivUIOp::create(b, loc, n0, idx(b, loc, P));
    auto loop = scf::ForOp::create(
        b, loc, kb0, kEnd, idx(b, loc, 1), acc,
        [&](OpBuilder &nb, Location l, Value kb, ValueRange it) {
          SmallVector<Value> ws;
          for (int64_t v = 0; v < vecs; ++v) {
            Value n1 = P == L ? arith::AddIOp::create(nb, l, nb0, idx(nb, l, v))
                                    .getResult()
                              : nb0;
            Value off = idx(nb, l, P == L ? 0 : v * L * G);
            Value wv = vector::LoadOp::create(nb, l, bytesTy, w,
                                              ValueRange{n1, kb, off});
            if (wd)
              wv = arith::ExtSIOp::create(nb, l, opTy, wv);
            ws.push_back(wv);
          }
          Value k = arith::MulIOp::create(nb, l, kb, idx(nb, l, G));
          SmallVector<Value> next;
          for (int64_t r = 0; r < rows; ++r) {
            // G activation bytes (vpmaddwd: G i16) as one i32, broadcast
            // to every lane.
            Value m = arith::AddIOp::create(nb, l, m0, idx(nb, l, r));
            Value ab = vector::LoadOp::create(
                nb, l, VectorType::get({G}, aElem), a, ValueRange{m, k});
            Value ai = vector::BitCastOp::create(
                nb, l, VectorType::get({1}, i32), ab);
            Value s = vector::ExtractOp::create(nb, l, ai, 0);
            if (flip) // s8 <-> u8: +-128 per byte
              s = arith::XOrIOp::create(
                  nb, l, s,
                  arith::ConstantOp::create(
                      nb, l, i32, nb.getI32IntegerAttr((int32_t)0x80808080)));
            Value bc = vector::BroadcastOp::create(nb, l, accTy, s);
            Value bytes = vector::BitCastOp::create(nb, l, opTy, bc);
            for (int64_t v = 0; v < vecs; ++v) {
              if (wd) { // exact i32 pair sums, then the accumulate
                Value p = LLVM::CallIntrinsicOp::create(
                              nb, l, accTy, nb.getStringAttr(t.dotIntrinsic),
                              ValueRange{bytes, ws[v]})
                              .getResult(0);
                next.push_back(
                    arith::AddIOp::create(nb, l, it[r * vecs + v], p));
                continue;
              }
              next.push_back(
                  LLVM::CallIntrinsicOp::create(
                      nb, l, accTy, nb.getStringAttr(t.dotIntrinsic),
                      ValueRange{it[r * vecs + v], bytes, ws[v]})
                      .getResult(0));
            }
          }
          scf::YieldOp::create(nb, l, next);
        });
    // The accumulators (which started at the output's initial value: the
    // zero-point compensation) are the result; after the last K block,
    // through the epilogue into its buffer.
    auto storeOut = [&](OpBuilder &b, Location loc) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < vecs; ++v)
          vector::StoreOp::create(b, loc, loop.getResult(r * vecs + v), out,
                                  ValueRange{row(r), col(v)});
    };
    auto storeEpilogue = [&](OpBuilder &b, Location loc) {
      linalg::GenericOp g = epiGen;
      Value dst = g.getDpsInits()[0];
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < vecs; ++v)
          vector::StoreOp::create(
              b, loc,
              rowVector(epiGen, b, loc, row(r), col(v),
                        loop.getResult(r * vecs + v)),
              dst, ValueRange{row(r), col(v)});
    };
    if (!epiGen)
      return storeOut(b, loc);
    if (!first) // one K block
      return storeEpilogue(b, loc);
    Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, kEnd,
                                       idx(b, loc, K / G));
    scf::IfOp::create(
        b, loc, last,
        [&](OpBuilder &b, Location l) {
          storeEpilogue(b, l);
          scf::YieldOp::create(b, l);
        },
        [&](OpBuilder &b, Location l) {
          storeOut(b, l);
          scf::YieldOp::create(b, l);
        });
  }

  /// The accumulators a tile starts a K block with: the output's current
  /// value (`loads`), or, for the first K block, zero (a zero-filled output)
  /// or `initGen` evaluated for the tile. `first`: that block's i1, null
  /// when there is one K block.
  SmallVector<Value>
  initAcc(OpBuilder &b, Location loc, VectorType ty, int64_t n, Value first,
          function_ref<SmallVector<Value>(OpBuilder &, Location)> loads,
          function_ref<SmallVector<Value>(OpBuilder &, Location)> computed =
              nullptr) const {
    auto start = [&](OpBuilder &b, Location loc) {
      if (initGen && computed)
        return computed(b, loc);
      Value z = arith::ConstantOp::create(b, loc, ty,
                                          DenseElementsAttr::get(ty, 0));
      return SmallVector<Value>(n, z);
    };
    if (!zeroInit && !(initGen && computed))
      return loads(b, loc);
    if (!first)
      return start(b, loc);
    auto ifOp = scf::IfOp::create(
        b, loc, first,
        [&](OpBuilder &b, Location l) {
          scf::YieldOp::create(b, l, start(b, l));
        },
        [&](OpBuilder &b, Location l) {
          scf::YieldOp::create(b, l, loads(b, l));
        });
    return SmallVector<Value>(ifOp.getResults());
  }

  /// `initGen`'s value at out[m0 + r, n0 + v*L ...] as an L-lane vector:
  /// its column inputs ((d1)) are vector loads, its row and scalar inputs
  /// ((d0), ()) broadcasts, its (arith, elementwise) body runs on vectors.
  Value initVector(OpBuilder &b, Location loc, Value m, Value n) const {
    return rowVector(initGen, b, loc, m, n);
  }

  /// `g`'s value at [m, n ... n + L) as an L-lane vector (initVector); its
  /// input `out` (the i32 output, read by an epilogue) is `acc`.
  Value rowVector(linalg::GenericOp g, OpBuilder &b, Location loc, Value m,
                  Value n, Value acc = {}) const {
    int64_t L = t.lanes();
    IRMapping map;
    Block *body = g.getBody();
    for (OpOperand *in : g.getDpsInputOperands()) {
      AffineMap am = g.getMatchingIndexingMap(in);
      Value src = in->get(), arg = body->getArgument(in->getOperandNumber());
      auto vt = VectorType::get({L}, arg.getType());
      Value v;
      if (acc && src == out) {
        v = acc;
      } else if (am.getNumResults() == 1 && am.getDimPosition(0) == 1) {
        v = vector::LoadOp::create(b, loc, vt, src, ValueRange{n});
      } else {
        SmallVector<Value> ix;
        if (am.getNumResults() == 1)
          ix.push_back(m);
        v = vector::BroadcastOp::create(
            b, loc, vt, memref::LoadOp::create(b, loc, src, ix));
      }
      map.map(arg, v);
    }
    for (Operation &op : body->without_terminator()) {
      if (auto c = dyn_cast<arith::ConstantOp>(op)) {
        auto vt = VectorType::get({L}, c.getType());
        map.map(c.getResult(),
                arith::ConstantOp::create(
                    b, loc, vt, SplatElementsAttr::get(vt, c.getValue())));
        continue;
      }
      // Values from above the body (hoisted constants): broadcast.
      for (Value x : op.getOperands())
        if (!map.contains(x) && x.getParentBlock() != body)
          map.map(x, vector::BroadcastOp::create(
                         b, loc, VectorType::get({L}, x.getType()), x));
      Operation *v = b.clone(op, map);
      for (Value r : v->getResults())
        r.setType(VectorType::get({L}, r.getType()));
    }
    Value y = body->getTerminator()->getOperand(0);
    if (!map.contains(y)) // a value from above (a hoisted constant)
      return vector::BroadcastOp::create(
          b, loc, VectorType::get({L}, y.getType()), y);
    return map.lookup(y);
  }

  /// Whether `g` is an init generic the tiles can evaluate (initVector):
  /// out[m, n] = f(in[n] | in[m] | in[]) on buffers, an arith body of
  /// elementwise ops on scalars that does not read the output.
  static bool evaluableInit(linalg::GenericOp g, Value out) {
    if (!g.hasPureBufferSemantics() || g.getNumLoops() != 2 ||
        g.getNumParallelLoops() != 2 || g.getNumDpsInits() != 1 ||
        g.getDpsInits()[0] != out ||
        !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity() ||
        !g.getBody()->getArgument(g.getNumDpsInputs()).use_empty() ||
        g.getBody()->getTerminator()->getNumOperands() != 1)
      return false;
    return rowColumnBody(g, Value());
  }

  /// The inputs of `g` other than `skip` are row, column or scalar
  /// buffers ((d0), (d1), ()), a column one contiguous, and its body is
  /// arith elementwise ops on scalars: what rowVector evaluates.
  static bool rowColumnBody(linalg::GenericOp g, Value skip) {
    for (OpOperand *in : g.getDpsInputOperands()) {
      if (skip && in->get() == skip)
        continue;
      AffineMap am = g.getMatchingIndexingMap(in);
      auto mt = dyn_cast<MemRefType>(in->get().getType());
      if (!mt || am.getNumResults() > 1 ||
          (am.getNumResults() == 1 && !isa<AffineDimExpr>(am.getResult(0))))
        return false;
      if (am.getNumResults() == 1 && am.getDimPosition(0) == 1 &&
          !mt.getLayout().isIdentity())
        return false;
    }
    for (Operation &op : g.getBody()->without_terminator()) {
      if (op.getDialect() != op.getContext()->getLoadedDialect("arith") ||
          op.getNumRegions() ||
          !(isa<arith::ConstantOp>(op) || op.hasTrait<OpTrait::Elementwise>()))
        return false;
      for (Type ty : op.getResultTypes())
        if (!ty.isIntOrFloat())
          return false;
      for (Value x : op.getOperands())
        if (!x.getType().isIntOrFloat())
          return false;
    }
    return true;
  }

  /// Whether `g` is an epilogue the tiles can apply (rowVector): dst[m, n]
  /// = f(out[m, n], in[n] | in[m] | in[]) into an f32 buffer of the
  /// output's shape, arith elementwise body, not reading dst.
  static bool evaluableEpilogue(linalg::GenericOp g, Value out) {
    if (!g.hasPureBufferSemantics() || g.getNumLoops() != 2 ||
        g.getNumParallelLoops() != 2 || g.getNumDpsInits() != 1 ||
        g.getDpsInits()[0] == out ||
        !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity() ||
        !g.getBody()->getArgument(g.getNumDpsInputs()).use_empty() ||
        g.getBody()->getTerminator()->getNumOperands() != 1)
      return false;
    auto dt = dyn_cast<MemRefType>(g.getDpsInits()[0].getType());
    auto ot = cast<MemRefType>(out.getType());
    if (!dt || !dt.getElementType().isF32() || !dt.getLayout().isIdentity() ||
        dt.getShape() != ot.getShape())
      return false;
    int64_t reads = 0;
    for (OpOperand *in : g.getDpsInputOperands()) {
      if (in->get() != out)
        continue;
      if (!g.getMatchingIndexingMap(in).isIdentity())
        return false;
      ++reads;
    }
    return reads == 1 && rowColumnBody(g, out);
  }

  /// K groups per K block. The kernel broadcasts activations from the MR
  /// rows of a tile and streams the weight panel: one K block of the tile's
  /// rows fills at most half of L1 (they are read once per 4-byte step of
  /// every vpdpbusd group, so they must stay there) and one K block of the
  /// panel at most a quarter of L2 (it is re-read by every row tile of the
  /// M block). Smaller blocks, sized for the panel in L1, measured slower
  /// on Zen 4 (docs/performance.md): each block reloads and stores the
  /// accumulators and restarts MR short activation streams. Blocks are
  /// balanced; K=2048 on AVX-512 is one block.
  int64_t kBlockSteps(int64_t vecs) const {
    int64_t G = t.kGroup, steps = K / G;
    int64_t cap = std::min<int64_t>(
        (int64_t)t.l1dBytes / 2 / (t.mr * G * aBytes()),
        (int64_t)t.l2Bytes / 4 / (vecs * t.lanes() * G));
    cap = std::max<int64_t>(cap, 1);
    int64_t blocks = (steps + cap - 1) / cap;
    return (steps + blocks - 1) / blocks;
  }

  /// scf.parallel over the `nTiles` panels (vecs*L columns from nBegin) and
  /// the M blocks; per (panel, M block) the K blocks, per K block the row
  /// tiles of the block (the M remainder rows after the last block's).
  void panels(OpBuilder &b, Location loc, int64_t nBegin, int64_t nTiles,
              int64_t vecs) const {
    if (nTiles == 0 || vecs == 0 || M == 0)
      return;
    int64_t L = t.lanes(), G = t.kGroup, mr = t.mr;
    int64_t mTiles = M / mr, remRows = M % mr, steps = K / G;
    int64_t kc = kBlockSteps(vecs);
    // M blocks (balanced) of at most half of L2 of activation rows (one K
    // block of them): what a second thread takes besides whole panels.
    int64_t mcCap = std::max<int64_t>(
        1, (int64_t)t.l2Bytes / 2 / (mr * kc * G * aBytes()));
    int64_t mBlocks = std::max<int64_t>(1, (mTiles + mcCap - 1) / mcCap);
    int64_t mcTiles = std::max<int64_t>(1, (mTiles + mBlocks - 1) / mBlocks);
    SmallVector<Value> lbs, ubs, steps1;
    if (B) {
      lbs.push_back(idx(b, loc, 0));
      ubs.push_back(idx(b, loc, B));
      steps1.push_back(idx(b, loc, 1));
    }
    lbs.append({idx(b, loc, 0), idx(b, loc, 0)});
    ubs.append({idx(b, loc, nTiles), idx(b, loc, mBlocks)});
    steps1.append({idx(b, loc, 1), idx(b, loc, 1)});
    scf::ParallelOp::create(
        b, loc, lbs, ubs, steps1,
        [&](OpBuilder &nb, Location l, ValueRange all) {
          Kernel k = *this;
          ValueRange ivs = all;
          if (B) {
            k.a = slice(nb, l, a, all[0]);
            k.w = slice(nb, l, w, all[0]);
            k.out = slice(nb, l, out, all[0]);
            ivs = all.drop_front();
          }
          Value n0 = arith::AddIOp::create(
              nb, l, idx(nb, l, nBegin),
              arith::MulIOp::create(nb, l, ivs[0], idx(nb, l, vecs * L)));
          Value mb = ivs[1];
          Value tLo = arith::MulIOp::create(nb, l, mb, idx(nb, l, mcTiles));
          Value tHi = arith::MinUIOp::create(
              nb, l, arith::AddIOp::create(nb, l, tLo, idx(nb, l, mcTiles)),
              idx(nb, l, mTiles));
          scf::ForOp::create(
              nb, l, idx(nb, l, 0), idx(nb, l, steps), idx(nb, l, kc),
              ValueRange{},
              [&](OpBuilder &kb, Location l, Value kb0, ValueRange) {
                Value kEnd = arith::MinUIOp::create(
                    kb, l, arith::AddIOp::create(kb, l, kb0, idx(kb, l, kc)),
                    idx(kb, l, steps));
                Value first =
                    kc < steps ? arith::CmpIOp::create(kb, l,
                                                       arith::CmpIPredicate::eq,
                                                       kb0, idx(kb, l, 0))
                                     .getResult()
                               : Value();
                scf::ForOp::create(
                    kb, l, tLo, tHi, idx(kb, l, 1), ValueRange{},
                    [&](OpBuilder &tb, Location l, Value mt, ValueRange) {
                      Value m0 =
                          arith::MulIOp::create(tb, l, mt, idx(tb, l, mr));
                      k.tile(tb, l, m0, n0, mr, vecs, kb0, kEnd, first);
                      scf::YieldOp::create(tb, l);
                    });
                if (remRows) {
                  Value last = arith::CmpIOp::create(
                      kb, l, arith::CmpIPredicate::eq, mb,
                      idx(kb, l, mBlocks - 1));
                  scf::IfOp::create(kb, l, last, [&](OpBuilder &rb,
                                                     Location l) {
                    k.tile(rb, l, idx(rb, l, mTiles * mr), n0, remRows, vecs,
                           kb0, kEnd, first);
                    scf::YieldOp::create(rb, l);
                  });
                }
                scf::YieldOp::create(kb, l);
              });
        });
  }

  void emit(OpBuilder &b, Location loc) const {
    int64_t L = t.lanes(), nr = t.nrVectors * L;
    int64_t nMain = N / nr * nr;
    panels(b, loc, 0, N / nr, t.nrVectors);
    panels(b, loc, nMain, 1, (N - nMain) / L);
  }
};

struct QOptLowerUkernelsPass
    : qopt::impl::QOptLowerUkernelsPassBase<QOptLowerUkernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    const TargetDesc *t = lookupTargetDesc(target);
    if (!t) {
      getOperation().emitError("unknown target '" + target + "'");
      return signalPassFailure();
    }
    lowerGroupedInt4(getOperation(), *t);
    if (!t->hasInt8Microkernel())
      return; // left to the loops (the generic is the exact reference)
    SmallVector<std::tuple<linalg::GenericOp, bool, bool>> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      bool flip, lhsSigned;
      if (matches(op, *t, flip, lhsSigned))
        ops.push_back({op, flip, lhsSigned});
    });
    for (auto [op, flip, lhsSigned] : ops)
      lower(op, *t, flip, lhsSigned);
  }

  /// Matches the int8 dot generic of qopt-pack-qmatmul for this target by
  /// its structure (canonicalization may drop discardable attributes):
  /// out[m, n1*L+l] += ext(a[m, k1*G+g] (^ 0x80)) * extsi(w[n1, k1, l, g]),
  /// ext: extui for a dot on u8 activations (x86), extsi for s8 (sdot).
  /// Sets `flip` when the activations are flipped (other signedness). A dot
  /// that takes either sign (vpmaddwd) takes extui or extsi, no flip, and
  /// sets `lhsSigned` for extsi.
  static bool matches(linalg::GenericOp op, const TargetDesc &t, bool &flip,
                      bool &lhsSigned) {
    int64_t nl = op.getNumLoops();
    if (!op.hasPureBufferSemantics() || (nl != 5 && nl != 6) ||
        op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
      return false;
    int64_t nb = nl - 5; // batch loops
    auto at = dyn_cast<MemRefType>(op.getDpsInputs()[0].getType());
    auto wt = dyn_cast<MemRefType>(op.getDpsInputs()[1].getType());
    auto ot = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
    int64_t L = t.lanes(), G = t.kGroup;
    if (!at || !wt || !ot || !at.hasStaticShape() || !ot.hasStaticShape() ||
        at.getRank() != 2 + nb || wt.getRank() != 4 + nb ||
        ot.getRank() != 2 + nb || !at.getElementType().isInteger(8) ||
        !wt.getElementType().isInteger(8) ||
        !ot.getElementType().isInteger(32) || wt.getDimSize(3 + nb) != G || !wt.getLayout().isIdentity() ||
        !at.getLayout().isIdentity() || !ot.getLayout().isIdentity())
      return false;
    // Panels of one vector, or of the whole register tile (not smmla's).
    int64_t P = wt.getDimSize(2 + nb);
    if (P != L && (t.dot == Int8Dot::Smmla || P != t.nrVectors * L ||
                   ot.getDimSize(1 + nb) % P))
      return false;
    MLIRContext *ctx = op.getContext();
    AffineExpr m = getAffineDimExpr(nb, ctx), n1 = getAffineDimExpr(nb + 1, ctx),
               l = getAffineDimExpr(nb + 2, ctx), k1 = getAffineDimExpr(nb + 3, ctx),
               g = getAffineDimExpr(nb + 4, ctx);
    auto map = [&](SmallVector<AffineExpr> e) {
      if (nb)
        e.insert(e.begin(), getAffineDimExpr(0, ctx));
      return AffineMap::get(nl, 0, e, ctx);
    };
    SmallVector<AffineMap> want = {map({m, k1 * G + g}), map({n1, k1, l, g}),
                                   map({m, n1 * P + l})};
    if (op.getIndexingMapsArray() != want)
      return false;
    using IT = utils::IteratorType;
    SmallVector<IT> its = {IT::parallel, IT::parallel, IT::parallel,
                           IT::reduction, IT::reduction};
    if (nb)
      its.insert(its.begin(), IT::parallel);
    if (op.getIteratorTypesArray() != its)
      return false;
    Block *body = op.getBody();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    auto add = yield.getValues()[0].getDefiningOp<arith::AddIOp>();
    if (!add)
      return false;
    Value acc = body->getArgument(2);
    Value prod = add.getLhs() == acc ? add.getRhs() : add.getLhs();
    if ((add.getLhs() != acc && add.getRhs() != acc) || prod == acc)
      return false;
    auto mul = prod.getDefiningOp<arith::MulIOp>();
    if (!mul)
      return false;
    Operation *xa = mul.getLhs().getDefiningOp();
    auto xw = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
    if (!xa || !xw || xw.getIn() != body->getArgument(1))
      return false;
    lhsSigned = isa<arith::ExtSIOp>(xa);
    if (t.dotTakesEitherSign() ? !isa<arith::ExtSIOp, arith::ExtUIOp>(xa)
                               : (t.dotUnsignedLhs ? !isa<arith::ExtUIOp>(xa)
                                                   : !lhsSigned))
      return false;
    Value x = xa->getOperand(0);
    flip = false;
    if (auto x80 = x.getDefiningOp<arith::XOrIOp>()) {
      if (t.dotTakesEitherSign())
        return false;
      APInt c;
      if (x80.getLhs() != body->getArgument(0) ||
          !matchPattern(x80.getRhs(), m_ConstantInt(&c)) ||
          (c.getZExtValue() & 0xff) != 0x80)
        return false;
      flip = true;
      x = x80.getLhs();
    }
    return x == body->getArgument(0);
  }

  /// The activations [(B,) M, K] as i16 (extsi or extui) in a new buffer:
  /// vpmaddwd's operand, widened once instead of in every panel's pass.
  static Value widenActivations(OpBuilder &b, Location loc, Value a,
                                bool isSigned) {
    auto at = cast<MemRefType>(a.getType());
    int64_t K = at.getShape().back(), rows = at.getNumElements() / K;
    Type i16 = b.getI16Type();
    Value a16 = memref::AllocOp::create(
        b, loc, MemRefType::get(at.getShape(), i16), ValueRange{},
        b.getI64IntegerAttr(64));
    auto flat = [&](Value v) -> Value {
      if (at.getRank() == 2)
        return v;
      ReassociationIndices lead =
          llvm::to_vector(llvm::seq<int64_t>(0, at.getRank() - 1));
      return memref::CollapseShapeOp::create(
          b, loc, v, ArrayRef<ReassociationIndices>{lead, {at.getRank() - 1}});
    };
    Value src = flat(a), dst = flat(a16);
    int64_t chunk = 2;
    for (int64_t c : {16, 8, 4})
      if (K % c == 0) {
        chunk = c;
        break;
      }
    auto c = [&](OpBuilder &nb, int64_t v) {
      return arith::ConstantIndexOp::create(nb, loc, v).getResult();
    };
    scf::ParallelOp::create(
        b, loc, ValueRange{c(b, 0)}, ValueRange{c(b, rows)}, ValueRange{c(b, 1)},
        [&](OpBuilder &nb, Location l, ValueRange iv) {
          scf::ForOp::create(
              nb, l, c(nb, 0), c(nb, K), c(nb, chunk), ValueRange{},
              [&](OpBuilder &fb, Location l, Value k, ValueRange) {
                Value v = vector::LoadOp::create(
                    fb, l, VectorType::get({chunk}, fb.getI8Type()), src,
                    ValueRange{iv[0], k});
                auto wt = VectorType::get({chunk}, i16);
                Value e = isSigned
                              ? (Value)arith::ExtSIOp::create(fb, l, wt, v)
                              : (Value)arith::ExtUIOp::create(fb, l, wt, v);
                vector::StoreOp::create(fb, l, e, dst, ValueRange{iv[0], k});
                scf::YieldOp::create(fb, l);
              });
        });
    return a16;
  }

  /// The u8 x s8 dot on AMX tiles; the init and the epilogue as the
  /// register-tile kernel evaluates them, on 16-lane rows of the output.
  static void emitAmx(OpBuilder &b, Location loc, const Kernel &k) {
    AmxKernelSpec s;
    s.a = k.a;
    s.w = k.w;
    s.out = k.out;
    s.M = k.M;
    s.N = k.N;
    s.K = k.K;
    s.P = k.P;
    s.lhsZext = true;
    s.zeroInit = k.zeroInit;
    s.l2Bytes = k.t.l2Bytes;
    if (k.initGen)
      s.initVec = [&k](OpBuilder &b, Location l, Value m, Value n) {
        vector::StoreOp::create(b, l, k.initVector(b, l, m, n), k.out,
                                ValueRange{m, n});
      };
    if (k.epiGen)
      s.epiVec = [&k, dst = linalg::GenericOp(k.epiGen).getDpsInits()[0]](
                     OpBuilder &b, Location l, Value m, Value n) {
        auto vt = VectorType::get({k.t.lanes()}, b.getI32Type());
        Value acc = vector::LoadOp::create(b, l, vt, k.out, ValueRange{m, n});
        vector::StoreOp::create(b, l, k.rowVector(k.epiGen, b, l, m, n, acc),
                                dst, ValueRange{m, n});
      };
    emitAmxKernel(b, loc, s);
  }

  void lower(linalg::GenericOp op, const TargetDesc &t, bool flip,
             bool lhsSigned) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value a = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    Value out = op.getDpsInits()[0];
    auto ot = cast<MemRefType>(out.getType());
    int64_t nb = ot.getRank() - 2;
    Kernel k{t, a, nullptr, out, nb ? ot.getDimSize(0) : 0,
             ot.getDimSize(nb), ot.getDimSize(nb + 1),
             cast<MemRefType>(a.getType()).getDimSize(nb + 1),
             cast<MemRefType>(w.getType()).getDimSize(nb + 2), flip, false};
    SmallVector<ReassociationIndices> wg;
    for (int64_t d = 0; d < 2 + nb; ++d)
      wg.push_back({d});
    wg.push_back({2 + nb, 3 + nb});
    k.w = memref::CollapseShapeOp::create(b, loc, w, wg);
    Value a16 = t.dot == Int8Dot::Pmaddwd ? widenActivations(b, loc, a, lhsSigned)
                                          : Value();
    if (a16)
      k.a = a16;
    // A zero fill of the output before it (nothing else touching the
    // output in between): start from zero registers and drop the fill.
    for (Operation *p = op->getPrevNode(); p; p = p->getPrevNode()) {
      auto fill = dyn_cast<linalg::FillOp>(p);
      Attribute v;
      if (fill && fill.getDpsInits()[0] == out) {
        auto iv = matchPattern(fill.getDpsInputs()[0], m_Constant(&v))
                      ? dyn_cast<IntegerAttr>(v)
                      : IntegerAttr();
        if (iv && iv.getValue().isZero()) {
          k.zeroInit = true;
          fill.erase();
        }
        break;
      }
      if (llvm::is_contained(p->getOperands(), out))
        break;
    }
    // The output's initial value from an evaluable generic right before
    // (nothing else touching the output in between): the tiles compute it
    // (not for the batched form, nor smmla's 2x2 accumulator layout).
    if (!k.zeroInit && nb == 0 && t.dot != Int8Dot::Smmla)
      for (Operation *p = op->getPrevNode(); p; p = p->getPrevNode()) {
        if (!llvm::is_contained(p->getOperands(), out))
          continue;
        auto g = dyn_cast<linalg::GenericOp>(p);
        if (g && Kernel::evaluableInit(g, out))
          k.initGen = g;
        break;
      }
    // The output's reader right after it: an epilogue, with nothing
    // touching the output or the epilogue's buffer in between, and the
    // output written anew (or freed) before anything reads it again.
    if (nb == 0 && t.dot != Int8Dot::Smmla) {
      auto touches = [](Operation *p, Value v) {
        bool hit = false;
        p->walk([&](Operation *q) {
          hit |= llvm::is_contained(q->getOperands(), v);
        });
        return hit;
      };
      auto next = [&](Operation *from, Value v) -> Operation * {
        for (Operation *p = from->getNextNode(); p; p = p->getNextNode())
          if (touches(p, v))
            return p;
        return nullptr;
      };
      auto epi = dyn_cast_or_null<linalg::GenericOp>(next(op, out));
      bool ok = epi && Kernel::evaluableEpilogue(epi, out);
      if (ok) {
        Value dst = epi.getDpsInits()[0];
        Operation *d = dst.getDefiningOp();
        // Bufferization allocates dst right before the epilogue: an alloc
        // without operands moves up to the kernel.
        auto alloc = dyn_cast_or_null<memref::AllocOp>(d);
        bool movable = alloc && alloc->getNumOperands() == 0 &&
                       alloc->getBlock() == op->getBlock() &&
                       op->isBeforeInBlock(alloc);
        for (Operation *p = op->getNextNode(); p != epi.getOperation();
             p = p->getNextNode())
          ok &= p == d || !touches(p, dst);
        if (d && !movable)
          ok &= d->getBlock() == op->getBlock() && d->isBeforeInBlock(op);
        if (ok && movable)
          alloc->moveBefore(op);
        // What comes next only overwrites (or frees) the output.
        if (Operation *after = next(epi, out)) {
          auto g = dyn_cast<linalg::GenericOp>(after);
          ok &= isa<memref::DeallocOp, linalg::FillOp>(after) ||
                (g && Kernel::evaluableInit(g, out));
          if (auto f = dyn_cast<linalg::FillOp>(after))
            ok &= f.getDpsInits()[0] == out;
        }
      }
      if (ok)
        k.epiGen = epi;
    }
    // AMX for u8 activations and whole tiles: LLVM fixes one shape per tile
    // register and function, so remainder tiles (other shapes) would need
    // functions of their own; those shapes take the register-tile kernel.
    if (t.amxTiles && nb == 0 && !flip && !lhsSigned && k.M % 32 == 0 &&
        k.K % 64 == 0 && k.N % 16 == 0)
      emitAmx(b, loc, k);
    else
      k.emit(b, loc);
    if (a16)
      memref::DeallocOp::create(b, loc, a16);
    if (k.initGen)
      k.initGen.erase();
    if (k.epiGen)
      k.epiGen.erase();
    op.erase();
  }
};

} // namespace
