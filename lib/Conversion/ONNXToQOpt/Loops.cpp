//===- Loops.cpp - scf loop helpers for the data-dependent ONNX ops -------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "Loops.h"
#include "RuntimeOperands.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

SmallVector<Value> onnx::loopNest(OpBuilder &b, Location loc,
                                  ArrayRef<Value> ubs, ValueRange iters,
                                  LoopBody body) {
  if (ubs.empty())
    return body(b, loc, {}, iters);
  Value zero = idxConst(b, loc, 0), one = idxConst(b, loc, 1);
  SmallVector<Value> lbs(ubs.size(), zero), steps(ubs.size(), one);
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange args) {
        return scf::ValueVector(body(nb, nl, ivs, args));
      });
  return SmallVector<Value>(nest.results.begin(), nest.results.end());
}

SmallVector<Value> onnx::ifThenElse(
    OpBuilder &b, Location loc, Value cond,
    function_ref<SmallVector<Value>(OpBuilder &, Location)> thenFn,
    function_ref<SmallVector<Value>(OpBuilder &, Location)> elseFn) {
  auto op = scf::IfOp::create(
      b, loc, cond,
      [&](OpBuilder &nb, Location nl) {
        scf::YieldOp::create(nb, nl, thenFn(nb, nl));
      },
      [&](OpBuilder &nb, Location nl) {
        scf::YieldOp::create(nb, nl, elseFn(nb, nl));
      });
  return SmallVector<Value>(op.getResults().begin(), op.getResults().end());
}

Value onnx::idxConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value onnx::wrapIndex(OpBuilder &b, Location l, Value x, Value dim,
                      Value *inRange) {
  Value i = x.getType().isIndex()
                ? x
                : arith::IndexCastOp::create(b, l, b.getIndexType(), x)
                      .getResult();
  Value zero = idxConst(b, l, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  i = arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, dim),
                              i);
  if (inRange) {
    Value ge = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, zero);
    Value lt = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, dim);
    *inRange = arith::AndIOp::create(b, l, ge, lt);
  }
  return i;
}

Value onnx::clampIndex(OpBuilder &b, Location l, Value x, Value dim) {
  Value i = wrapIndex(b, l, x, dim);
  Value zero = idxConst(b, l, 0);
  Value last = arith::MaxSIOp::create(
      b, l, arith::SubIOp::create(b, l, dim, idxConst(b, l, 1)), zero);
  return arith::MinSIOp::create(b, l, arith::MaxSIOp::create(b, l, i, zero),
                                last);
}

Value onnx::lessThan(OpBuilder &b, Location l, Value x, Value y, DType dt) {
  if (isFloat(dt)) {
    // x < y, or y is NaN and x is not.
    Value lt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, y);
    Value xNum = arith::CmpFOp::create(b, l, arith::CmpFPredicate::ORD, x, x);
    Value yNaN = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, y, y);
    return arith::OrIOp::create(b, l, lt,
                                arith::AndIOp::create(b, l, xNum, yNaN));
  }
  auto p = isUnsigned(dt) || dt == DType::Bool ? arith::CmpIPredicate::ult
                                               : arith::CmpIPredicate::slt;
  return arith::CmpIOp::create(b, l, p, x, y);
}

Value onnx::equalTo(OpBuilder &b, Location l, Value x, Value y, DType dt) {
  if (isFloat(dt)) {
    Value eq = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, y);
    Value xNaN = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
    Value yNaN = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, y, y);
    return arith::OrIOp::create(b, l, eq,
                                arith::AndIOp::create(b, l, xNaN, yNaN));
  }
  return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x, y);
}

SmallVector<Value> onnx::dimValues(Converter &cv, const TValue &v) {
  SmallVector<Value> out;
  for (OpFoldResult d : cv.dims(v))
    out.push_back(cv.indexValue(d));
  return out;
}

TValue onnx::freshCopy(Converter &cv, const TValue &v) {
  Value src = v.v;
  return indexGenericDims(
      cv, cv.dims(v), v.dt, {}, {},
      [&](OpBuilder &b, Location l, ValueRange o, ValueRange) -> Value {
        return tensor::ExtractOp::create(b, l, src, o);
      });
}
