//===- QuantizeWeights.cpp - weight-only RTN quantization ------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.matmul(x, W: f32 [K, N] constant)
//   -> qopt.matmul(x, qopt.dequantize(Wq: i8 [K, N], s, zp))
// int8 per output channel (axis 1) or int4 per group of K rows (axis 0,
// block_size). Activations stay f32.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEWEIGHTSPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptQuantizeWeightsPass
    : qopt::impl::QOptQuantizeWeightsPassBase<QOptQuantizeWeightsPass> {
  using Base::Base;

  /// The pass's bits, or the layer's own `qopt.weight_bits` (4 / 8 / 32,
  /// chosen by --mixed-precision).
  int64_t layerBits(Operation *op) {
    if (auto a = op->getAttrOfType<IntegerAttr>(kWeightBitsAttrName)) {
      int64_t b = a.getInt();
      if (b == 4 || b == 8 || b == 32)
        return b;
    }
    return bits;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (bits != 8 && bits != 4) {
      module.emitError("qopt-quantize-weights: bits must be 8 or 4, got ")
          << (int64_t)bits;
      return signalPassFailure();
    }
    if (scheme != "sym" && scheme != "asym") {
      module.emitError("qopt-quantize-weights: scheme must be sym or asym, "
                       "got '")
          << scheme << "'";
      return signalPassFailure();
    }
    if (groupSize < 0) {
      module.emitError("qopt-quantize-weights: group-size must be >= 0");
      return signalPassFailure();
    }
    ExcludeFilter filter;
    std::string err;
    if (failed(filter.init(exclude, err))) {
      module.emitError("qopt-quantize-weights: bad exclude regex '")
          << exclude << "': " << err;
      return signalPassFailure();
    }
    SmallVector<WeightMatMul> todo;
    module.walk([&](MatMulOp op) {
      if (auto m = matchWeightMatMul(op))
        if (!filter.excludes(*m) && layerBits(op) != 32)
          todo.push_back(*m);
    });
    // One quantized weight per constant, shared by its matmuls.
    llvm::DenseMap<Operation *, Value> done;
    bool sym = scheme == "sym";
    for (WeightMatMul &m : todo) {
      int64_t bits = layerBits(m.op);
      std::string tag = bits == 8 ? "w8" : "w4";
      Value &deq = done[m.weight];
      if (!deq) {
        auto data = readF32(m.weight.getValue());
        if (!data) {
          m.weight.emitError("qopt-quantize-weights: cannot read the data of "
                             "weight '")
              << m.weightName << "'";
          return signalPassFailure();
        }
        int64_t gs = bits == 4 ? groupSize : 0;
        QuantizedWeight q =
            quantizeWeightKN(*data, m.K, m.N, bits, sym, gs);
        deq = buildDequantizedWeight(m, q, bits, packInt4);
      }
      m.op.getRhsMutable().assign(deq);
      m.op->setAttr(kQuantAttrName, StringAttr::get(&getContext(), tag));
    }
    // Convs: the filter [M, K] per output channel (w8), or in groups along
    // K = C/G * prod(kernel) when group-size divides it (w4).
    SmallVector<WeightConv> convs;
    module.walk([&](linalg::GenericOp op) {
      if (auto c = matchWeightConv(op))
        if (!filter.excludes(c->layer, c->weightName))
          convs.push_back(*c);
    });
    for (WeightConv &c : convs) {
      auto data = readF32(c.weight.getValue());
      if (!data) {
        c.weight.emitError("qopt-quantize-weights: cannot read the data of "
                           "filter '")
            << c.weightName << "'";
        return signalPassFailure();
      }
      QuantizedFilter q = quantizeFilter(*data, c.M, c.K, bits, sym,
                                         bits == 4 ? groupSize : 0);
      OpBuilder b(c.op);
      dequantizeFilter(b, c, q, bits, packInt4);
      c.op->setAttr(kQuantAttrName,
                    StringAttr::get(&getContext(), bits == 8 ? "w8" : "w4"));
      done.try_emplace(c.weight);
    }
    for (auto &[op, v] : done)
      if (op->use_empty())
        op->erase();
  }
};
} // namespace
