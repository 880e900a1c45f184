//===- AmxKernel.cpp - the int8 dot on AMX tiles --------------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// AMX (Sapphire Rapids and later) multiplies 16x64-byte u8/s8 tiles by
// 16x64-byte tiles holding 16 columns x 4 K bytes per row (exactly the VNNI
// pack layout of qopt-pack-qmatmul) into 16x16 i32 tiles: one tdpbusd is
// 16K MACs. Eight tile registers: a 2x2 grid of accumulators, two
// activation and two weight tiles. The K loop is unrolled within a K block
// so no tile value crosses a block boundary (LLVM configures tiles per
// function from constant shapes); between K blocks the accumulators go
// through the i32 output, which the init and epilogue callbacks read and
// write as 16-lane vectors.
//
//===----------------------------------------------------------------------===//
#include "AmxKernel.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

constexpr int64_t kTileRows = 16, kTileBytes = 64, kTileCols = 16;
// 64-byte K steps per unrolled K block: a 32-row block of activations for
// it (16 KiB) stays in L1 while the weight tiles of up to kSuperPairs
// 32-column blocks (L2) pass.
constexpr int64_t kBlockSteps = 8, kSuperPairs = 8;

struct Amx {
  const AmxKernelSpec &s;
  Type i8, i32;

  Value idx(OpBuilder &b, Location l, int64_t v) const {
    return arith::ConstantIndexOp::create(b, l, v);
  }
  Value add(OpBuilder &b, Location l, Value x, int64_t v) const {
    return v ? arith::AddIOp::create(b, l, x, idx(b, l, v)).getResult() : x;
  }

  /// `steps` K steps of `bytes` (64, or the K tail) from byte k0, on the
  /// accumulators of rows `rows` (each <= 16) x `cols` 16-column tiles.
  void steps(OpBuilder &b, Location l, Value m0, Value n0,
             ArrayRef<int64_t> rows, int64_t cols, Value k0, int64_t count,
             int64_t bytes, SmallVector<Value> &acc) const {
    auto wTy = amx::TileType::get({bytes / 4, kTileBytes}, i8);
    for (int64_t st = 0; st < count; ++st) {
      Value k = add(b, l, k0, st * bytes);
      SmallVector<Value> as, ws;
      for (auto [i, r] : llvm::enumerate(rows))
        as.push_back(amx::TileLoadOp::create(
            b, l, amx::TileType::get({r, bytes}, i8), s.a,
            ValueRange{add(b, l, m0, i * kTileRows), k}));
      Value kq = arith::DivUIOp::create(b, l, k, idx(b, l, 4));
      for (int64_t j = 0; j < cols; ++j) {
        Value c = add(b, l, n0, j * kTileCols);
        Value n1 = arith::DivUIOp::create(b, l, c, idx(b, l, s.P));
        Value off = arith::MulIOp::create(
            b, l, arith::RemUIOp::create(b, l, c, idx(b, l, s.P)),
            idx(b, l, 4));
        ws.push_back(
            amx::TileLoadOp::create(b, l, wTy, s.w, ValueRange{n1, kq, off}));
      }
      for (size_t i = 0; i < rows.size(); ++i)
        for (int64_t j = 0; j < cols; ++j) {
          Value &c = acc[i * cols + j];
          c = amx::TileMulIOp::create(b, l, c.getType(), as[i], ws[j], c,
                                      s.lhsZext, false);
        }
    }
  }

  /// The rows x (nPairs blocks of cols tiles) from (m0, nStart) over all
  /// of K: per K block, the column blocks in turn on the same activations.
  void block(OpBuilder &b, Location l, Value m0, Value nStart,
             ArrayRef<int64_t> rows, int64_t cols, int64_t nPairs) const {
    int64_t nRows = 0;
    for (int64_t r : rows)
      nRows += r;
    Value n0 = nStart;
    auto eachVector = [&](OpBuilder &b, Location l,
                          const std::function<void(OpBuilder &, Location,
                                                   Value, Value)> &f) {
      scf::ForOp::create(
          b, l, m0, add(b, l, m0, nRows), idx(b, l, 1), ValueRange{},
          [&](OpBuilder &rb, Location l, Value m, ValueRange) {
            for (int64_t j = 0; j < nPairs * cols; ++j)
              f(rb, l, m, add(rb, l, nStart, j * kTileCols));
            scf::YieldOp::create(rb, l);
          });
    };
    if (s.initVec)
      eachVector(b, l, s.initVec);
    else if (s.zeroInit)
      eachVector(b, l, [&](OpBuilder &b, Location l, Value m, Value n) {
        auto vt = VectorType::get({kTileCols}, i32);
        vector::StoreOp::create(
            b, l,
            arith::ConstantOp::create(b, l, vt, DenseElementsAttr::get(vt, 0)),
            s.out, ValueRange{m, n});
      });
    auto accLoad = [&](OpBuilder &b, Location l) {
      SmallVector<Value> acc;
      for (auto [i, r] : llvm::enumerate(rows))
        for (int64_t j = 0; j < cols; ++j)
          acc.push_back(amx::TileLoadOp::create(
              b, l, amx::TileType::get({r, kTileCols}, i32), s.out,
              ValueRange{add(b, l, m0, i * kTileRows),
                         add(b, l, n0, j * kTileCols)}));
      return acc;
    };
    auto accStore = [&](OpBuilder &b, Location l, ArrayRef<Value> acc) {
      for (size_t i = 0; i < rows.size(); ++i)
        for (int64_t j = 0; j < cols; ++j)
          amx::TileStoreOp::create(
              b, l, s.out,
              ValueRange{add(b, l, m0, i * kTileRows),
                         add(b, l, n0, j * kTileCols)},
              acc[i * cols + j]);
    };
    int64_t full = s.K / kTileBytes, tail = s.K % kTileBytes;
    int64_t blocks = full / kBlockSteps, rest = full % kBlockSteps;
    // One K block (count steps from k0, then the tail) on every column
    // block in turn.
    auto kBlock = [&](OpBuilder &b, Location l, Value k0, int64_t count,
                      bool withTail) {
      scf::ForOp::create(
          b, l, idx(b, l, 0), idx(b, l, nPairs), idx(b, l, 1), ValueRange{},
          [&](OpBuilder &cb, Location l, Value cp, ValueRange) {
            n0 = arith::AddIOp::create(
                cb, l, nStart,
                arith::MulIOp::create(cb, l, cp, idx(cb, l, cols * kTileCols)));
            SmallVector<Value> acc = accLoad(cb, l);
            steps(cb, l, m0, n0, rows, cols, k0, count, kTileBytes, acc);
            if (withTail)
              steps(cb, l, m0, n0, rows, cols, idx(cb, l, full * kTileBytes),
                    1, tail, acc);
            accStore(cb, l, acc);
            scf::YieldOp::create(cb, l);
          });
    };
    if (blocks)
      scf::ForOp::create(
          b, l, idx(b, l, 0), idx(b, l, blocks * kBlockSteps * kTileBytes),
          idx(b, l, kBlockSteps * kTileBytes), ValueRange{},
          [&](OpBuilder &kb, Location l, Value k0, ValueRange) {
            kBlock(kb, l, k0, kBlockSteps, false);
            scf::YieldOp::create(kb, l);
          });
    if (rest || tail)
      kBlock(b, l, idx(b, l, blocks * kBlockSteps * kTileBytes), rest, tail);
    if (s.epiVec)
      eachVector(b, l, s.epiVec);
  }

  /// The 16-row tiles of `count` rows (the last one shorter).
  static SmallVector<int64_t> rowTiles(int64_t count) {
    SmallVector<int64_t> r;
    for (; count > 0; count -= kTileRows)
      r.push_back(std::min(count, kTileRows));
    return r;
  }

  /// scf.parallel over `nBlocks` groups of `nPairs` blocks of `cols`
  /// column tiles from column nBegin and the M blocks; per M block its
  /// 32-row blocks, the M remainder rows after the last block's.
  void columns(OpBuilder &b, Location l, int64_t nBegin, int64_t nBlocks,
               int64_t cols, int64_t nPairs) const {
    if (nBlocks == 0 || nPairs == 0)
      return;
    int64_t pairRows = 2 * kTileRows, pairs = s.M / pairRows;
    int64_t remRows = s.M % pairRows;
    // M blocks of at most half of L2 of activation rows.
    int64_t cap = std::max<int64_t>(1, s.l2Bytes / 2 / (pairRows * s.K));
    int64_t mBlocks = std::max<int64_t>(1, (pairs + cap - 1) / cap);
    int64_t perBlock = std::max<int64_t>(1, (pairs + mBlocks - 1) / mBlocks);
    scf::ParallelOp::create(
        b, l, ValueRange{idx(b, l, 0), idx(b, l, 0)},
        ValueRange{idx(b, l, nBlocks), idx(b, l, mBlocks)},
        ValueRange{idx(b, l, 1), idx(b, l, 1)},
        [&](OpBuilder &pb, Location l, ValueRange iv) {
          Value n0 = add(pb, l,
                         arith::MulIOp::create(
                             pb, l, iv[0], idx(pb, l, nPairs * cols * kTileCols)),
                         nBegin);
          Value lo = arith::MulIOp::create(pb, l, iv[1], idx(pb, l, perBlock));
          Value hi = arith::MinUIOp::create(pb, l, add(pb, l, lo, perBlock),
                                            idx(pb, l, pairs));
          scf::ForOp::create(
              pb, l, lo, hi, idx(pb, l, 1), ValueRange{},
              [&](OpBuilder &rb, Location l, Value p, ValueRange) {
                Value m0 = arith::MulIOp::create(rb, l, p, idx(rb, l, pairRows));
                block(rb, l, m0, n0, {kTileRows, kTileRows}, cols, nPairs);
                scf::YieldOp::create(rb, l);
              });
          if (remRows) {
            Value last = arith::CmpIOp::create(pb, l, arith::CmpIPredicate::eq,
                                               iv[1], idx(pb, l, mBlocks - 1));
            scf::IfOp::create(pb, l, last, [&](OpBuilder &ib, Location l) {
              block(ib, l, idx(ib, l, pairs * pairRows), n0, rowTiles(remRows),
                    cols, nPairs);
              scf::YieldOp::create(ib, l);
            });
          }
        });
  }
};

} // namespace

void mlir::qopt::emitAmxKernel(OpBuilder &b, Location loc,
                               const AmxKernelSpec &s) {
  Amx k{s, b.getI8Type(), b.getI32Type()};
  int64_t colTiles = s.N / kTileCols, pairs = colTiles / 2;
  int64_t per = std::min(pairs, kSuperPairs), groups = per ? pairs / per : 0;
  k.columns(b, loc, 0, groups, 2, per);
  int64_t done = groups * per;
  k.columns(b, loc, done * 2 * kTileCols, pairs - done ? 1 : 0, 2,
            pairs - done);
  k.columns(b, loc, pairs * 2 * kTileCols, colTiles % 2, 1, 1);
}
