//===- GPTQ.cpp - GPTQ weight quantization from calibration Hessians ------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// qopt.matmul(x, W) {qopt.hessian = H}
//   -> qopt.matmul(x, qopt.dequantize(Wq, s, zp))
// with Wq from GPTQ (lib/Transforms/LLMQuant.cpp). The Hessians come from
// the calibration driver; this pass only needs the attributes, so it
// replays from IR.
//
//===----------------------------------------------------------------------===//
#include "qopt/Transforms/Passes.h"

#include "QuantUtils.h"
#include "qopt/Transforms/LLMQuant.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTGPTQPASS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptGPTQPass : qopt::impl::QOptGPTQPassBase<QOptGPTQPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if ((bits != 8 && bits != 4) || (scheme != "sym" && scheme != "asym") ||
        groupSize < 0 || damp < 0 || blockSize < 1) {
      module.emitError("qopt-gptq: bad options (bits 4|8, scheme sym|asym, "
                       "group-size >= 0, damp >= 0, block-size >= 1)");
      return signalPassFailure();
    }
    SmallVector<WeightMatMul> todo = hessianMatMuls(module);
    Builder attrs(&getContext());
    for (WeightMatMul &m : todo) {
      bool ok;
      auto layer = takeHessianLayer(m, bits, "qopt-gptq", ok);
      if (!ok)
        return signalPassFailure();
      if (!layer)
        continue;
      int64_t b = layer->bits;
      const std::vector<float> *w = &layer->w;
      const std::vector<double> *h = &layer->h;
      GPTQOptions o;
      o.grid = {(unsigned)b, scheme == "sym", b == 4 ? groupSize : 0};
      o.actOrder = actOrder;
      o.damp = damp;
      o.blockSize = blockSize;
      o.clipSearch = clip;
      QuantizedWeight rq = rtnQuantize(*w, m.K, m.N, o.grid);
      QuantizedWeight q;
      if (rtn) {
        q = rq;
      } else {
        std::string err;
        if (!gptqQuantize(*w, m.K, m.N, *h, o, q, err)) {
          m.op.emitError("qopt-gptq: layer '") << m.layer << "': " << err;
          return signalPassFailure();
        }
      }
      double sig = outputEnergy(*w, m.K, m.N, *h);
      auto rel = [&](const QuantizedWeight &x) {
        double e = outputError(*w, dequantizeKN(x, m.K, m.N), m.K, m.N, *h);
        return sig > 0 ? e / sig : 0.0;
      };
      m.op->setAttr("qopt.out_err", attrs.getF64FloatAttr(rel(q)));
      m.op->setAttr("qopt.rtn_out_err", attrs.getF64FloatAttr(rel(rq)));
      Value deq = buildDequantizedWeight(m, q, (unsigned)b, /*packInt4=*/false);
      m.op.getRhsMutable().assign(deq);
      m.op->setAttr(kQuantAttrName, attrs.getStringAttr(b == 8 ? "w8" : "w4"));
      if (m.weight->use_empty())
        m.weight->erase();
    }
  }
};
} // namespace
