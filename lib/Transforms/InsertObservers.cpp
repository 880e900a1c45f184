//===- InsertObservers.cpp - calibration probes on quantizable layers ------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// For every qopt.matmul with a constant f32 [K, N] weight (the layers that
// w8a8 quantizes):
//
//   %x' = qopt.observe %x {id = 2i,   label = "<layer>"}
//   %y  = qopt.matmul %x', %W {qopt.layer = "<layer>"}
//   %y' = qopt.observe %y {id = 2i+1, label = "<layer>:output"}
//
// The layer name is `qopt.layer` (set by the importer), else the location
// name, else the weight's name, else "matmul_<i>"; duplicates get a "#k"
// suffix. The name is written back as `qopt.layer` so that the statistics
// (keyed by label) can be attached to the matmul again after calibration.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"
#include "qopt/Transforms/StaticQuant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTINSERTOBSERVERSPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptInsertObserversPass
    : qopt::impl::QOptInsertObserversPassBase<QOptInsertObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    int64_t nextId = 0;
    llvm::StringSet<> labels;
    module.walk([&](ObserveOp o) {
      nextId = std::max(nextId, (int64_t)o.getId() + 1);
      labels.insert(o.getLabel());
    });
    // A label for the layer, its weight, or PREFIX<index>, made unique
    // (#k) and reserved with its ":output" twin.
    auto claimLabel = [&](StringRef layer, StringRef weight, StringRef prefix,
                          int64_t index) {
      std::string name = layer.str();
      if (name.empty())
        name = weight.str();
      if (name.empty())
        name = prefix.str() + std::to_string(index);
      std::string unique = name;
      for (int k = 1; labels.contains(unique); ++k)
        unique = name + "#" + std::to_string(k);
      labels.insert(unique);
      labels.insert(unique + ":output");
      return unique;
    };
    SmallVector<WeightMatMul> todo;
    module.walk([&](MatMulOp op) {
      if (auto m = matchWeightMatMul(op))
        if (!op.getLhs().getDefiningOp<ObserveOp>()) // idempotent
          todo.push_back(*m);
    });
    int64_t index = 0;
    for (WeightMatMul &m : todo) {
      std::string unique = claimLabel(m.layer, m.weightName, "matmul_", index++);
      MatMulOp op = m.op;
      op->setAttr(kLayerAttrName, StringAttr::get(ctx, unique));
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value lhs = op.getLhs();
      auto in = ObserveOp::create(b, loc, lhs.getType(), lhs,
                                  b.getI64IntegerAttr(nextId++),
                                  b.getStringAttr(unique));
      op.getLhsMutable().assign(in.getResult());
      if (observeOutputs) {
        b.setInsertionPointAfter(op);
        Value y = op.getResult();
        auto out = ObserveOp::create(b, loc, y.getType(), y,
                                     b.getI64IntegerAttr(nextId++),
                                     b.getStringAttr(unique + ":output"));
        op.getResult().replaceAllUsesExcept(out.getResult(), out);
      }
    }
    // Convs: observe x before its padding (the padded zeros would skew the
    // histogram; they quantize exactly to the zero point anyway) and the
    // conv's result (N, G, M/G, out...).
    SmallVector<WeightConv> convs;
    module.walk([&](linalg::GenericOp op) {
      if (auto c = matchWeightConv(op))
        convs.push_back(*c);
    });
    index = 0;
    for (WeightConv &c : convs) {
      // x -> [tensor.pad] -> tensor.expand_shape -> the generic.
      OpOperand *use = c.op.getDpsInputOperand(0);
      while (Operation *d = use->get().getDefiningOp()) {
        if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::PadOp>(
                d))
          use = &d->getOpOperand(0);
        else
          break;
      }
      if (use->get().getDefiningOp<ObserveOp>())
        continue; // idempotent
      std::string unique = claimLabel(c.layer, c.weightName, "conv_", index++);
      c.op->setAttr(kLayerAttrName, StringAttr::get(ctx, unique));
      OpBuilder b(use->getOwner());
      Location loc = c.op.getLoc();
      Value x = use->get();
      auto in = ObserveOp::create(b, loc, x.getType(), x,
                                  b.getI64IntegerAttr(nextId++),
                                  b.getStringAttr(unique));
      use->set(in.getResult());
      if (observeOutputs) {
        b.setInsertionPointAfter(c.op);
        Value y = c.op->getResult(0);
        auto out = ObserveOp::create(b, loc, y.getType(), y,
                                     b.getI64IntegerAttr(nextId++),
                                     b.getStringAttr(unique + ":output"));
        y.replaceAllUsesExcept(out.getResult(), out);
      }
    }
  }
};
} // namespace
