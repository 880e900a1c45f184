//===- LegacyOps.cpp - pre-opset-7 operand semantics ----------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Before opset 7 the binary arithmetic, comparison and logic ops did not use
// NumPy broadcasting: `broadcast` (default 0) said whether B may be smaller
// than A at all, and `axis` (default: suffix matching) where B's dims line up
// inside A's. Such a node is rewritten here, on its operands, into the
// opset-7 form: B is reshaped to A's rank with size-1 dims around it, after
// which NumPy broadcasting gives exactly the legacy result (shape of A).
//
// `consumed_inputs` (opset 1) was an in-place hint with no effect on values;
// handlers never read it.
//
//===----------------------------------------------------------------------===//
#include "Converter.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

/// Ops whose opset-1/6 versions carry `broadcast`/`axis` for input B.
bool hasLegacyBroadcast(StringRef type) {
  return llvm::is_contained({"Add", "Sub", "Mul", "Div", "Pow", "And", "Or",
                             "Xor", "Equal", "Less", "Greater"},
                            type);
}

void printShape(InFlightDiagnostic &d, ArrayRef<int64_t> s) {
  d << "[";
  llvm::interleave(s, d, "x");
  d << "]";
}

TValue reshapeOperand(Converter &cv, const TValue &v, ArrayRef<int64_t> shape) {
  // Keep constants foldable: reshape them on the host.
  if (auto c = cv.getConst(v)) {
    c->shape.assign(shape.begin(), shape.end());
    return cv.constant(*c);
  }
  return cv.reshape(v, shape);
}

LogicalResult legacyBroadcast(Converter &cv, Node &node) {
  if (node.numInputs() != 2 || !node.has(0) || !node.has(1))
    return success(); // the handler reports it
  const TValue &a = node.in(0);
  TValue b = node.in(1);
  int64_t bc = node.i("broadcast", 0);
  if (bc != 0 && bc != 1)
    return cv.error(node) << "unsupported broadcast=" << bc;
  ArrayRef<int64_t> as = a.shape(), bs = b.shape();
  if (bc == 0) {
    if (as != bs) {
      auto d = cv.error(node) << "operand shapes ";
      printShape(d, as);
      d << " and ";
      printShape(d, bs);
      d << " differ but broadcast=0 (before opset 7 B may only be "
           "broadcast with broadcast=1)";
      return d;
    }
    return success();
  }
  int64_t ra = a.rank(), rb = b.rank();
  SmallVector<int64_t> shape(ra, 1);
  if (b.numElements() != 1) {
    // (A single-element B - scalar, [1], [1,1], ... - applies everywhere,
    // whatever its rank and `axis`: it becomes all-ones of A's rank.)
    if (rb > ra) {
      auto d = cv.error(node) << "B ";
      printShape(d, bs);
      d << " has higher rank than A ";
      printShape(d, as);
      d << " (broadcast=1 broadcasts B onto A)";
      return d;
    }
    int64_t axis = ra - rb; // suffix matching
    if (node.hasAttr("axis")) {
      axis = node.i("axis", 0);
      if (axis < 0)
        axis += ra;
      if (axis < 0 || axis + rb > ra)
        return cv.error(node) << "axis=" << node.i("axis", 0)
                              << " does not place B (rank " << rb
                              << ") inside A (rank " << ra << ")";
    }
    for (int64_t k = 0; k < rb; ++k) {
      if (bs[k] != as[axis + k] && bs[k] != 1) {
        auto d = cv.error(node) << "B ";
        printShape(d, bs);
        d << " does not broadcast onto A ";
        printShape(d, as);
        d << " at axis " << axis;
        return d;
      }
      shape[axis + k] = bs[k];
    }
  }
  node.inputs[1] = reshapeOperand(cv, b, shape);
  return success();
}

/// PRelu-1/6: the slope is either a single value or one per channel (dim 1
/// of X); it becomes a broadcastable [1, C, 1, ...] tensor.
LogicalResult legacyPRelu(Converter &cv, Node &node) {
  if (!node.has(0) || !node.has(1))
    return success();
  const TValue &x = node.in(0);
  TValue s = node.in(1);
  SmallVector<int64_t> shape(x.rank(), 1);
  if (s.numElements() != 1) {
    if (x.rank() < 2 || s.rank() != 1 || s.shape()[0] != x.shape()[1]) {
      auto d = cv.error(node) << "slope ";
      printShape(d, s.shape());
      d << " is neither a single value nor one per channel of X ";
      printShape(d, x.shape());
      return d;
    }
    shape[1] = x.shape()[1];
  }
  node.inputs[1] = reshapeOperand(cv, s, shape);
  return success();
}

} // namespace

LogicalResult mlir::qopt::onnx::applyLegacySemantics(Converter &cv,
                                                     Node &node) {
  if (node.opset >= 7)
    return success();
  if (hasLegacyBroadcast(node.type))
    return legacyBroadcast(cv, node);
  if (node.type == "PRelu")
    return legacyPRelu(cv, node);
  return success();
}
