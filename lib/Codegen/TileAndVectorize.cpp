//===- TileAndVectorize.cpp - register-tile matmuls and vectorize ---------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"
#include "qopt/Support/DerivedConstant.h"
#include "DynamicScores.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTTILEANDVECTORIZEPASS
#include "qopt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The largest of `candidates` (descending) that divides `dim`, or 0.
int64_t pickDivisor(int64_t dim, ArrayRef<int64_t> candidates) {
  for (int64_t c : candidates)
    if (c > 0 && dim % c == 0)
      return c;
  return 0;
}

SmallVector<OpFoldResult> asOFR(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> out;
  for (int64_t x : v)
    out.push_back(b.getIndexAttr(x));
  return out;
}

/// The packed f32 matmul's loops (see packedTiles).
struct PackedTiles {
  linalg::LinalgOp tile;
  scf::ForallOp forall;
  Value j, kb, ii; // panel, K block offset, row block in the work item
};

struct QOptTileAndVectorizePass
    : qopt::impl::QOptTileAndVectorizePassBase<QOptTileAndVectorizePass> {
  using Base::Base;
  llvm::DenseMap<std::pair<Attribute, int64_t>, ElementsAttr> packedPanels;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> targets;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          op.hasPureTensorSemantics() && op.hasDynamicShape() == false &&
          op->getResult(0).getType() == op.getDpsInits()[0].getType() &&
          (cast<ShapedType>(op->getResult(0).getType()).getElementType().isF32() ||
           cast<ShapedType>(op->getResult(0).getType()).getElementType().isInteger(32)))
        targets.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : targets)
      (void)tileAndVectorize(rewriter, op);
    SmallVector<linalg::GenericOp> scores;
    getOperation().walk([&](linalg::GenericOp op) {
      if (qopt::isDynamicScores(op))
        scores.push_back(op);
    });
    for (linalg::GenericOp op : scores) {
      SmallVector<linalg::MatmulOp> scoreTiles;
      int64_t K = op.getStaticLoopRanges().back();
      if (failed(qopt::splitDynamicScores(rewriter, op, tileM, 16, scoreTiles)))
        continue;
      for (linalg::MatmulOp t : scoreTiles) {
        vectorizeInitFill(rewriter, t.getDpsInits()[0]);
        (void)tileReductionAndVectorize(rewriter, t, /*batched=*/false,
                                        pickDivisor(K, {tileK, 2, 1}));
      }
    }
    SmallVector<linalg::GenericOp> pvs;
    getOperation().walk([&](linalg::GenericOp op) {
      if (qopt::dynamicPVRows(op))
        pvs.push_back(op);
    });
    for (linalg::GenericOp op : pvs) {
      SmallVector<std::pair<linalg::MatmulOp, scf::ForOp>> pvTiles;
      if (succeeded(qopt::splitDynamicPV(rewriter, op, pvTiles)))
        for (auto [mm, loop] : pvTiles) {
          vectorizeInitFill(rewriter, loop.getInitArgs()[0]);
          if (succeeded(vectorizeContraction(rewriter, mm)))
            hoistAccumulator(rewriter, loop);
        }
    }
    SmallVector<linalg::GenericOp> rows, unpacks;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isMinMaxRowReduction(op))
        rows.push_back(op);
      if (unpackInt4Width(op))
        unpacks.push_back(op);
    });
    for (linalg::GenericOp op : unpacks)
      vectorizeUnpackInt4(rewriter, op);
    for (linalg::GenericOp op : rows)
      (void)vectorizeRowReduction(rewriter, op);
    SmallVector<linalg::LinalgOp> elementwise;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (vectorWidth(op) && !initOfInt8Dot(op) && !epilogueOfInt8Dot(op))
        elementwise.push_back(op);
    });
    for (linalg::LinalgOp op : elementwise)
      (void)vectorizeElementwise(rewriter, op);
    SmallVector<linalg::GenericOp> dynamic;
    getOperation().walk([&](linalg::GenericOp op) {
      if (dynamicVectorizable(op))
        dynamic.push_back(op);
    });
    SmallVector<linalg::GenericOp> dynamicRows;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isDynamicRowReduction(op))
        dynamicRows.push_back(op);
    });
    SmallVector<Operation *> tiles;
    for (linalg::GenericOp op : dynamic)
      if (Operation *t = tileDynamic(rewriter, op))
        tiles.push_back(t);
    for (linalg::GenericOp op : dynamicRows)
      if (succeeded(tileDynamicRowReduction(rewriter, op)))
        tiles.push_back(op);
    if (tiles.empty())
      return;
    // The peeled loops' tiles get static types (constant slice sizes, then
    // tensor.cast folded into the linalg op).
    RewritePatternSet canon(&getContext());
    for (RegisteredOperationName n : getContext().getRegisteredOperations())
      n.getCanonicalizationPatterns(canon, &getContext());
    for (Dialect *d : getContext().getLoadedDialects())
      d->getCanonicalizationPatterns(canon);
    (void)applyPatternsGreedily(getOperation(), std::move(canon));
    llvm::SetVector<scf::ForOp> reductionLoops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op->removeAttr(kDynamicTile) || op.hasDynamicShape())
        return;
      rewriter.setInsertionPoint(op);
      auto vec = linalg::vectorize(rewriter, op);
      if (failed(vec))
        return;
      reductionLoops.insert(op->getParentOfType<scf::ForOp>());
      rewriter.replaceOp(op, vec->replacements);
    });
    // A serial reduction loop around a vectorized tile (p·v over the
    // context in decode) carries its accumulator in registers.
    for (scf::ForOp loop : reductionLoops)
      if (loop)
        hoistAccumulator(rewriter, loop);
  }
  static constexpr StringLiteral kDynamicTile = "qopt.dynamic_tile";

  /// Whether the body of `op` has a vector form: arith, and the math ops
  /// that lower to LLVM vector intrinsics or the exp polynomial of
  /// qopt-lower-vectors (erf, tanh, ... are scalar libm calls).
  static bool vectorizableBody(linalg::LinalgOp op) {
    for (Operation &o : op.getBlock()->without_terminator()) {
      Dialect *d = o.getDialect();
      if (!d || !isa<arith::ArithDialect, math::MathDialect>(d) ||
          o.getNumRegions() != 0)
        return false;
      if (isa<math::MathDialect>(d) &&
          !isa<math::ExpOp, math::SqrtOp, math::AbsFOp, math::RoundEvenOp,
               math::FloorOp, math::CeilOp, math::RoundOp, math::FmaOp,
               math::CopySignOp, math::TruncOp>(o))
        return false;
      for (Type t : o.getResultTypes())
        if (!t.isIntOrIndexOrFloat() || t.isIndex())
          return false;
    }
    return true;
  }

  /// A generic over run-time dims (sequence lengths) that vectorizes along
  /// its innermost loop: the innermost loop static and at most 256 wide
  /// (a head dim: attention's q·k dot products and p·v rows; wider when
  /// every loop is parallel, tiled by `innerChunk`), or dynamic
  /// and parallel like every other loop (elementwise ops on attention
  /// scores, as masked vectors). Reductions along a dynamic innermost loop
  /// (softmax's max and sum) stay scalar.
  static bool dynamicVectorizable(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || !op.hasDynamicShape() ||
        op.getNumLoops() < 2 || op.getNumDpsInits() != 1 ||
        !vectorizableBody(op))
      return false;
    for (OpOperand &operand : op->getOpOperands()) {
      auto t = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!t || !t.getElementType().isIntOrFloat() ||
          !op.getMatchingIndexingMap(&operand).isProjectedPermutation(true))
        return false;
    }
    unsigned last = op.getNumLoops() - 1;
    int64_t range = op.getStaticLoopRanges()[last];
    // Dynamic: every operand runs along the innermost loop in its own
    // innermost dim (the tile is then a 1-D row of each), or not at all (a
    // per-row value broadcast along it: softmax's max and sum).
    if (ShapedType::isDynamic(range))
      return op.getNumParallelLoops() == op.getNumLoops() &&
             llvm::all_of(op->getOpOperands(), [&](OpOperand &o) {
               AffineMap m = op.getMatchingIndexingMap(&o);
               AffineExpr d = getAffineDimExpr(last, op.getContext());
               bool broadcast = !m.isFunctionOfDim(last) &&
                                !op.isDpsInit(&o);
               // No i1: a vector<Nxi1> store is bit-packed, i1 memory is
               // a byte per element.
               return !cast<ShapedType>(o.get().getType())
                           .getElementType()
                           .isInteger(1) &&
                      (broadcast || (m.getNumResults() > 0 &&
                                     m.getResults().back() == d));
             });
    if (range > 256)
      return innerChunk(op) != 0;
    return range >= 8;
  }

  /// The innermost tile of an all-parallel generic whose static innermost
  /// loop is wider than a register block (SwiGLU over a 768-wide hidden
  /// dim): a divisor of at most 256 in whole 16- or 8-lane vectors; 0 when
  /// none (or the op has reductions, or its innermost loop is narrow).
  static int64_t innerChunk(linalg::GenericOp op) {
    int64_t range = op.getStaticLoopRanges().back();
    if (ShapedType::isDynamic(range) || range <= 256 ||
        op.getNumParallelLoops() != op.getNumLoops())
      return 0;
    for (int64_t lanes : {16, 8})
      for (int64_t c = 256 / lanes * lanes; c >= 4 * lanes; c -= lanes)
        if (range % c == 0)
          return c;
    return 0;
  }

  /// max/min/sum over a dynamic innermost dim (softmax over a run-time
  /// context) of an elementwise function of one f32 input.
  static bool isDynamicRowReduction(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || !op.hasDynamicShape() ||
        op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
        op.getNumReductionLoops() != 1 || op.getNumLoops() < 2 ||
        !vectorizableBody(op))
      return false;
    auto its = op.getIteratorTypesArray();
    if (its.back() != utils::IteratorType::reduction ||
        !ShapedType::isDynamic(op.getStaticLoopRanges().back()))
      return false;
    auto in = cast<ShapedType>(op.getDpsInputs()[0].getType());
    if (!in.getElementType().isF32() ||
        !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity())
      return false;
    Block *body = op.getBody();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    Operation *red = yield.getValues()[0].getDefiningOp();
    Value acc = body->getArgument(1);
    if (!red || !isa<arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
                     arith::MinNumFOp, arith::AddFOp>(red) ||
        !llvm::is_contained(red->getOperands(), acc))
      return false;
    for (Operation &o : body->without_terminator())
      if (&o != red && llvm::is_contained(o.getOperands(), acc))
        return false;
    return true;
  }

  /// 1-wide tiles over the parallel dims; the row as 16 lane-wise partial
  /// results over 16-wide steps (the partial last step peeled off), then
  /// one 16 -> 1 reduction. The steps and the merge are marked for
  /// vectorization (the sum's order: lane-wise partials, then the 16).
  LogicalResult tileDynamicRowReduction(IRRewriter &rewriter,
                                        linalg::GenericOp op) {
    unsigned n = op.getNumLoops();
    SmallVector<int64_t> outer(n, 1);
    outer.back() = 0;
    scf::SCFTilingOptions o;
    o.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    o.setTileSizes(asOFR(rewriter, outer));
    rewriter.setInsertionPoint(op);
    auto t = scf::tileUsingSCF(rewriter, cast<TilingInterface>(*op), o);
    if (failed(t))
      return failure();
    rewriter.replaceOp(op, t->replacements);
    auto row = cast<PartialReductionOpInterface>(t->tiledOps.back());
    SmallVector<int64_t> inner(n, 0);
    inner.back() = 16;
    rewriter.setInsertionPoint(row);
    auto r = scf::tileReductionUsingScf(rewriter, row,
                                        asOFR(rewriter, inner));
    if (failed(r) || r->loops.empty())
      return failure();
    rewriter.replaceOp(row, r->replacements);
    for (Operation *m : r->mergeOps)
      m->setAttr(kDynamicTile, rewriter.getUnitAttr());
    r->tiledOps.back()->setAttr(kDynamicTile, rewriter.getUnitAttr());
    auto loop = dyn_cast<scf::ForOp>(r->loops.back().getOperation());
    scf::ForOp rest;
    if (!loop || failed(scf::peelForLoopAndSimplifyBounds(rewriter, loop, rest)))
      return failure();
    // The peeled rest is a clone: it keeps a scalar loop.
    rest->walk([](linalg::GenericOp g) { g->removeAttr(kDynamicTile); });
    return success();
  }

  /// Leading parallel loops as an scf.forall of 1-wide tiles, the other
  /// outer loops as scf.for of 1-wide tiles, and the innermost loop whole
  /// (static) or in 16-wide steps with the partial last step peeled off
  /// (dynamic). Returns the main tile, marked for vectorization once
  /// canonicalization has made its shape static (no masks: MLIR 22's masked
  /// vectorization fails on operands that drop a loop).
  Operation *tileDynamic(IRRewriter &rewriter, linalg::GenericOp op) {
    unsigned n = op.getNumLoops(), last = n - 1;
    auto iters = op.getIteratorTypesArray();
    int64_t chunk = innerChunk(op);
    bool dynamicInner = ShapedType::isDynamic(op.getStaticLoopRanges()[last]);
    unsigned prefix = 0;
    while (prefix < last && iters[prefix] == utils::IteratorType::parallel)
      ++prefix;
    // A dot product per output (q·kᵀ scores over a run-time context): the
    // last parallel loop runs serially inside each parallel work item, not
    // one work item per output.
    if (iters[last] == utils::IteratorType::reduction && prefix == last &&
        prefix >= 2)
      --prefix;
    TilingInterface target = cast<TilingInterface>(op.getOperation());
    scf::ForOp innerLoop;
    auto tile = [&](ArrayRef<int64_t> sizes, bool forall) -> LogicalResult {
      if (llvm::all_of(sizes, [](int64_t s) { return s == 0; }))
        return success();
      scf::SCFTilingOptions o;
      if (forall)
        o.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      o.setTileSizes(asOFR(rewriter, sizes));
      rewriter.setInsertionPoint(target);
      auto t = scf::tileUsingSCF(rewriter, target, o);
      if (failed(t))
        return failure();
      rewriter.replaceOp(target, t->replacements);
      target = cast<TilingInterface>(t->tiledOps.back());
      if (!forall && !t->loops.empty())
        innerLoop = dyn_cast<scf::ForOp>(t->loops.back().getOperation());
      return success();
    };
    SmallVector<int64_t> outer(n, 0), middle(n, 0), inner(n, 0);
    for (unsigned i = 0; i < last; ++i)
      (i < prefix ? outer : middle)[i] = 1;
    if (failed(tile(outer, /*forall=*/!op->hasAttr(qopt::kSerialTile))) ||
        failed(tile(middle, /*forall=*/false)))
      return nullptr;
    if (chunk) {
      inner[last] = chunk;
      if (failed(tile(inner, /*forall=*/false)))
        return nullptr;
    } else if (dynamicInner) {
      inner[last] = 16;
      innerLoop = nullptr;
      if (failed(tile(inner, /*forall=*/false)) || !innerLoop)
        return nullptr;
      scf::ForOp rest;
      if (failed(scf::peelForLoopAndSimplifyBounds(rewriter, innerLoop, rest)))
        return nullptr;
    }
    target->setAttr(kDynamicTile, rewriter.getUnitAttr());
    return target;
  }

  /// The bytes per vector step (32, 16, 8; 0: not handled) for the int4
  /// unpack generic of qopt-convert-qopt-to-linalg (marked
  /// `qopt.unpack_int4`): out[e] = nibble e % 2 of in[e / 2], sign-extended,
  /// low nibble first, as `(b << 4) >> 4` and `b >> 4` in i8.
  static int64_t unpackInt4Width(linalg::GenericOp op) {
    if (!op->hasAttr("qopt.unpack_int4") || !op.hasPureTensorSemantics() ||
        op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
        op.getNumLoops() != 1 || op.hasDynamicShape())
      return 0;
    auto in = dyn_cast<RankedTensorType>(op.getDpsInputs()[0].getType());
    auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    MLIRContext *ctx = op.getContext();
    AffineExpr d0 = getAffineDimExpr(0, ctx);
    if (!in || !out || !in.getElementType().isInteger(8) ||
        !out.getElementType().isInteger(8) || in.getRank() != 1 ||
        out.getRank() != 1 || in.getDimSize(0) * 2 != out.getDimSize(0) ||
        op.getMatchingIndexingMap(op.getDpsInputOperand(0)) !=
            AffineMap::get(1, 0, d0.floorDiv(2)) ||
        !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
      return 0;
    // The body still ends in shrsi(shli(in, _), 4) (the marked lowering).
    auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
    auto shr = yield.getValues()[0].getDefiningOp<arith::ShRSIOp>();
    auto shl = shr ? shr.getLhs().getDefiningOp<arith::ShLIOp>() : nullptr;
    if (!shl || shl.getLhs() != op.getBody()->getArgument(0) ||
        getConstantIntValue(shr.getRhs()) != std::optional<int64_t>(4))
      return 0;
    return pickDivisor(in.getDimSize(0), {32, 16, 8});
  }

  /// The unpack as scf.forall over chunks of vb bytes: one transfer_read,
  /// lo = (b << 4) >> 4, hi = b >> 4 (the same i8 operations as the scalar
  /// body), interleaved lo[0], hi[0], lo[1], ... by one vector.shuffle.
  void vectorizeUnpackInt4(IRRewriter &rewriter, linalg::GenericOp op) {
    int64_t vb = unpackInt4Width(op);
    Location loc = op.getLoc();
    Value in = op.getDpsInputs()[0];
    int64_t nb = cast<RankedTensorType>(in.getType()).getDimSize(0);
    Type i8 = rewriter.getI8Type();
    auto bTy = VectorType::get({vb}, i8);
    rewriter.setInsertionPoint(op);
    auto forall = scf::ForallOp::create(
        rewriter, loc, asOFR(rewriter, {nb / vb}),
        ValueRange{op.getDpsInits()[0]}, std::nullopt);
    Block *body = forall.getBody();
    rewriter.setInsertionPointToStart(body);
    Value c = body->getArgument(0), out = body->getArgument(1);
    Value off = arith::MulIOp::create(
        rewriter, loc, c, arith::ConstantIndexOp::create(rewriter, loc, vb));
    Value off2 = arith::MulIOp::create(
        rewriter, loc, c,
        arith::ConstantIndexOp::create(rewriter, loc, 2 * vb));
    Value pad = arith::ConstantOp::create(rewriter, loc, i8,
                                          rewriter.getI8IntegerAttr(0));
    Value b = vector::TransferReadOp::create(
        rewriter, loc, bTy, in, ValueRange{off}, pad,
        ArrayRef<bool>{true});
    Value four = arith::ConstantOp::create(
        rewriter, loc, bTy, DenseElementsAttr::get(bTy, rewriter.getI8IntegerAttr(4)));
    Value lo = arith::ShRSIOp::create(
        rewriter, loc, arith::ShLIOp::create(rewriter, loc, b, four), four);
    Value hi = arith::ShRSIOp::create(rewriter, loc, b, four);
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < vb; ++i)
      mask.append({i, vb + i});
    Value v = vector::ShuffleOp::create(rewriter, loc, lo, hi, mask);
    auto sTy = RankedTensorType::get({2 * vb}, i8);
    OpFoldResult one = rewriter.getIndexAttr(1);
    SmallVector<OpFoldResult> offs = {off2}, szs = {rewriter.getIndexAttr(2 * vb)},
                              sts = {one};
    Value slice =
        tensor::ExtractSliceOp::create(rewriter, loc, sTy, out, offs, szs, sts);
    Value w = vector::TransferWriteOp::create(
                  rewriter, loc, v, slice,
                  ValueRange{arith::ConstantIndexOp::create(rewriter, loc, 0)},
                  ArrayRef<bool>{true})
                  .getResult();
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc, w, out, offs, szs, sts);
    rewriter.replaceOp(op, forall.getResults());
  }

  /// A 2-D generic whose only use is the accumulator init of an int8 dot
  /// (the zero-point compensation of qopt-pack-qmatmul): left for
  /// qopt-lower-ukernels to evaluate in the microkernel's registers.
  static bool initOfInt8Dot(linalg::LinalgOp op) {
    if (op->getNumResults() != 1 || !op->getResult(0).hasOneUse() ||
        op.getNumLoops() != 2)
      return false;
    OpOperand &use = *op->getResult(0).getUses().begin();
    auto dot = dyn_cast<linalg::GenericOp>(use.getOwner());
    auto kind = dot ? dot->getAttrOfType<StringAttr>("qopt.ukernel") : nullptr;
    return kind && kind.getValue() == "int8_dot" && dot.isDpsInit(&use);
  }

  /// A 2-D elementwise generic reading an int8 dot's i32 result (its only
  /// use, identity map) into f32: the dequantization, left for
  /// qopt-lower-ukernels to apply to the microkernel's accumulators. Not for
  /// smmla's packed layout (K groups of 8), whose kernel has no epilogue.
  static bool epilogueOfInt8Dot(linalg::LinalgOp op) {
    auto g = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!g || g.getNumLoops() != 2 || g.getNumParallelLoops() != 2 ||
        g.getNumDpsInits() != 1 ||
        !getElementTypeOrSelf(g->getResult(0).getType()).isF32())
      return false;
    for (OpOperand *in : g.getDpsInputOperands()) {
      auto dot = in->get().getDefiningOp<linalg::GenericOp>();
      auto kind = dot ? dot->getAttrOfType<StringAttr>("qopt.ukernel") : nullptr;
      if (!kind || kind.getValue() != "int8_dot" || !in->get().hasOneUse() ||
          !g.getMatchingIndexingMap(in).isIdentity())
        continue;
      auto w = dyn_cast<RankedTensorType>(dot.getDpsInputs()[1].getType());
      return w && w.getRank() == 4 && w.getShape().back() == 4;
    }
    return false;
  }

  /// The vector width (16, 8 or 0: not handled) for an all-parallel
  /// elementwise generic or transpose over static shapes whose operands are
  /// contiguous (or broadcast) along the innermost loop: e.g. RMSNorm's
  /// scaling, RoPE, softmax's exp and divide, SiLU*mul, the dynamic
  /// quantization and dequantization. Otherwise these become scalar loops
  /// (and scalar libm calls for exp).
  static int64_t vectorWidth(linalg::LinalgOp op) {
    if (!isa<linalg::GenericOp, linalg::TransposeOp>(op) ||
        !op.hasPureTensorSemantics() || op.hasDynamicShape() ||
        op.getNumLoops() < 1 || op.getNumParallelLoops() != op.getNumLoops())
      return 0;
    int64_t last = op.getNumLoops() - 1;
    int64_t n = op.getStaticLoopRanges()[last];
    int64_t vw = n % 16 == 0 ? 16 : n % 8 == 0 ? 8 : 0;
    if (!vw)
      return 0;
    if (!vectorizableBody(op))
      return 0;
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap m = op.getMatchingIndexingMap(&operand);
      if (!m.isProjectedPermutation(/*allowZeroInResults=*/true))
        return 0;
      if (op.isDpsInit(&operand) && !m.isIdentity())
        return 0;
      // The innermost loop is either absent (broadcast) or the operand's
      // innermost dim (a contiguous vector load).
      for (unsigned r = 0; r < m.getNumResults(); ++r)
        if (m.getResult(r).isFunctionOfDim(last) && r + 1 != m.getNumResults())
          return 0;
    }
    return vw;
  }

  /// scf.forall over the outer dims (one row per iteration), scf.for over
  /// the innermost dim in steps of the vector width, vectorized tile.
  LogicalResult vectorizeElementwise(IRRewriter &rewriter,
                                     linalg::LinalgOp op) {
    int64_t vw = vectorWidth(op);
    unsigned n = op.getNumLoops();
    TilingInterface target = cast<TilingInterface>(op.getOperation());
    if (n > 1) {
      SmallVector<int64_t> outer(n, 1);
      outer.back() = 0;
      scf::SCFTilingOptions o1;
      o1.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      o1.setTileSizes(asOFR(rewriter, outer));
      rewriter.setInsertionPoint(op);
      auto t1 = scf::tileUsingSCF(rewriter, target, o1);
      if (failed(t1))
        return failure();
      rewriter.replaceOp(op, t1->replacements);
      target = cast<TilingInterface>(t1->tiledOps.back());
    }
    SmallVector<int64_t> inner(n, 0);
    inner.back() = vw;
    scf::SCFTilingOptions o2;
    o2.setTileSizes(asOFR(rewriter, inner));
    rewriter.setInsertionPoint(target);
    auto t2 = scf::tileUsingSCF(rewriter, target, o2);
    if (failed(t2))
      return failure();
    rewriter.replaceOp(target, t2->replacements);
    Operation *tile = t2->tiledOps.back();
    rewriter.setInsertionPoint(tile);
    auto vec = linalg::vectorize(rewriter, tile);
    if (failed(vec))
      return failure(); // the tiled scalar loop stays, still correct
    rewriter.replaceOp(tile, vec->replacements);
    return success();
  }

  /// out[p...] = max/min/sum over the innermost dim of f(in[p..., k]) (f
  /// elementwise, e.g. |x| or x*x): min/max are exact in any order. A sum
  /// is reassociated in a fixed order: 16 lane-wise partial sums over the
  /// 16-wide chunks, then an ordered vector.reduction of the 16 (LLVM's
  /// sequential vector.reduce.fadd, no reassoc flag), so the result is the
  /// same on every target and vector width, but not the scalar loop's
  /// left-to-right sum (a few ulp on RMSNorm's and softmax's sums). The scalar loop is what these
  /// become otherwise, with the accumulator stored to memory every step
  /// (e.g. the dynamic activation quantization's min/max, softmax's max).
  static bool isMinMaxRowReduction(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || op.hasDynamicShape() ||
        op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
        op.getNumReductionLoops() != 1 || op.getNumLoops() < 2)
      return false;
    auto its = op.getIteratorTypesArray();
    if (its.back() != utils::IteratorType::reduction)
      return false;
    auto in = cast<ShapedType>(op.getDpsInputs()[0].getType());
    if (!in.getElementType().isF32() ||
        !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity())
      return false;
    int64_t K = in.getShape().back();
    if (K < 16 || K > 8192)
      return false;
    Block *body = op.getBody();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    Operation *red = yield.getValues()[0].getDefiningOp();
    if (!red || !isa<arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
                     arith::MinNumFOp, arith::AddFOp>(red))
      return false;
    // The accumulator only feeds the combiner; the rest is elementwise on
    // the input (|x|, or a fused producer such as RMSNorm's x*x).
    Value acc = body->getArgument(1);
    if (!llvm::is_contained(red->getOperands(), acc))
      return false;
    for (Operation &o : body->without_terminator())
      if (&o != red &&
          (!isa<arith::ArithDialect, math::MathDialect>(o.getDialect()) ||
           llvm::is_contained(o.getOperands(), acc)))
        return false;
    return true;
  }

  /// Tiles the parallel dims to 1 (scf.forall) and vectorizes the row:
  /// transfer_read of K elements + one vector.reduction.
  LogicalResult vectorizeRowReduction(IRRewriter &rewriter,
                                      linalg::GenericOp op) {
    SmallVector<int64_t> sizes(op.getNumLoops(), 1);
    sizes.back() = 0;
    scf::SCFTilingOptions o;
    o.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    o.setTileSizes(asOFR(rewriter, sizes));
    rewriter.setInsertionPoint(op);
    auto t = scf::tileUsingSCF(rewriter, cast<TilingInterface>(*op), o);
    if (failed(t))
      return failure();
    rewriter.replaceOp(op, t->replacements);
    Operation *tile = t->tiledOps.back();
    Operation *loop = tile->getParentOp();
    rewriter.setInsertionPoint(tile);
    auto vec = linalg::vectorize(rewriter, tile);
    if (failed(vec))
      return failure();
    rewriter.replaceOp(tile, vec->replacements);
    // The 1 x K multi_reduction as a flat vector.reduction (lowered to
    // LLVM's vector reduce intrinsics), not InnerParallel's K scalar steps.
    loop->walk([&](vector::MultiDimReductionOp r) {
      auto st = r.getSourceVectorType();
      int64_t n = st.getNumElements();
      rewriter.setInsertionPoint(r);
      Location loc = r.getLoc();
      Value flat = vector::ShapeCastOp::create(
          rewriter, loc, VectorType::get({n}, st.getElementType()),
          r.getSource());
      Value acc = r.getAcc();
      Type accTy = acc.getType();
      Value scalarAcc = acc;
      if (auto vt = dyn_cast<VectorType>(accTy))
        scalarAcc = vector::ExtractOp::create(
            rewriter, loc, acc, SmallVector<int64_t>(vt.getRank(), 0));
      // A sum: 16 lane-wise partial sums over the row's 16-wide chunks
      // (in chunk order), then those 16 in lane order. A fixed order, the
      // same on every target (the chunks are a 16-lane vector type whatever
      // the register width), instead of n dependent scalar additions.
      if (r.getKind() == vector::CombiningKind::ADD && n % 16 == 0 && n > 16) {
        auto chunk = [&](int64_t i) -> Value {
          return vector::ExtractStridedSliceOp::create(
              rewriter, loc, flat, ArrayRef<int64_t>{16 * i},
              ArrayRef<int64_t>{16}, ArrayRef<int64_t>{1});
        };
        Value part = chunk(0);
        for (int64_t i = 1; i < n / 16; ++i)
          part = arith::AddFOp::create(rewriter, loc, part, chunk(i));
        flat = part;
      }
      Value red = vector::ReductionOp::create(rewriter, loc, r.getKind(), flat,
                                              scalarAcc);
      Value res = isa<VectorType>(accTy)
                      ? (Value)vector::BroadcastOp::create(rewriter, loc,
                                                           accTy, red)
                      : red;
      rewriter.replaceOp(r, res);
    });
    return success();
  }

  LogicalResult tileAndVectorize(IRRewriter &rewriter, linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    bool batched = ranges.size() == 4;
    int64_t M = ranges[batched ? 1 : 0], N = ranges[batched ? 2 : 1],
            K = ranges[batched ? 3 : 2];
    int64_t tm = pickDivisor(M, {tileM, 4, 2, 1});
    int64_t tn = pickDivisor(N, {tileN, 16, 8});
    int64_t tk = pickDivisor(K, {tileK, 2, 1});
    if (!tm || !tn || !tk)
      return failure(); // left to the scalar loops

    // Constant weights: packed into column panels, the forall over panels
    // outermost (see packedTiles).
    // (f32 weights only: the i32 products of the portable int8 path keep
    // the generic tiling.)
    // Panels of pn columns (panel-n) and pm = 256 / pn rows per tile:
    // 16 zmm accumulators either way, but 4x64 issues 8 loads per 16 FMAs
    // where 8x32 issues 10 (in-L1 loops on this Xeon: 4x64 ~170 GFLOP/s,
    // 8x32 ~151, of a 178 peak).
    int64_t pn = pickDivisor(N, {panelN, tileN, 16, 8});
    int64_t pm = pn ? pickDivisor(M, {std::max<int64_t>(256 / pn, 1), 4, 2, 1})
                    : 0;
    if (!batched && isa<linalg::MatmulOp>(op) && pn && pm &&
        getElementTypeOrSelf(op.getDpsInputs()[1].getType()).isF32()) {
      Operation *w = op.getDpsInputs()[1].getDefiningOp();
      // pack-weights=0 leaves constants as they are; the rebuilt producer
      // reads its constants unchanged (expand_shape views).
      Value panels = packWeights ? packConstantPanels(rewriter, op, K, N, pn)
                                 : Value();
      if (!panels)
        panels = packProducerPanels(rewriter, op, K, N, pn);
      if (panels) {
        int64_t nb = M / pm;
        // K blocks of kc rows: a kc x pn panel block (32 KiB) stays in L1
        // while the g row blocks of a work item pass over it (each tile
        // otherwise streams its whole panel from L2: 4 lines per 8 FMA
        // cycles). Work items: (panels, groups of g row blocks), at least
        // 8 where the row blocks allow.
        int64_t kcT = std::max<int64_t>(32768 / (pn * 4), 4 * tk);
        int64_t kc = K * pn * 4 > 32768
                         ? pickDivisor(K, {kcT, kcT / 2, kcT / 4})
                         : K;
        if (!kc || kc % tk)
          kc = K;
        int64_t d = 1;
        while (d < nb && ((N / pn) * d < 8 || nb % d))
          ++d;
        int64_t g = nb / d;
        PackedTiles pt =
            packedTiles(rewriter, op, panels, M, N, K, pm, pn, kc, g);
        if (w && isOpTriviallyDead(w)) // the unpacked weights
          rewriter.eraseOp(w);
        FailureOr<scf::ForOp> kLoop = tileReductionAndVectorize(
            rewriter, pt.tile, /*batched=*/false, tk);
        if (failed(kLoop))
          return failure();
        if (prefetch && *kLoop)
          prefetchNextBlock(rewriter, pt, *kLoop, panels, K, kc, g, tk);
        return success();
      }
    }

    // Level 1: parallel register tiles (scf.forall -> OpenMP later).
    SmallVector<int64_t> outer = batched ? SmallVector<int64_t>{1, tm, tn, 0}
                                         : SmallVector<int64_t>{tm, tn, 0};
    scf::SCFTilingOptions o1;
    o1.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    o1.setTileSizes(asOFR(rewriter, outer));
    rewriter.setInsertionPoint(op);
    auto t1 = scf::tileUsingSCF(rewriter, cast<TilingInterface>(*op), o1);
    if (failed(t1))
      return failure();
    rewriter.replaceOp(op, t1->replacements);
    return tileReductionAndVectorize(
        rewriter, cast<linalg::LinalgOp>(t1->tiledOps.back()), batched, tk);
  }

  /// Software prefetch of the next panel block (the kc x tn block after
  /// this one in the contiguous panels: the next K block of this panel, or
  /// the first of the next panel), spread over the K loops of the work
  /// item's g row blocks: iteration kk of row block ii prefetches line
  /// ((ii * kc/tk + kk) * p + q) * L / (g * kc/tk * p), q < p, of it (L
  /// lines per block, p per iteration). The hardware prefetcher only runs
  /// a few lines ahead, so the first row block of every block otherwise
  /// waits for it from L3/DRAM (the weights are read once per run: 16 MiB
  /// for K = N = 2048). Only where the block is reused by enough row
  /// blocks that p <= 2 (not for GEMV-like M, which stream).
  void prefetchNextBlock(IRRewriter &rewriter, const PackedTiles &pt,
                         scf::ForOp loop, Value panels, int64_t K, int64_t kc,
                         int64_t g, int64_t tk) {
    auto pty = cast<RankedTensorType>(panels.getType());
    int64_t np = pty.getDimSize(0), tn = pty.getDimSize(2);
    int64_t lineFloats = 16; // 64-byte lines
    if ((kc * tn) % lineFloats || np * K / kc < 2)
      return;
    int64_t lines = kc * tn / lineFloats, iters = g * (kc / tk);
    int64_t p = (lines + iters - 1) / iters;
    if (p > 2)
      return;
    Location loc = loop.getLoc();
    rewriter.setInsertionPoint(pt.forall);
    auto mty = MemRefType::get(pty.getShape(), pty.getElementType());
    Value buf = bufferization::ToBufferOp::create(rewriter, loc, mty, panels,
                                                  /*read_only=*/true);
    rewriter.setInsertionPointToStart(loop.getBody());
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, v);
    };
    auto mul = [&](Value a, int64_t c) -> Value {
      return arith::MulIOp::create(rewriter, loc, a, cst(c));
    };
    auto add = [&](Value a, Value b) -> Value {
      return arith::AddIOp::create(rewriter, loc, a, b);
    };
    auto div = [&](Value a, int64_t c) -> Value {
      return arith::DivUIOp::create(rewriter, loc, a, cst(c));
    };
    auto rem = [&](Value a, int64_t c) -> Value {
      return arith::RemUIOp::create(rewriter, loc, a, cst(c));
    };
    // Flat float offset of the next block: (j * K + kb + kc) * tn; the
    // last block prefetches the panels' last line (no out-of-range index).
    Value next = mul(add(add(mul(pt.j, K), pt.kb), cst(kc)), tn);
    Value gi = add(mul(pt.ii, kc / tk), div(loop.getInductionVar(), tk));
    for (int64_t q = 0; q < p; ++q) {
      Value line = div(mul(add(mul(gi, p), cst(q)), lines), iters * p);
      Value flat = arith::MinUIOp::create(rewriter, loc,
                                          add(next, mul(line, lineFloats)),
                                          cst(np * K * tn - lineFloats));
      Value jj = div(flat, K * tn), row = div(rem(flat, K * tn), tn),
            col = rem(flat, tn);
      memref::PrefetchOp::create(rewriter, loc, buf, ValueRange{jj, row, col},
                                 /*isWrite=*/false, prefetchLocality,
                                 /*isDataCache=*/true);
    }
  }

  /// A constant f32 weight W[K, N] as column panels P[N/tn, K, tn]
  /// (P[j][k][l] = W[k][j*tn + l]), or null. A tile's K loop then reads one
  /// contiguous K x tn panel (prefetch-friendly, a few pages) instead of
  /// K rows of tn floats N*4 bytes apart (one page each, every row a TLB
  /// miss).
  Value packConstantPanels(IRRewriter &rewriter, linalg::LinalgOp op,
                           int64_t K, int64_t N, int64_t tn) {
    Value w = op.getDpsInputs()[1];
    Attribute attr;
    if (!matchPattern(w, m_Constant(&attr)))
      return {};
    bool splat;
    ArrayRef<char> raw = qopt::rawConstantBytes(
        attr, Float32Type::get(attr.getContext()), splat);
    if (splat || (int64_t)raw.size() != K * N * 4)
      return {}; // a splat weight is rare; the generic tiling handles it
    // One packing per weight: qopt-specialize-dynamic-rows gives a weight
    // several static matmuls (M == 1, chunks, the padded rest).
    ElementsAttr &cached = packedPanels[{attr, tn}];
    if (cached) {
      rewriter.setInsertionPoint(op);
      return arith::ConstantOp::create(rewriter, op.getLoc(),
                                       cast<TypedAttr>(cached));
    }
    const float *src = reinterpret_cast<const float *>(raw.data());
    std::vector<float> packed(K * N);
    size_t i = 0;
    for (int64_t j = 0; j < N / tn; ++j)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t l = 0; l < tn; ++l)
          packed[i++] = src[k * N + j * tn + l];
    auto pty = RankedTensorType::get({N / tn, K, tn}, rewriter.getF32Type());
    ElementsAttr pattr =
        qopt::derivedConstantAttr(pty, ArrayRef<float>(packed), attr, ".panels");
    cached = pattr;
    rewriter.setInsertionPoint(op);
    return arith::ConstantOp::create(rewriter, op.getLoc(),
                                     cast<TypedAttr>(pattr));
  }

  /// A weight computed by an elementwise generic (the w8/w4 weight-only
  /// dequantization, W[k][n] = f(q[k][n], scale[n])) used only by this
  /// matmul: the generic writes the panels P[N/tn, K, tn] directly, over
  /// loops (j, k, l) with n = j*tn + l (its operands indexed by n are
  /// expanded to [N/tn, tn], a free reshape), so the panels cost nothing
  /// more than the dequantization did. Otherwise null.
  Value packProducerPanels(IRRewriter &rewriter, linalg::LinalgOp op,
                           int64_t K, int64_t N, int64_t tn) {
    Value w = op.getDpsInputs()[1];
    auto g = w.getDefiningOp<linalg::GenericOp>();
    if (!g || !w.hasOneUse() || !g.hasPureTensorSemantics() ||
        g.getNumDpsInits() != 1 || g.getNumResults() != 1 ||
        g.getNumLoops() != 2 || g.getNumParallelLoops() != 2 ||
        !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity() ||
        !g.getBody()->getOps<linalg::IndexOp>().empty())
      return {};
    MLIRContext *ctx = rewriter.getContext();
    Location loc = g.getLoc();
    // Operand dims indexed by n must be exactly n (expanded to (j, l));
    // the others may be any function of k (e.g. a group scale's k / 128).
    auto dimIsN = [](AffineExpr e) {
      auto d = dyn_cast<AffineDimExpr>(e);
      return d && d.getPosition() == 1;
    };
    auto dimIsK = [](AffineExpr e) {
      auto d = dyn_cast<AffineDimExpr>(e);
      return d && d.getPosition() == 0;
    };
    // A group scale `k floordiv G` (G dividing K): K is split into (kg, kr),
    // k = kg * G + kr, so that every map is a projected permutation (the
    // scale is indexed by kg) and the generic vectorizes along l.
    auto groupOf = [&](AffineExpr e) -> int64_t {
      auto bin = dyn_cast<AffineBinaryOpExpr>(e);
      if (!bin || bin.getKind() != AffineExprKind::FloorDiv ||
          !dimIsK(bin.getLHS()))
        return 0;
      auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
      return c ? c.getValue() : 0;
    };
    int64_t G = 0;
    bool splitOk = true;
    for (OpOperand *in : g.getDpsInputOperands()) {
      AffineMap m = g.getMatchingIndexingMap(in);
      if (!isa<RankedTensorType>(in->get().getType()) || m.getNumSymbols())
        return {};
      for (AffineExpr e : m.getResults()) {
        if (!dimIsN(e) && e.isFunctionOfDim(1))
          return {};
        if (dimIsN(e) || dimIsK(e) || !e.isFunctionOfDim(0))
          continue;
        int64_t gs = groupOf(e);
        if (gs > 1 && gs < K && K % gs == 0 && (!G || G == gs))
          G = gs;
        else
          splitOk = false;
      }
    }
    bool split = G && splitOk;
    // Loops (j, k, l), or (j, kg, kr, l) when split.
    unsigned nd = split ? 4 : 3;
    AffineExpr j = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx),
               l = getAffineDimExpr(nd - 1, ctx);
    AffineExpr kr = split ? getAffineDimExpr(2, ctx) : AffineExpr();
    rewriter.setInsertionPoint(g);
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    for (OpOperand *in : g.getDpsInputOperands()) {
      AffineMap m = g.getMatchingIndexingMap(in);
      auto t = cast<RankedTensorType>(in->get().getType());
      SmallVector<int64_t> shape;
      SmallVector<AffineExpr> exprs;
      SmallVector<ReassociationIndices> groups;
      bool expand = false;
      for (auto [r, e] : llvm::enumerate(m.getResults())) {
        int64_t first = shape.size();
        if (dimIsN(e)) { // n -> (j, l)
          shape.append({N / tn, tn});
          exprs.append({j, l});
          groups.push_back({first, first + 1});
          expand = true;
        } else if (split && dimIsK(e)) { // k -> (kg, kr)
          shape.append({K / G, G});
          exprs.append({k, kr});
          groups.push_back({first, first + 1});
          expand = true;
        } else if (split && e.isFunctionOfDim(0)) { // k floordiv G -> kg
          shape.push_back(t.getDimSize(r));
          exprs.push_back(k);
          groups.push_back({first});
        } else { // f(k), or a constant index
          shape.push_back(t.getDimSize(r));
          exprs.push_back(e.replaceDims({k, l}));
          groups.push_back({first});
        }
      }
      Value v = in->get();
      if (expand)
        v = tensor::ExpandShapeOp::create(
            rewriter, loc, RankedTensorType::get(shape, t.getElementType()),
            v, groups);
      ins.push_back(v);
      maps.push_back(AffineMap::get(nd, 0, exprs, ctx));
    }
    Type f32 = rewriter.getF32Type();
    SmallVector<int64_t> pshape = {N / tn, K, tn};
    SmallVector<int64_t> gshape =
        split ? SmallVector<int64_t>{N / tn, K / G, G, tn} : pshape;
    maps.push_back(AffineMap::getMultiDimIdentityMap(nd, ctx));
    Value init = tensor::EmptyOp::create(rewriter, loc, gshape, f32);
    auto packed = linalg::GenericOp::create(
        rewriter, loc, TypeRange{RankedTensorType::get(gshape, f32)}, ins,
        ValueRange{init}, maps,
        SmallVector<utils::IteratorType>(nd, utils::IteratorType::parallel));
    rewriter.cloneRegionBefore(g.getRegion(), packed.getRegion(),
                               packed.getRegion().end());
    if (!split)
      return packed.getResult(0);
    // [N/tn, K/G, G, tn] -> [N/tn, K, tn]: the same buffer.
    return tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get(pshape, f32), packed.getResult(0),
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});
  }

  /// scf.forall (j, ig) over (N/tn panels, groups of g row blocks of tm
  /// rows), panels outermost, each iteration scf.for over K blocks of kc
  /// and inside it over the group's g row blocks: a tm x kc x tn
  /// linalg.matmul on the panel block, accumulating into the output tile
  /// (the K order per element is unchanged: bit-identical to one K loop).
  /// A panel (K x tn floats) stays in L2 while every row block passes over
  /// it, and a kc x tn block of it in L1 while the group does; B is read
  /// from memory once (the (i, j) order re-reads all of B for every row
  /// block).
  PackedTiles packedTiles(IRRewriter &rewriter, linalg::LinalgOp op,
                          Value panels, int64_t M, int64_t N, int64_t K,
                          int64_t tm, int64_t tn, int64_t kc, int64_t g) {
    Location loc = op.getLoc();
    Value a = op.getDpsInputs()[0], init = op.getDpsInits()[0];
    int64_t nb = M / tm;
    rewriter.setInsertionPoint(op);
    auto forall = scf::ForallOp::create(
        rewriter, loc, asOFR(rewriter, {N / tn, nb / g}), ValueRange{init},
        std::nullopt);
    Block *body = forall.getBody();
    rewriter.setInsertionPointToStart(body);
    Value j = body->getArgument(0), ig = body->getArgument(1);
    Value out = body->getArgument(2);
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, v);
    };
    auto mul = [&](Value v, int64_t c) -> Value {
      return arith::MulIOp::create(rewriter, loc, v, cst(c));
    };
    Value r0 = mul(ig, g * tm), n0 = mul(j, tn);
    OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);
    auto sz = [&](int64_t v) -> OpFoldResult { return rewriter.getIndexAttr(v); };
    Type f32 = rewriter.getF32Type();
    auto aTy = RankedTensorType::get({tm, kc}, f32);
    auto bTy = RankedTensorType::get({kc, tn}, f32);
    auto cTy = RankedTensorType::get({tm, tn}, f32);
    auto sTy = RankedTensorType::get({g * tm, tn}, f32);
    SmallVector<OpFoldResult> sOff = {r0, n0}, sSz = {sz(g * tm), sz(tn)},
                              st = {one, one};
    Value strip =
        tensor::ExtractSliceOp::create(rewriter, loc, sTy, out, sOff, sSz, st);
    PackedTiles pt;
    pt.forall = forall;
    pt.j = j;
    auto kbLoop = scf::ForOp::create(
        rewriter, loc, cst(0), cst(K), cst(kc), ValueRange{strip},
        [&](OpBuilder &b, Location l, Value kb, ValueRange kArgs) {
          auto iLoop = scf::ForOp::create(
              b, l, cst(0), cst(g), cst(1), kArgs,
              [&](OpBuilder &b2, Location l2, Value ii, ValueRange iArgs) {
                Value rowInStrip = arith::MulIOp::create(
                    b2, l2, ii, arith::ConstantIndexOp::create(b2, l2, tm));
                Value row = arith::AddIOp::create(b2, l2, r0, rowInStrip);
                Value as = tensor::ExtractSliceOp::create(
                    b2, l2, aTy, a, SmallVector<OpFoldResult>{row, kb},
                    SmallVector<OpFoldResult>{sz(tm), sz(kc)}, st);
                Value bs = tensor::ExtractSliceOp::create(
                    b2, l2, bTy, panels,
                    SmallVector<OpFoldResult>{j, kb, zero},
                    SmallVector<OpFoldResult>{one, sz(kc), sz(tn)},
                    SmallVector<OpFoldResult>{one, one, one});
                SmallVector<OpFoldResult> cOff = {rowInStrip, zero},
                                          cSz = {sz(tm), sz(tn)};
                Value cs = tensor::ExtractSliceOp::create(
                    b2, l2, cTy, iArgs[0], cOff, cSz, st);
                auto mm = linalg::MatmulOp::create(
                    b2, l2, TypeRange{cTy}, ValueRange{as, bs}, ValueRange{cs});
                Value upd = tensor::InsertSliceOp::create(
                    b2, l2, mm.getResult(0), iArgs[0], cOff, cSz, st);
                scf::YieldOp::create(b2, l2, upd);
                pt.tile = cast<linalg::LinalgOp>(mm.getOperation());
                pt.ii = ii;
              });
          scf::YieldOp::create(b, l, iLoop.getResults());
          pt.kb = kb;
        });
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc, kbLoop.getResult(0),
                                          out, sOff, sSz, st);
    rewriter.replaceOp(op, forall.getResults());
    return pt;
  }

  /// A static contraction tile (or fill) as vector ops.
  static LogicalResult vectorizeContraction(IRRewriter &rewriter,
                                            Operation *tile) {
    rewriter.setInsertionPoint(tile);
    auto vec = linalg::vectorize(rewriter, tile, /*inputVectorSizes=*/{},
                                 /*inputScalableVecDims=*/{},
                                 /*vectorizeNDExtract=*/false,
                                 /*flatten1DDepthwiseConv=*/false,
                                 /*assumeDynamicDimsMatchVecSizes=*/false,
                                 /*createNamedContraction=*/true);
    if (failed(vec))
      return failure();
    rewriter.replaceOp(tile, vec->replacements);
    return success();
  }

  /// The static fill that makes an accumulator tile `init`, as a vector
  /// store (linalg.fill would lower to a scalar loop).
  static void vectorizeInitFill(IRRewriter &rewriter, Value init) {
    if (auto fill = init.getDefiningOp<linalg::FillOp>())
      if (!fill.hasDynamicShape())
        (void)vectorizeContraction(rewriter, fill);
  }

  /// The accumulator tile's transfer_read/transfer_write pair out of the
  /// loop that carries it: it becomes a vector iter_arg (registers). After
  /// bufferization linalg's hoisting would refuse (the C tile is a subview,
  /// which may alias the weights view), leaving 16 zmm stores per step.
  static LoopLikeOpInterface hoistAccumulator(IRRewriter &rewriter,
                                              LoopLikeOpInterface loop) {
    moveLoopInvariantCode(loop);
    return hoistLoopInvariantSubsets(rewriter, loop);
  }

  /// Level 2: the reduction in steps of tk (scf.for with the accumulator
  /// tile as iter_arg), then the tile's vector.contract. Returns the K
  /// loop (null when K is one step).
  FailureOr<scf::ForOp> tileReductionAndVectorize(IRRewriter &rewriter,
                                          linalg::LinalgOp innerOp,
                                          bool batched, int64_t tk) {
    auto inner = cast<TilingInterface>(innerOp.getOperation());
    SmallVector<int64_t> red = batched ? SmallVector<int64_t>{0, 0, 0, tk}
                                       : SmallVector<int64_t>{0, 0, tk};
    scf::SCFTilingOptions o2;
    o2.setTileSizes(asOFR(rewriter, red));
    rewriter.setInsertionPoint(inner);
    auto t2 = scf::tileUsingSCF(rewriter, inner, o2);
    if (failed(t2))
      return failure();
    rewriter.replaceOp(inner, t2->replacements);

    if (failed(vectorizeContraction(rewriter, t2->tiledOps.back())))
      return failure();
    if (t2->loops.empty())
      return scf::ForOp();
    LoopLikeOpInterface hoisted =
        hoistAccumulator(rewriter, t2->loops.front());
    return dyn_cast<scf::ForOp>(hoisted.getOperation());
  }
};

} // namespace
