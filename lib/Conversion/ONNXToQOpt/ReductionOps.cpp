//===- ReductionOps.cpp - ONNX Reduce* and ArgMax/ArgMin ------------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare and
// ArgMax/ArgMin.
//
// Every Reduce* is lowered as   out = post(reduce_{axes}(combine, pre(x)))
// in an accumulator type:
//   * f32/f64: the element type itself (as the ONNX reference does);
//   * f16/bf16: f32 (numpy computes half-precision reductions through float
//     too; accumulating in f16 would lose far more than the reference);
//   * integers: the element type with wrap-around for Sum/Prod/L1/SumSquare/
//     Max/Min, f64 for Mean/L2/LogSum/LogSumExp (numpy's mean/sqrt/log of
//     integers go through float64; the result is truncated back);
//   * bool: only Max (or) and Min (and).
// Mean divides by the element count (a division, not a multiplication by the
// reciprocal, to be bit-compatible with the reference).
//
// Axes come from the `axes` attribute before opset 13 (ReduceSum) / 18 (the
// others) and from the optional second input afterwards; that input must be a
// constant. Empty axes reduce everything unless noop_with_empty_axes is set,
// in which case the input is returned unchanged.
//
// When every input is a (small) constant, the reduction is folded on the host
// with the same accumulation order and types.
//
//===----------------------------------------------------------------------===//
#include "RuntimeOperands.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

enum class Kind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

struct ReduceSpec {
  SmallVector<int64_t> axes; ///< normalized, sorted, unique; empty = none
  bool keepDims = true;
  bool identity = false; ///< noop_with_empty_axes with empty axes
};

/// True for kinds whose integer variants are computed through f64.
bool needsFloatMath(Kind k) {
  return k == Kind::Mean || k == Kind::L2 || k == Kind::LogSum ||
         k == Kind::LogSumExp;
}

/// The accumulator dtype for reducing `dt` with `k`.
DType accDType(Kind k, DType dt) {
  if (dt == DType::F16 || dt == DType::BF16)
    return DType::F32;
  if (isFloat(dt))
    return dt;
  if (needsFloatMath(k))
    return DType::F64;
  return dt;
}

LogicalResult parseAxes(Converter &cv, const Node &node, int64_t rank,
                        ReduceSpec &spec) {
  spec.keepDims = node.i("keepdims", 1) != 0;
  bool axesAsInput = node.type == "ReduceSum" ? node.opset >= 13 : node.opset >= 18;
  SmallVector<int64_t> raw;
  bool noop = false;
  if (node.hasAttr("axes")) {
    raw = node.ints("axes");
  } else if (axesAsInput && node.has(1)) {
    auto ints = cv.getConstInts(node.in(1));
    if (!ints)
      return cv.error(node) << "unsupported non-constant 'axes' input";
    raw = *ints;
  }
  if (axesAsInput)
    noop = node.i("noop_with_empty_axes", 0) != 0;
  if (raw.empty()) {
    if (noop) {
      spec.identity = true;
      return success();
    }
    for (int64_t d = 0; d < rank; ++d)
      spec.axes.push_back(d);
    return success();
  }
  SmallVector<bool> seen(rank, false);
  for (int64_t a : raw) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return cv.error(node) << "axis " << a << " is out of range for rank "
                            << rank;
    seen[*n] = true;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (seen[d])
      spec.axes.push_back(d);
  return success();
}

/// Output shape of reducing `shape` over `axes`.
SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape,
                                  ArrayRef<int64_t> axes, bool keepDims) {
  SmallVector<bool> red(shape.size(), false);
  for (int64_t a : axes)
    red[a] = true;
  SmallVector<int64_t> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!red[d])
      out.push_back(shape[d]);
    else if (keepDims)
      out.push_back(1);
  }
  return out;
}

/// For every element of `shape` (row-major), the row-major index of its image
/// when `axes` are collapsed (keepdims layout == non-keepdims layout).
std::vector<int64_t> outputIndexMap(ArrayRef<int64_t> shape,
                                    ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept(shape);
  for (int64_t a : axes)
    kept[a] = 1;
  SmallVector<int64_t> outStrides = stridesOf(kept);
  for (int64_t a : axes)
    outStrides[a] = 0;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<int64_t> map(n);
  SmallVector<int64_t> idx(shape.size(), 0);
  int64_t o = 0;
  for (int64_t k = 0; k < n; ++k) {
    map[k] = o;
    // Increment the multi-index.
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
      ++idx[d];
      o += outStrides[d];
      if (idx[d] < shape[d])
        break;
      o -= outStrides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}

/// Two's-complement wrap of `v` into integer dtype `dt`.
int64_t wrapTo(DType dt, int64_t v) {
  unsigned w = bitWidth(dt);
  if (dt == DType::Bool)
    return v != 0;
  if (w >= 64)
    return v;
  uint64_t mask = (uint64_t(1) << w) - 1, u = (uint64_t)v & mask;
  if (isSigned(dt) && (u >> (w - 1)))
    return (int64_t)(u | ~mask);
  return (int64_t)u;
}

double roundTo(DType dt, double v) {
  return dt == DType::F32 ? (double)(float)v : v;
}

/// Host folding of a Reduce*; mirrors the emitted IR.
ConstTensor foldReduce(Kind k, const ConstTensor &in, const ReduceSpec &spec) {
  DType dt = in.dt, acc = accDType(k, dt);
  ConstTensor out(dt, reducedShape(in.shape, spec.axes, spec.keepDims));
  int64_t m = out.size();
  std::vector<int64_t> map = outputIndexMap(in.shape, spec.axes);
  if (isFloat(acc)) {
    double init = 0;
    if (k == Kind::Prod) init = 1;
    if (k == Kind::Max) init = -INFINITY;
    if (k == Kind::Min) init = INFINITY;
    std::vector<double> a(m, init);
    for (int64_t e = 0; e < in.size(); ++e) {
      double x = in.getF(e);
      if (isUnsigned(dt) && dt == DType::U64)
        x = (double)(uint64_t)in.i[e];
      double &r = a[map[e]];
      switch (k) {
      case Kind::L1: x = std::fabs(x); break;
      case Kind::L2: case Kind::SumSquare: x = roundTo(acc, x * x); break;
      case Kind::LogSumExp: x = roundTo(acc, std::exp(x)); break;
      default: break;
      }
      switch (k) {
      case Kind::Max:
        r = (std::isnan(x) || std::isnan(r)) ? NAN : std::max(r, x);
        break;
      case Kind::Min:
        r = (std::isnan(x) || std::isnan(r)) ? NAN : std::min(r, x);
        break;
      case Kind::Prod: r = roundTo(acc, r * x); break;
      default: r = roundTo(acc, r + x); break;
      }
    }
    int64_t count = 1;
    for (int64_t ax : spec.axes)
      count *= in.shape[ax];
    for (int64_t o = 0; o < m; ++o) {
      double r = a[o];
      switch (k) {
      case Kind::Mean: r = roundTo(acc, r / (double)count); break;
      case Kind::L2: r = roundTo(acc, std::sqrt(r)); break;
      case Kind::LogSum: case Kind::LogSumExp: r = roundTo(acc, std::log(r)); break;
      default: break;
      }
      out.set(o, r);
    }
    return out;
  }
  // Integer accumulation (wrap-around; uint64 arithmetic avoids UB).
  bool u64 = dt == DType::U64;
  int64_t init = 0;
  unsigned w = bitWidth(dt);
  if (k == Kind::Prod) init = 1;
  if (k == Kind::Max)
    init = dt == DType::Bool || isUnsigned(dt) ? 0
           : w == 64 ? std::numeric_limits<int64_t>::min()
                     : -(int64_t(1) << (w - 1));
  if (k == Kind::Min)
    init = dt == DType::Bool ? 1
           : u64 ? -1
           : isUnsigned(dt) ? (int64_t)((uint64_t(1) << w) - 1)
           : w == 64 ? std::numeric_limits<int64_t>::max()
                     : (int64_t(1) << (w - 1)) - 1;
  std::vector<int64_t> a(m, init);
  for (int64_t e = 0; e < in.size(); ++e) {
    int64_t x = in.i[e];
    int64_t &r = a[map[e]];
    switch (k) {
    case Kind::L1: if (isSigned(dt) && x < 0) x = (int64_t)(0 - (uint64_t)x); break;
    case Kind::SumSquare: x = (int64_t)((uint64_t)x * (uint64_t)x); break;
    default: break;
    }
    switch (k) {
    case Kind::Max:
      r = u64 ? (int64_t)std::max((uint64_t)r, (uint64_t)x) : std::max(r, x);
      break;
    case Kind::Min:
      r = u64 ? (int64_t)std::min((uint64_t)r, (uint64_t)x) : std::min(r, x);
      break;
    case Kind::Prod: r = (int64_t)((uint64_t)r * (uint64_t)x); break;
    default: r = (int64_t)((uint64_t)r + (uint64_t)x); break;
    }
    r = wrapTo(dt, r); // keep it in range so comparisons stay meaningful
  }
  for (int64_t o = 0; o < m; ++o)
    out.setI(o, a[o]);
  return out;
}

Value emitCombine(OpBuilder &b, Location loc, Kind k, DType acc, Value x,
                  Value r) {
  bool f = isFloat(acc);
  switch (k) {
  case Kind::Max:
    if (f) return arith::MaximumFOp::create(b, loc, x, r);
    if (acc == DType::Bool) return arith::OrIOp::create(b, loc, x, r);
    if (isUnsigned(acc)) return arith::MaxUIOp::create(b, loc, x, r);
    return arith::MaxSIOp::create(b, loc, x, r);
  case Kind::Min:
    if (f) return arith::MinimumFOp::create(b, loc, x, r);
    if (acc == DType::Bool) return arith::AndIOp::create(b, loc, x, r);
    if (isUnsigned(acc)) return arith::MinUIOp::create(b, loc, x, r);
    return arith::MinSIOp::create(b, loc, x, r);
  case Kind::Prod:
    if (f) return arith::MulFOp::create(b, loc, r, x);
    return arith::MulIOp::create(b, loc, r, x);
  default:
    if (f) return arith::AddFOp::create(b, loc, r, x);
    return arith::AddIOp::create(b, loc, r, x);
  }
}

/// Initial accumulator value of `k` in `acc`.
Value emitInit(Converter &cv, Kind k, DType acc) {
  Type t = elementType(cv.ctx(), acc);
  if (k == Kind::Prod)
    return cv.scalarOfType(t, 1);
  if (k != Kind::Max && k != Kind::Min)
    return cv.scalarOfType(t, 0);
  bool isMax = k == Kind::Max;
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(
        cv.b, cv.loc, ft,
        FloatAttr::get(ft, APFloat::getInf(ft.getFloatSemantics(), isMax)));
  unsigned w = bitWidth(acc);
  APInt v;
  if (acc == DType::Bool)
    v = APInt(1, isMax ? 0 : 1);
  else if (isUnsigned(acc))
    v = isMax ? APInt::getMinValue(w) : APInt::getMaxValue(w);
  else
    v = isMax ? APInt::getSignedMinValue(w) : APInt::getSignedMaxValue(w);
  return arith::ConstantOp::create(cv.b, cv.loc, t, IntegerAttr::get(t, v));
}

LogicalResult convertReduce(Kind k, Converter &cv, const Node &node,
                            SmallVectorImpl<TValue> &results) {
  if (!node.has(0))
    return cv.error(node) << "missing input";
  const TValue &in = node.in(0);
  DType dt = in.dt;
  if (!isFloat(dt) && !isInteger(dt) &&
      !(dt == DType::Bool && (k == Kind::Max || k == Kind::Min)))
    return cv.error(node) << "unsupported element type " << dtypeName(dt);
  if (node.type == "ReduceSum" && node.opset >= 13 && !node.hasAttr("axes") &&
      node.has(1) && !cv.getConstInts(node.in(1)))
    return convertReduceSumRuntime(cv, node, results);
  ReduceSpec spec;
  if (failed(parseAxes(cv, node, in.rank(), spec)))
    return failure();
  if (spec.identity) {
    results.push_back(in);
    return success();
  }

  if (cv.allConst(node))
    if (auto c = cv.getConst(in)) {
      results.push_back(cv.constant(foldReduce(k, *c, spec)));
      return success();
    }

  DType acc = accDType(k, dt);
  TValue r = cv.reduce(
      in, spec.axes, spec.keepDims, emitInit(cv, k, acc),
      [&](OpBuilder &b, Location loc, Value x, Value r) -> Value {
        x = cv.castScalar(b, loc, x, dt, acc);
        switch (k) {
        case Kind::L1:
          if (isFloat(acc))
            x = math::AbsFOp::create(b, loc, x);
          else if (isSigned(acc))
            x = math::AbsIOp::create(b, loc, x);
          break;
        case Kind::L2:
        case Kind::SumSquare:
          x = isFloat(acc) ? (Value)arith::MulFOp::create(b, loc, x, x)
                           : (Value)arith::MulIOp::create(b, loc, x, x);
          break;
        case Kind::LogSumExp:
          x = math::ExpOp::create(b, loc, x);
          break;
        default:
          break;
        }
        return emitCombine(b, loc, k, acc, x, r);
      });
  r.dt = acc;
  bool hasPost = k == Kind::Mean || k == Kind::L2 || k == Kind::LogSum ||
                 k == Kind::LogSumExp;
  if (!hasPost && acc == dt) {
    results.push_back(r);
    return success();
  }
  Type accTy = elementType(cv.ctx(), acc);
  Value countV;
  if (k == Kind::Mean)
    countV = cv.countOf(in, spec.axes, accTy);
  TValue out = cv.elementwise(
      {r}, dt, [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
        Value v = a[0];
        switch (k) {
        case Kind::Mean: v = arith::DivFOp::create(b, loc, v, countV); break;
        case Kind::L2: v = math::SqrtOp::create(b, loc, v); break;
        case Kind::LogSum:
        case Kind::LogSumExp: v = math::LogOp::create(b, loc, v); break;
        default: break;
        }
        return cv.castScalar(b, loc, v, acc, dt);
      });
  results.push_back(out);
  return success();
}

//===----------------------------------------------------------------------===//
// ArgMax / ArgMin
//===----------------------------------------------------------------------===//

LogicalResult convertArg(bool isMax, Converter &cv, const Node &node,
                         SmallVectorImpl<TValue> &results) {
  if (!node.has(0))
    return cv.error(node) << "missing input";
  const TValue &in = node.in(0);
  DType dt = in.dt;
  if (!isFloat(dt) && !isInteger(dt) && dt != DType::Bool)
    return cv.error(node) << "unsupported element type " << dtypeName(dt);
  int64_t R = in.rank();
  auto axisOpt = normalizeAxis(node.i("axis", 0), std::max<int64_t>(R, 1));
  if (!axisOpt || R == 0)
    return cv.error(node) << "axis " << node.i("axis", 0)
                          << " is out of range for rank " << R;
  int64_t axis = *axisOpt;
  bool keepDims = node.i("keepdims", 1) != 0;
  bool last = node.i("select_last_index", 0) != 0;
  SmallVector<int64_t> outShape = reducedShape(in.shape(), {axis}, keepDims);

  if (cv.allConst(node))
    if (auto c = cv.getConst(in)) {
      ConstTensor out(DType::I64, outShape);
      std::vector<int64_t> map = outputIndexMap(c->shape, {axis});
      std::vector<char> have(out.size(), 0);
      std::vector<double> bestF(out.size());
      std::vector<int64_t> bestI(out.size());
      SmallVector<int64_t> strides = stridesOf(c->shape);
      bool u64 = dt == DType::U64;
      for (int64_t e = 0; e < c->size(); ++e) {
        int64_t o = map[e];
        int64_t idx = (e / strides[axis]) % c->shape[axis];
        bool take;
        if (!have[o]) {
          take = true;
        } else if (c->isFloatData()) {
          double x = c->f[e], b = bestF[o];
          if (std::isnan(x) || std::isnan(b))
            take = last ? std::isnan(x) : (std::isnan(x) && !std::isnan(b));
          else
            take = isMax ? (last ? x >= b : x > b) : (last ? x <= b : x < b);
        } else {
          int64_t x = c->i[e], b = bestI[o];
          bool gt = u64 ? (uint64_t)x > (uint64_t)b : x > b;
          bool lt = u64 ? (uint64_t)x < (uint64_t)b : x < b;
          take = isMax ? (gt || (last && x == b)) : (lt || (last && x == b));
        }
        if (take) {
          have[o] = 1;
          if (c->isFloatData())
            bestF[o] = c->f[e];
          else
            bestI[o] = c->i[e];
          out.setI(o, idx);
        }
      }
      results.push_back(cv.constant(out));
      return success();
    }

  // linalg.generic with two accumulators: the best value and its index.
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  SmallVector<int64_t> redShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < R; ++d) {
    iters.push_back(d == axis ? utils::IteratorType::reduction
                              : utils::IteratorType::parallel);
    if (d != axis) {
      redShape.push_back(in.shape()[d]);
      outExprs.push_back(b.getAffineDimExpr(d));
    }
  }
  Type et = in.elemType();
  Value bestInit = emitInit(cv, isMax ? Kind::Max : Kind::Min, dt);
  Value bestT = linalg::FillOp::create(b, loc, ValueRange{bestInit},
                                       ValueRange{cv.emptyTensor(redShape, et)})
                    .getResult(0);
  Type i64 = b.getI64Type();
  Value zero = cv.scalarOfType(i64, 0);
  Value idxT = linalg::FillOp::create(b, loc, ValueRange{zero},
                                      ValueRange{cv.emptyTensor(redShape, i64)})
                   .getResult(0);
  AffineMap outMap = AffineMap::get(R, 0, outExprs, cv.ctx());
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(R), outMap, outMap};
  bool isF = isFloat(dt), isU = isUnsigned(dt) || dt == DType::Bool;
  auto g = linalg::GenericOp::create(
      b, loc, TypeRange{bestT.getType(), idxT.getType()}, ValueRange{in.v},
      ValueRange{bestT, idxT}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = args[0], best = args[1], bi = args[2];
        Value take;
        if (isF) {
          using P = arith::CmpFPredicate;
          P p = isMax ? (last ? P::OGE : P::OGT) : (last ? P::OLE : P::OLT);
          Value cmp = arith::CmpFOp::create(nb, nl, p, x, best);
          Value xNan = arith::CmpFOp::create(nb, nl, P::UNO, x, x);
          Value nanTake = xNan;
          if (!last) {
            Value bNan = arith::CmpFOp::create(nb, nl, P::UNO, best, best);
            Value one = arith::ConstantOp::create(nb, nl, nb.getI1Type(),
                                                  nb.getBoolAttr(true));
            Value bOk = arith::XOrIOp::create(nb, nl, bNan, one);
            nanTake = arith::AndIOp::create(nb, nl, xNan, bOk);
          }
          take = arith::OrIOp::create(nb, nl, cmp, nanTake);
        } else {
          using P = arith::CmpIPredicate;
          P p = isMax ? (last ? (isU ? P::uge : P::sge) : (isU ? P::ugt : P::sgt))
                      : (last ? (isU ? P::ule : P::sle) : (isU ? P::ult : P::slt));
          take = arith::CmpIOp::create(nb, nl, p, x, best);
        }
        Value idx = arith::IndexCastOp::create(
            nb, nl, nb.getI64Type(), linalg::IndexOp::create(nb, nl, axis));
        Value nb0 = arith::SelectOp::create(nb, nl, take, x, best);
        Value ni = arith::SelectOp::create(nb, nl, take, idx, bi);
        linalg::YieldOp::create(nb, nl, ValueRange{nb0, ni});
      });
  TValue out{g.getResult(1), DType::I64};
  if (keepDims)
    out = cv.reshape(out, outShape);
  results.push_back(out);
  return success();
}

} // namespace

void mlir::qopt::onnx::registerReductionOps(HandlerRegistry &r) {
  struct Entry {
    const char *name;
    Kind kind;
  };
  static const Entry entries[] = {
      {"ReduceSum", Kind::Sum},           {"ReduceMean", Kind::Mean},
      {"ReduceMax", Kind::Max},           {"ReduceMin", Kind::Min},
      {"ReduceProd", Kind::Prod},         {"ReduceL1", Kind::L1},
      {"ReduceL2", Kind::L2},             {"ReduceLogSum", Kind::LogSum},
      {"ReduceLogSumExp", Kind::LogSumExp}, {"ReduceSumSquare", Kind::SumSquare},
  };
  for (const Entry &e : entries) {
    Kind k = e.kind;
    r.add(e.name, [k](Converter &cv, const Node &node,
                      SmallVectorImpl<TValue> &results) {
      return convertReduce(k, cv, node, results);
    });
  }
  r.add("ArgMax", [](Converter &cv, const Node &node,
                     SmallVectorImpl<TValue> &results) {
    return convertArg(true, cv, node, results);
  });
  r.add("ArgMin", [](Converter &cv, const Node &node,
                     SmallVectorImpl<TValue> &results) {
    return convertArg(false, cv, node, results);
  });
}
