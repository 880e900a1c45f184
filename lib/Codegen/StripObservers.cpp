//===- StripObservers.cpp - remove calibration probes ----------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Codegen/Passes.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSTRIPOBSERVERSPASS
#include "qopt/Codegen/Passes.h.inc"

namespace {
struct QOptStripObserversPass
    : impl::QOptStripObserversPassBase<QOptStripObserversPass> {
  void runOnOperation() override {
    SmallVector<ObserveOp> probes;
    getOperation()->walk([&](ObserveOp op) { probes.push_back(op); });
    for (ObserveOp op : probes) {
      op.getResult().replaceAllUsesWith(op.getInput());
      op.erase();
    }
  }
};
} // namespace
} // namespace mlir::qopt
