//===- ElementwiseOps.cpp - unary/binary/variadic ONNX math ---------------===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Every op here is a scalar body applied with NumPy broadcasting through
// Converter::elementwise. Each also has a host evaluator so that small
// constant expressions (shape arithmetic, masks) fold at compile time.
//
//===----------------------------------------------------------------------===//
#include "Converter.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

using Emit1 = std::function<Value(OpBuilder &, Location, Value)>;
using Emit2 = std::function<Value(OpBuilder &, Location, Value, Value)>;
using HostF1 = std::function<double(double)>;
using HostF2 = std::function<double(double, double)>;
using HostI2 = std::function<int64_t(int64_t, int64_t)>;

Value fconst(OpBuilder &b, Location l, Type t, double v) {
  return arith::ConstantOp::create(b, l, t, b.getFloatAttr(t, v));
}
Value iconst(OpBuilder &b, Location l, Type t, int64_t v) {
  return arith::ConstantOp::create(b, l, t, b.getIntegerAttr(t, v));
}

/// Output linear index -> input linear index under NumPy broadcasting.
int64_t broadcastIndex(int64_t k, ArrayRef<int64_t> outShape,
                       ArrayRef<int64_t> inShape) {
  int64_t idx = 0, stride = 1;
  int64_t R = outShape.size(), r = inShape.size();
  for (int64_t d = R - 1; d >= 0; --d) {
    int64_t od = k % outShape[d];
    k /= outShape[d];
    int64_t j = d - (R - r);
    if (j >= 0) {
      if (inShape[j] != 1)
        idx += od * stride;
      stride *= inShape[j];
    }
  }
  return idx;
}

LogicalResult checkSameDType(Converter &cv, const Node &node,
                             ArrayRef<TValue> ins) {
  for (const TValue &v : ins)
    if (v.dt != ins[0].dt)
      return cv.error(node) << "operands have different element types ("
                            << dtypeName(ins[0].dt) << " vs "
                            << dtypeName(v.dt) << ")";
  return success();
}

std::optional<SmallVector<int64_t>> broadcastAll(ArrayRef<TValue> ins) {
  SmallVector<int64_t> shape;
  for (const TValue &v : ins) {
    auto s = broadcastShapes(shape, v.shape());
    if (!s)
      return std::nullopt;
    shape = *s;
  }
  return shape;
}

/// Shared driver: checks, folds on the host when possible, else emits.
LogicalResult
emitNary(Converter &cv, const Node &node, ArrayRef<TValue> ins, DType outDt,
         SmallVectorImpl<TValue> &results,
         function_ref<Value(OpBuilder &, Location, ValueRange)> emit,
         function_ref<void(ConstTensor &, int64_t, ArrayRef<const ConstTensor *>,
                           ArrayRef<int64_t>)>
             host) {
  SmallVector<OpFoldResult> dims;
  for (const TValue &v : ins) {
    auto d = broadcastDims(dims, cv.dims(v));
    if (!d) {
      auto diag = cv.error(node) << "operand shapes do not broadcast:";
      for (const TValue &v : ins) {
        diag << " [";
        llvm::interleave(v.shape(), diag, "x");
        diag << "]";
      }
      return diag;
    }
    dims = *d;
  }
  if (ShapedType::isDynamicShape(staticShape(dims)) ||
      llvm::any_of(ins, [&](const TValue &v) { return cv.isDynamic(v); })) {
    results.push_back(cv.elementwiseToDims(ins, dims, outDt, emit));
    return success();
  }
  auto shape = broadcastAll(ins);
  assert(shape && "static shapes broadcast as their dims do");
  if (host) {
    SmallVector<std::optional<ConstTensor>> cs;
    bool ok = true;
    int64_t outN = 1;
    for (int64_t d : *shape)
      outN *= d;
    for (const TValue &v : ins) {
      cs.push_back(cv.getConst(v));
      ok &= cs.back().has_value();
    }
    if (ok && outN <= Converter::kFoldLimit) {
      ConstTensor out(outDt, *shape);
      SmallVector<const ConstTensor *> ptrs;
      for (auto &c : cs)
        ptrs.push_back(&*c);
      SmallVector<int64_t> idx(ins.size());
      for (int64_t k = 0; k < outN; ++k) {
        for (size_t a = 0; a < ins.size(); ++a)
          idx[a] = broadcastIndex(k, *shape, ins[a].shape());
        host(out, k, ptrs, idx);
      }
      results.push_back(cv.constant(out));
      return success();
    }
  }
  // Run-time shape values (elements of Shape(x) and what is computed from
  // them): the same scalar body on each element, no tensor loop.
  int64_t outN = 1;
  for (int64_t d : *shape)
    outN *= d;
  if (outN <= 64 && llvm::any_of(ins, [&](const TValue &v) {
        return cv.hasElements(v);
      })) {
    SmallVector<SmallVector<Value>> es;
    for (const TValue &v : ins)
      if (auto e = cv.elements(v))
        es.push_back(*e);
    if (es.size() == ins.size()) {
      SmallVector<Value> out;
      SmallVector<Value> args(ins.size());
      for (int64_t k = 0; k < outN; ++k) {
        for (size_t a = 0; a < ins.size(); ++a)
          args[a] = es[a][broadcastIndex(k, *shape, ins[a].shape())];
        out.push_back(emit(cv.b, cv.loc, args));
      }
      results.push_back(cv.fromElements(out, *shape, outDt));
      return success();
    }
  }
  results.push_back(cv.elementwiseTo(ins, *shape, outDt, emit));
  return success();
}

//===----------------------------------------------------------------------===//
// Binary arithmetic
//===----------------------------------------------------------------------===//

struct BinaryDef {
  std::function<Value(OpBuilder &, Location, Value, Value, DType)> emit;
  HostF2 hostF;                 // float semantics (may be null)
  HostI2 hostI;                 // integer semantics (may be null)
  bool allowFloat = true, allowInt = true;
};

LogicalResult convertBinary(Converter &cv, const Node &node,
                            SmallVectorImpl<TValue> &results,
                            const BinaryDef &def) {
  if (node.numInputs() != 2 || !node.has(0) || !node.has(1))
    return cv.error(node) << "expects 2 inputs";
  TValue a = node.in(0), b = node.in(1);
  if (failed(checkSameDType(cv, node, {a, b})))
    return failure();
  DType dt = a.dt;
  bool fl = isFloat(dt);
  if ((fl && !def.allowFloat) || (!fl && !def.allowInt) || dt == DType::Bool)
    return cv.error(node) << "unsupported element type " << dtypeName(dt);
  return emitNary(
      cv, node, {a, b}, dt, results,
      [&](OpBuilder &nb, Location nl, ValueRange s) {
        return def.emit(nb, nl, s[0], s[1], dt);
      },
      [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
          ArrayRef<int64_t> idx) {
        if (fl)
          out.set(k, def.hostF(in[0]->f[idx[0]], in[1]->f[idx[1]]));
        else
          out.setI(k, def.hostI(in[0]->i[idx[0]], in[1]->i[idx[1]]));
      });
}

/// Integer division with ONNX/C semantics: truncation toward zero.
int64_t hostDiv(int64_t a, int64_t b) { return b == 0 ? 0 : a / b; }

Value emitDiv(OpBuilder &b, Location l, Value x, Value y, DType dt) {
  if (isFloat(dt))
    return arith::DivFOp::create(b, l, x, y);
  if (isUnsigned(dt))
    return arith::DivUIOp::create(b, l, x, y);
  return arith::DivSIOp::create(b, l, x, y);
}

Value emitPowF(OpBuilder &b, Location l, Value x, Value y) {
  return math::PowFOp::create(b, l, x, y);
}

//===----------------------------------------------------------------------===//
// Comparisons and logic
//===----------------------------------------------------------------------===//

enum class Cmp { EQ, LT, LE, GT, GE };

LogicalResult convertCompare(Converter &cv, const Node &node,
                             SmallVectorImpl<TValue> &results, Cmp c) {
  if (node.numInputs() != 2 || !node.has(0) || !node.has(1))
    return cv.error(node) << "expects 2 inputs";
  TValue a = node.in(0), b = node.in(1);
  if (failed(checkSameDType(cv, node, {a, b})))
    return failure();
  DType dt = a.dt;
  return emitNary(
      cv, node, {a, b}, DType::Bool, results,
      [&](OpBuilder &nb, Location nl, ValueRange s) -> Value {
        if (isFloat(dt)) {
          arith::CmpFPredicate p[] = {
              arith::CmpFPredicate::OEQ, arith::CmpFPredicate::OLT,
              arith::CmpFPredicate::OLE, arith::CmpFPredicate::OGT,
              arith::CmpFPredicate::OGE};
          return arith::CmpFOp::create(nb, nl, p[(int)c], s[0], s[1]);
        }
        bool u = isUnsigned(dt) || dt == DType::Bool;
        arith::CmpIPredicate p[] = {
            arith::CmpIPredicate::eq,
            u ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt,
            u ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle,
            u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
            u ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge};
        return arith::CmpIOp::create(nb, nl, p[(int)c], s[0], s[1]);
      },
      [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
          ArrayRef<int64_t> idx) {
        double x = in[0]->getF(idx[0]), y = in[1]->getF(idx[1]);
        if (!isFloat(dt)) {
          int64_t xi = in[0]->i[idx[0]], yi = in[1]->i[idx[1]];
          bool r = c == Cmp::EQ ? xi == yi : c == Cmp::LT ? xi < yi
                   : c == Cmp::LE ? xi <= yi : c == Cmp::GT ? xi > yi : xi >= yi;
          if (isUnsigned(dt)) {
            uint64_t xu = xi, yu = yi;
            r = c == Cmp::EQ ? xu == yu : c == Cmp::LT ? xu < yu
                : c == Cmp::LE ? xu <= yu : c == Cmp::GT ? xu > yu : xu >= yu;
          }
          out.setI(k, r);
          return;
        }
        bool r = c == Cmp::EQ ? x == y : c == Cmp::LT ? x < y
                 : c == Cmp::LE ? x <= y : c == Cmp::GT ? x > y : x >= y;
        out.setI(k, r);
      });
}

enum class Logic { And, Or, Xor };

LogicalResult convertLogic(Converter &cv, const Node &node,
                           SmallVectorImpl<TValue> &results, Logic op) {
  if (node.numInputs() != 2 || !node.has(0) || !node.has(1))
    return cv.error(node) << "expects 2 inputs";
  TValue a = node.in(0), b = node.in(1);
  if (a.dt != DType::Bool || b.dt != DType::Bool)
    return cv.error(node) << "expects bool operands";
  return emitNary(
      cv, node, {a, b}, DType::Bool, results,
      [&](OpBuilder &nb, Location nl, ValueRange s) -> Value {
        if (op == Logic::And) return arith::AndIOp::create(nb, nl, s[0], s[1]);
        if (op == Logic::Or) return arith::OrIOp::create(nb, nl, s[0], s[1]);
        return arith::XOrIOp::create(nb, nl, s[0], s[1]);
      },
      [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
          ArrayRef<int64_t> idx) {
        bool x = in[0]->i[idx[0]], y = in[1]->i[idx[1]];
        out.setI(k, op == Logic::And ? (x && y) : op == Logic::Or ? (x || y)
                                                                  : (x != y));
      });
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// `emitF` builds the float body, `emitI` the integer body (null: floats
/// only); `host` folds floats (ints go through double too).
LogicalResult convertUnary(
    Converter &cv, const Node &node, SmallVectorImpl<TValue> &results,
    std::function<Value(OpBuilder &, Location, Value)> emitF,
    std::function<Value(OpBuilder &, Location, Value, DType)> emitI,
    HostF1 host) {
  if (node.numInputs() < 1 || !node.has(0))
    return cv.error(node) << "expects 1 input";
  TValue x = node.in(0);
  DType dt = x.dt;
  if (dt == DType::Bool || (!isFloat(dt) && !emitI))
    return cv.error(node) << "unsupported element type " << dtypeName(dt);
  std::function<void(ConstTensor &, int64_t, ArrayRef<const ConstTensor *>,
                     ArrayRef<int64_t>)>
      fold;
  if (host)
    fold = [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
               ArrayRef<int64_t> idx) { out.set(k, host(in[0]->getF(idx[0]))); };
  return emitNary(
      cv, node, {x}, dt, results,
      [&](OpBuilder &nb, Location nl, ValueRange s) -> Value {
        return isFloat(dt) ? emitF(nb, nl, s[0]) : emitI(nb, nl, s[0], dt);
      },
      fold ? function_ref<void(ConstTensor &, int64_t,
                               ArrayRef<const ConstTensor *>, ArrayRef<int64_t>)>(fold)
           : nullptr);
}

Value expOf(OpBuilder &b, Location l, Value x) { return math::ExpOp::create(b, l, x); }

Value sigmoid(OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  Value one = fconst(b, l, t, 1.0);
  Value e = expOf(b, l, arith::NegFOp::create(b, l, x));
  return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
}

Value clampF(OpBuilder &b, Location l, Value x, double lo, double hi) {
  Type t = x.getType();
  x = arith::MaximumFOp::create(b, l, x, fconst(b, l, t, lo));
  return arith::MinimumFOp::create(b, l, x, fconst(b, l, t, hi));
}

double hostSigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void registerBinary(HandlerRegistry &r, StringRef name, BinaryDef def) {
  r.add(name, [def](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertBinary(cv, n, res, def);
  });
}

void registerUnaryF(HandlerRegistry &r, StringRef name,
                    std::function<Value(OpBuilder &, Location, Value)> emitF,
                    HostF1 host) {
  r.add(name, [=](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertUnary(cv, n, res, emitF, nullptr, host);
  });
}

/// Variadic Max/Min/Sum/Mean as a left fold of the binary op.
LogicalResult convertVariadic(Converter &cv, const Node &node,
                              SmallVectorImpl<TValue> &results,
                              const BinaryDef &def, bool mean) {
  SmallVector<TValue> ins;
  for (unsigned k = 0; k < node.numInputs(); ++k)
    if (node.has(k))
      ins.push_back(node.in(k));
  if (ins.empty())
    return cv.error(node) << "expects at least one input";
  if (failed(checkSameDType(cv, node, ins)))
    return failure();
  DType dt = ins[0].dt;
  if (dt == DType::Bool || (mean && !isFloat(dt)))
    return cv.error(node) << "unsupported element type " << dtypeName(dt);
  bool fl = isFloat(dt);
  double count = ins.size();
  return emitNary(
      cv, node, ins, dt, results,
      [&](OpBuilder &nb, Location nl, ValueRange s) {
        Value acc = s[0];
        for (Value v : s.drop_front())
          acc = def.emit(nb, nl, acc, v, dt);
        if (mean)
          acc = arith::DivFOp::create(nb, nl, acc,
                                      fconst(nb, nl, acc.getType(), count));
        return acc;
      },
      [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
          ArrayRef<int64_t> idx) {
        if (fl) {
          double acc = in[0]->f[idx[0]];
          for (size_t a = 1; a < in.size(); ++a)
            acc = def.hostF(acc, in[a]->f[idx[a]]);
          out.set(k, mean ? acc / count : acc);
        } else {
          int64_t acc = in[0]->i[idx[0]];
          for (size_t a = 1; a < in.size(); ++a)
            acc = def.hostI(acc, in[a]->i[idx[a]]);
          out.setI(k, acc);
        }
      });
}

} // namespace

void mlir::qopt::onnx::registerElementwiseOps(HandlerRegistry &r) {
  BinaryDef add{[](OpBuilder &b, Location l, Value x, Value y, DType dt) -> Value {
                  if (isFloat(dt)) return arith::AddFOp::create(b, l, x, y);
                  return arith::AddIOp::create(b, l, x, y);
                },
                [](double x, double y) { return x + y; },
                [](int64_t x, int64_t y) { return (int64_t)((uint64_t)x + (uint64_t)y); }};
  BinaryDef sub{[](OpBuilder &b, Location l, Value x, Value y, DType dt) -> Value {
                  if (isFloat(dt)) return arith::SubFOp::create(b, l, x, y);
                  return arith::SubIOp::create(b, l, x, y);
                },
                [](double x, double y) { return x - y; },
                [](int64_t x, int64_t y) { return (int64_t)((uint64_t)x - (uint64_t)y); }};
  BinaryDef mul{[](OpBuilder &b, Location l, Value x, Value y, DType dt) -> Value {
                  if (isFloat(dt)) return arith::MulFOp::create(b, l, x, y);
                  return arith::MulIOp::create(b, l, x, y);
                },
                [](double x, double y) { return x * y; },
                [](int64_t x, int64_t y) { return (int64_t)((uint64_t)x * (uint64_t)y); }};
  BinaryDef div{emitDiv, [](double x, double y) { return x / y; }, hostDiv};
  BinaryDef max{[](OpBuilder &b, Location l, Value x, Value y, DType dt) -> Value {
                  if (isFloat(dt)) return arith::MaximumFOp::create(b, l, x, y);
                  if (isUnsigned(dt)) return arith::MaxUIOp::create(b, l, x, y);
                  return arith::MaxSIOp::create(b, l, x, y);
                },
                [](double x, double y) { return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); },
                [](int64_t x, int64_t y) { return std::max(x, y); }};
  BinaryDef min{[](OpBuilder &b, Location l, Value x, Value y, DType dt) -> Value {
                  if (isFloat(dt)) return arith::MinimumFOp::create(b, l, x, y);
                  if (isUnsigned(dt)) return arith::MinUIOp::create(b, l, x, y);
                  return arith::MinSIOp::create(b, l, x, y);
                },
                [](double x, double y) { return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y); },
                [](int64_t x, int64_t y) { return std::min(x, y); }};
  registerBinary(r, "Add", add);
  registerBinary(r, "Sub", sub);
  registerBinary(r, "Mul", mul);
  registerBinary(r, "Div", div);

  // Pow: base type decides the result; exponent may have another type.
  r.add("Pow", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    if (n.numInputs() != 2 || !n.has(0) || !n.has(1))
      return cv.error(n) << "expects 2 inputs";
    TValue x = n.in(0), y = n.in(1);
    if (x.dt == DType::Bool || y.dt == DType::Bool)
      return cv.error(n) << "unsupported element type bool";
    DType dt = x.dt;
    // x^2 and x^1 are exact as products; avoids a libm call on hot paths.
    if (auto c = cv.getConst(y, 1); c && c->size() == 1 && isFloat(dt) &&
                                    !cv.isConst(x)) {
      double e = c->getF(0);
      if (e == 2.0 || e == 1.0) {
        res.push_back(cv.elementwise({x}, dt, [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          return e == 1.0 ? s[0] : (Value)arith::MulFOp::create(b, l, s[0], s[0]);
        }));
        return success();
      }
    }
    DType ydt = y.dt;
    Converter *cvp = &cv;
    return emitNary(
        cv, n, {x, y}, dt, res,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          if (isFloat(dt)) {
            Value e = cvp->castScalar(b, l, s[1], ydt, dt);
            return emitPowF(b, l, s[0], e);
          }
          Value xf = cvp->castScalar(b, l, s[0], dt, DType::F64);
          Value ef = cvp->castScalar(b, l, s[1], ydt, DType::F64);
          return cvp->castScalar(b, l, emitPowF(b, l, xf, ef), DType::F64, dt);
        },
        [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
            ArrayRef<int64_t> idx) {
          out.set(k, std::pow(in[0]->getF(idx[0]), in[1]->getF(idx[1])));
        });
  });

  r.add("Mod", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    bool fmod = n.i("fmod", 0) != 0;
    if (n.numInputs() == 2 && n.has(0) && isFloat(n.in(0).dt) && !fmod)
      return cv.error(n) << "fmod=0 is invalid for floating point inputs";
    BinaryDef def{
        [fmod](OpBuilder &b, Location l, Value x, Value y, DType dt) -> Value {
          if (isFloat(dt))
            return arith::RemFOp::create(b, l, x, y);
          if (isUnsigned(dt))
            return arith::RemUIOp::create(b, l, x, y);
          Value rem = arith::RemSIOp::create(b, l, x, y);
          if (fmod)
            return rem;
          // Python-style: the result takes the divisor's sign.
          Value zero = iconst(b, l, x.getType(), 0);
          Value remNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, rem, zero);
          Value yNeg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, y, zero);
          Value nz = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, rem, zero);
          Value fix = arith::AndIOp::create(
              b, l, nz, arith::XOrIOp::create(b, l, remNeg, yNeg));
          return arith::SelectOp::create(b, l, fix,
                                         arith::AddIOp::create(b, l, rem, y), rem);
        },
        [](double x, double y) { return std::fmod(x, y); },
        [fmod](int64_t x, int64_t y) -> int64_t {
          if (y == 0) return 0;
          int64_t m = x % y;
          if (!fmod && m != 0 && ((m < 0) != (y < 0))) m += y;
          return m;
        }};
    return convertBinary(cv, n, res, def);
  });

  r.add("BitShift", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    bool left = n.s("direction", "") == "LEFT";
    BinaryDef def{[left](OpBuilder &b, Location l, Value x, Value y, DType) -> Value {
                    if (left) return arith::ShLIOp::create(b, l, x, y);
                    return arith::ShRUIOp::create(b, l, x, y);
                  },
                  nullptr,
                  [left](int64_t x, int64_t y) -> int64_t {
                    uint64_t u = x;
                    return y >= 64 ? 0 : (int64_t)(left ? u << y : u >> y);
                  },
                  /*allowFloat=*/false};
    return convertBinary(cv, n, res, def);
  });
  for (auto [name, kind] : {std::pair{"BitwiseAnd", 0}, {"BitwiseOr", 1}, {"BitwiseXor", 2}}) {
    int kd = kind;
    registerBinary(r, name,
                   BinaryDef{[kd](OpBuilder &b, Location l, Value x, Value y, DType) -> Value {
                               if (kd == 0) return arith::AndIOp::create(b, l, x, y);
                               if (kd == 1) return arith::OrIOp::create(b, l, x, y);
                               return arith::XOrIOp::create(b, l, x, y);
                             },
                             nullptr,
                             [kd](int64_t x, int64_t y) { return kd == 0 ? (x & y) : kd == 1 ? (x | y) : (x ^ y); },
                             false});
  }

  r.add("Max", [max](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertVariadic(cv, n, res, max, false);
  });
  r.add("Min", [min](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertVariadic(cv, n, res, min, false);
  });
  r.add("Sum", [add](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertVariadic(cv, n, res, add, false);
  });
  r.add("Mean", [add](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertVariadic(cv, n, res, add, true);
  });

  r.add("Equal", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertCompare(cv, n, res, Cmp::EQ); });
  r.add("Less", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertCompare(cv, n, res, Cmp::LT); });
  r.add("LessOrEqual", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertCompare(cv, n, res, Cmp::LE); });
  r.add("Greater", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertCompare(cv, n, res, Cmp::GT); });
  r.add("GreaterOrEqual", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertCompare(cv, n, res, Cmp::GE); });
  r.add("And", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertLogic(cv, n, res, Logic::And); });
  r.add("Or", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertLogic(cv, n, res, Logic::Or); });
  r.add("Xor", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) { return convertLogic(cv, n, res, Logic::Xor); });
  r.add("Not", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    if (!n.has(0) || n.in(0).dt != DType::Bool)
      return cv.error(n) << "expects a bool input";
    return emitNary(
        cv, n, {n.in(0)}, DType::Bool, res,
        [](OpBuilder &b, Location l, ValueRange s) -> Value {
          return arith::XOrIOp::create(b, l, s[0], iconst(b, l, s[0].getType(), 1));
        },
        [](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
           ArrayRef<int64_t> idx) { out.setI(k, !in[0]->i[idx[0]]); });
  });
  r.add("BitwiseNot", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    return convertUnary(cv, n, res, nullptr,
                        [](OpBuilder &b, Location l, Value x, DType) -> Value {
                          return arith::XOrIOp::create(b, l, x, iconst(b, l, x.getType(), -1));
                        },
                        nullptr);
  });

  // --- Unary, float and integer -------------------------------------------
  r.add("Neg", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertUnary(
        cv, n, res,
        [](OpBuilder &b, Location l, Value x) -> Value { return arith::NegFOp::create(b, l, x); },
        [](OpBuilder &b, Location l, Value x, DType) -> Value {
          return arith::SubIOp::create(b, l, iconst(b, l, x.getType(), 0), x);
        },
        [](double x) { return -x; });
  });
  r.add("Abs", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertUnary(
        cv, n, res,
        [](OpBuilder &b, Location l, Value x) -> Value { return math::AbsFOp::create(b, l, x); },
        [](OpBuilder &b, Location l, Value x, DType dt) -> Value {
          if (isUnsigned(dt)) return x;
          return math::AbsIOp::create(b, l, x);
        },
        [](double x) { return std::fabs(x); });
  });
  r.add("Sign", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertUnary(
        cv, n, res,
        [](OpBuilder &b, Location l, Value x) -> Value {
          Type t = x.getType();
          Value zero = fconst(b, l, t, 0.0);
          Value pos = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, zero);
          Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zero);
          Value r = arith::SelectOp::create(b, l, neg, fconst(b, l, t, -1.0), zero);
          return arith::SelectOp::create(b, l, pos, fconst(b, l, t, 1.0), r);
        },
        [](OpBuilder &b, Location l, Value x, DType dt) -> Value {
          Type t = x.getType();
          Value zero = iconst(b, l, t, 0);
          Value pos = arith::CmpIOp::create(
              b, l, isUnsigned(dt) ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt, x, zero);
          Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x, zero);
          if (isUnsigned(dt))
            neg = iconst(b, l, b.getI1Type(), 0);
          Value r = arith::SelectOp::create(b, l, neg, iconst(b, l, t, -1), zero);
          return arith::SelectOp::create(b, l, pos, iconst(b, l, t, 1), r);
        },
        [](double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; });
  });
  r.add("Relu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertUnary(
        cv, n, res,
        [](OpBuilder &b, Location l, Value x) -> Value {
          return arith::MaximumFOp::create(b, l, x, fconst(b, l, x.getType(), 0.0));
        },
        [](OpBuilder &b, Location l, Value x, DType dt) -> Value {
          if (isUnsigned(dt)) return x;
          return arith::MaxSIOp::create(b, l, x, iconst(b, l, x.getType(), 0));
        },
        [](double x) { return x > 0 ? x : 0.0; });
  });

  // --- Unary, float only -----------------------------------------------------
  registerUnaryF(r, "Sqrt", [](OpBuilder &b, Location l, Value x) -> Value { return math::SqrtOp::create(b, l, x); },
                 [](double x) { return std::sqrt(x); });
  registerUnaryF(r, "Exp", expOf, [](double x) { return std::exp(x); });
  registerUnaryF(r, "Log", [](OpBuilder &b, Location l, Value x) -> Value { return math::LogOp::create(b, l, x); },
                 [](double x) { return std::log(x); });
  registerUnaryF(r, "Erf", [](OpBuilder &b, Location l, Value x) -> Value { return math::ErfOp::create(b, l, x); },
                 [](double x) { return std::erf(x); });
  registerUnaryF(r, "Tanh", [](OpBuilder &b, Location l, Value x) -> Value { return math::TanhOp::create(b, l, x); },
                 [](double x) { return std::tanh(x); });
  registerUnaryF(r, "Sin", [](OpBuilder &b, Location l, Value x) -> Value { return math::SinOp::create(b, l, x); },
                 [](double x) { return std::sin(x); });
  registerUnaryF(r, "Cos", [](OpBuilder &b, Location l, Value x) -> Value { return math::CosOp::create(b, l, x); },
                 [](double x) { return std::cos(x); });
  registerUnaryF(r, "Tan", [](OpBuilder &b, Location l, Value x) -> Value { return math::TanOp::create(b, l, x); },
                 [](double x) { return std::tan(x); });
  registerUnaryF(r, "Asin", [](OpBuilder &b, Location l, Value x) -> Value { return math::AsinOp::create(b, l, x); },
                 [](double x) { return std::asin(x); });
  registerUnaryF(r, "Acos", [](OpBuilder &b, Location l, Value x) -> Value { return math::AcosOp::create(b, l, x); },
                 [](double x) { return std::acos(x); });
  registerUnaryF(r, "Atan", [](OpBuilder &b, Location l, Value x) -> Value { return math::AtanOp::create(b, l, x); },
                 [](double x) { return std::atan(x); });
  registerUnaryF(r, "Sinh", [](OpBuilder &b, Location l, Value x) -> Value { return math::SinhOp::create(b, l, x); },
                 [](double x) { return std::sinh(x); });
  registerUnaryF(r, "Cosh", [](OpBuilder &b, Location l, Value x) -> Value { return math::CoshOp::create(b, l, x); },
                 [](double x) { return std::cosh(x); });
  registerUnaryF(r, "Asinh", [](OpBuilder &b, Location l, Value x) -> Value { return math::AsinhOp::create(b, l, x); },
                 [](double x) { return std::asinh(x); });
  registerUnaryF(r, "Acosh", [](OpBuilder &b, Location l, Value x) -> Value { return math::AcoshOp::create(b, l, x); },
                 [](double x) { return std::acosh(x); });
  registerUnaryF(r, "Atanh", [](OpBuilder &b, Location l, Value x) -> Value { return math::AtanhOp::create(b, l, x); },
                 [](double x) { return std::atanh(x); });
  registerUnaryF(r, "Floor", [](OpBuilder &b, Location l, Value x) -> Value { return math::FloorOp::create(b, l, x); },
                 [](double x) { return std::floor(x); });
  registerUnaryF(r, "Ceil", [](OpBuilder &b, Location l, Value x) -> Value { return math::CeilOp::create(b, l, x); },
                 [](double x) { return std::ceil(x); });
  registerUnaryF(r, "Round", [](OpBuilder &b, Location l, Value x) -> Value { return math::RoundEvenOp::create(b, l, x); },
                 [](double x) { return std::nearbyint(x); });
  registerUnaryF(r, "Reciprocal", [](OpBuilder &b, Location l, Value x) -> Value {
    return arith::DivFOp::create(b, l, fconst(b, l, x.getType(), 1.0), x); }, [](double x) { return 1.0 / x; });
  registerUnaryF(r, "Sigmoid", sigmoid, hostSigmoid);
  registerUnaryF(r, "Softplus", [](OpBuilder &b, Location l, Value x) -> Value {
    return math::LogOp::create(b, l, arith::AddFOp::create(b, l, expOf(b, l, x), fconst(b, l, x.getType(), 1.0)));
  }, [](double x) { return std::log(std::exp(x) + 1.0); });
  registerUnaryF(r, "Softsign", [](OpBuilder &b, Location l, Value x) -> Value {
    Value d = arith::AddFOp::create(b, l, fconst(b, l, x.getType(), 1.0), math::AbsFOp::create(b, l, x));
    return arith::DivFOp::create(b, l, x, d);
  }, [](double x) { return x / (1.0 + std::fabs(x)); });
  registerUnaryF(r, "Mish", [](OpBuilder &b, Location l, Value x) -> Value {
    Value sp = math::LogOp::create(b, l, arith::AddFOp::create(b, l, expOf(b, l, x), fconst(b, l, x.getType(), 1.0)));
    return arith::MulFOp::create(b, l, x, math::TanhOp::create(b, l, sp));
  }, [](double x) { return x * std::tanh(std::log1p(std::exp(x))); });

  // --- Unary with attributes -------------------------------------------------
  r.add("LeakyRelu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double alpha = n.f("alpha", 0.01);
    return convertUnary(cv, n, res, [alpha](OpBuilder &b, Location l, Value x) -> Value {
      Value zero = fconst(b, l, x.getType(), 0.0);
      Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, zero);
      return arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, x, fconst(b, l, x.getType(), alpha)), x);
    }, nullptr, [alpha](double x) { return x < 0 ? x * alpha : x; });
  });
  r.add("Elu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double alpha = n.f("alpha", 1.0);
    return convertUnary(cv, n, res, [alpha](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, fconst(b, l, t, 0.0));
      Value em1 = arith::SubFOp::create(b, l, expOf(b, l, x), fconst(b, l, t, 1.0));
      return arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, em1, fconst(b, l, t, alpha)), x);
    }, nullptr, [alpha](double x) { return x < 0 ? alpha * (std::exp(x) - 1) : x; });
  });
  r.add("Selu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double alpha = n.f("alpha", 1.67326319217681884765625);
    double gamma = n.f("gamma", 1.05070102214813232421875);
    return convertUnary(cv, n, res, [=](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value le = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, x, fconst(b, l, t, 0.0));
      Value negPart = arith::SubFOp::create(b, l, arith::MulFOp::create(b, l, fconst(b, l, t, alpha), expOf(b, l, x)), fconst(b, l, t, alpha));
      Value v = arith::SelectOp::create(b, l, le, negPart, x);
      return arith::MulFOp::create(b, l, v, fconst(b, l, t, gamma));
    }, nullptr, [=](double x) { return gamma * (x <= 0 ? alpha * std::exp(x) - alpha : x); });
  });
  r.add("Celu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double alpha = n.f("alpha", 1.0);
    return convertUnary(cv, n, res, [=](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value zero = fconst(b, l, t, 0.0);
      Value e = arith::SubFOp::create(b, l, expOf(b, l, arith::DivFOp::create(b, l, x, fconst(b, l, t, alpha))), fconst(b, l, t, 1.0));
      Value negPart = arith::MinimumFOp::create(b, l, zero, arith::MulFOp::create(b, l, fconst(b, l, t, alpha), e));
      return arith::AddFOp::create(b, l, arith::MaximumFOp::create(b, l, zero, x), negPart);
    }, nullptr, [=](double x) { return std::max(0.0, x) + std::min(0.0, alpha * (std::exp(x / alpha) - 1)); });
  });
  r.add("ThresholdedRelu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double alpha = n.f("alpha", 1.0);
    return convertUnary(cv, n, res, [=](OpBuilder &b, Location l, Value x) -> Value {
      Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, fconst(b, l, x.getType(), alpha));
      return arith::SelectOp::create(b, l, gt, x, fconst(b, l, x.getType(), 0.0));
    }, nullptr, [=](double x) { return x > alpha ? x : 0.0; });
  });
  r.add("HardSigmoid", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double alpha = n.f("alpha", 0.2), beta = n.f("beta", 0.5);
    return convertUnary(cv, n, res, [=](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value y = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, x, fconst(b, l, t, alpha)), fconst(b, l, t, beta));
      return clampF(b, l, y, 0.0, 1.0);
    }, nullptr, [=](double x) { return std::clamp(alpha * x + beta, 0.0, 1.0); });
  });
  r.add("HardSwish", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    return convertUnary(cv, n, res, [](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value y = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, x, fconst(b, l, t, 1.0 / 6.0)), fconst(b, l, t, 0.5));
      return arith::MulFOp::create(b, l, x, clampF(b, l, y, 0.0, 1.0));
    }, nullptr, [](double x) { return x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0); });
  });
  r.add("Gelu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    bool tanhApprox = n.s("approximate", "none") == "tanh";
    return convertUnary(cv, n, res, [=](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value half = fconst(b, l, t, 0.5), one = fconst(b, l, t, 1.0);
      Value inner;
      if (tanhApprox) {
        Value x3 = arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
        Value p = arith::AddFOp::create(b, l, x, arith::MulFOp::create(b, l, x3, fconst(b, l, t, 0.044715)));
        inner = math::TanhOp::create(b, l, arith::MulFOp::create(b, l, p, fconst(b, l, t, std::sqrt(2.0 / M_PI))));
      } else {
        inner = math::ErfOp::create(b, l, arith::MulFOp::create(b, l, x, fconst(b, l, t, M_SQRT1_2)));
      }
      return arith::MulFOp::create(b, l, arith::MulFOp::create(b, l, x, half), arith::AddFOp::create(b, l, one, inner));
    }, nullptr, nullptr);
  });
  r.add("Shrink", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) {
    double lambd = n.f("lambd", 0.5), bias = n.f("bias", 0.0);
    return convertUnary(cv, n, res, [=](OpBuilder &b, Location l, Value x) -> Value {
      Type t = x.getType();
      Value lt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, fconst(b, l, t, -lambd));
      Value gt = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, fconst(b, l, t, lambd));
      Value r = arith::SelectOp::create(b, l, gt, arith::SubFOp::create(b, l, x, fconst(b, l, t, bias)), fconst(b, l, t, 0.0));
      return arith::SelectOp::create(b, l, lt, arith::AddFOp::create(b, l, x, fconst(b, l, t, bias)), r);
    }, [=](OpBuilder &b, Location l, Value x, DType dt) -> Value {
      Type t = x.getType();
      bool u = isUnsigned(dt);
      Value lt = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x, iconst(b, l, t, (int64_t)-lambd));
      if (u) lt = iconst(b, l, b.getI1Type(), 0);
      Value gt = arith::CmpIOp::create(b, l, u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt, x, iconst(b, l, t, (int64_t)lambd));
      Value r = arith::SelectOp::create(b, l, gt, arith::SubIOp::create(b, l, x, iconst(b, l, t, (int64_t)bias)), iconst(b, l, t, 0));
      return arith::SelectOp::create(b, l, lt, arith::AddIOp::create(b, l, x, iconst(b, l, t, (int64_t)bias)), r);
    }, nullptr);
  });

  r.add("IsNaN", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    if (!n.has(0) || !isFloat(n.in(0).dt))
      return cv.error(n) << "expects a float input";
    res.push_back(cv.elementwise({n.in(0)}, DType::Bool, [](OpBuilder &b, Location l, ValueRange s) -> Value {
      return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, s[0], s[0]);
    }));
    return success();
  });
  r.add("IsInf", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    if (!n.has(0) || !isFloat(n.in(0).dt))
      return cv.error(n) << "expects a float input";
    bool pos = n.i("detect_positive", 1), neg = n.i("detect_negative", 1);
    res.push_back(cv.elementwise({n.in(0)}, DType::Bool, [=](OpBuilder &b, Location l, ValueRange s) -> Value {
      Type t = s[0].getType();
      Value p = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, s[0], fconst(b, l, t, INFINITY));
      Value m = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, s[0], fconst(b, l, t, -INFINITY));
      Value f = iconst(b, l, b.getI1Type(), 0);
      return arith::OrIOp::create(b, l, pos ? p : f, neg ? m : f);
    }));
    return success();
  });

  // Clip: bounds are attributes before opset 11, optional scalar inputs after.
  r.add("Clip", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    if (!n.has(0))
      return cv.error(n) << "expects an input";
    TValue x = n.in(0);
    DType dt = x.dt;
    if (dt == DType::Bool)
      return cv.error(n) << "unsupported element type bool";
    SmallVector<TValue> ins = {x};
    int loIdx = -1, hiIdx = -1;
    if (n.opset < 11) {
      ins.push_back(cv.splat(dt, {}, n.f("min", -std::numeric_limits<float>::infinity())));
      ins.push_back(cv.splat(dt, {}, n.f("max", std::numeric_limits<float>::infinity())));
      loIdx = 1, hiIdx = 2;
    } else {
      for (unsigned k = 1; k < 3; ++k) {
        if (!n.has(k))
          continue;
        if (n.in(k).dt != dt || n.in(k).numElements() != 1)
          return cv.error(n) << "min/max must be scalars of the input type";
        ins.push_back(cv.reshape(n.in(k), {}));
        (k == 1 ? loIdx : hiIdx) = ins.size() - 1;
      }
    }
    return emitNary(
        cv, n, ins, dt, res,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          Value v = s[0];
          bool fl = isFloat(dt), u = isUnsigned(dt);
          if (loIdx >= 0)
            v = fl ? (Value)arith::MaximumFOp::create(b, l, v, s[loIdx])
                   : u ? (Value)arith::MaxUIOp::create(b, l, v, s[loIdx])
                       : (Value)arith::MaxSIOp::create(b, l, v, s[loIdx]);
          if (hiIdx >= 0)
            v = fl ? (Value)arith::MinimumFOp::create(b, l, v, s[hiIdx])
                   : u ? (Value)arith::MinUIOp::create(b, l, v, s[hiIdx])
                       : (Value)arith::MinSIOp::create(b, l, v, s[hiIdx]);
          return v;
        },
        [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
            ArrayRef<int64_t> idx) {
          double v = in[0]->getF(idx[0]);
          if (loIdx >= 0) v = std::max(v, in[loIdx]->getF(idx[loIdx]));
          if (hiIdx >= 0) v = std::min(v, in[hiIdx]->getF(idx[hiIdx]));
          out.set(k, v);
        });
  });

  // PRelu: slope broadcasts unidirectionally to x.
  r.add("PRelu", [](Converter &cv, const Node &n, SmallVectorImpl<TValue> &res) -> LogicalResult {
    if (!n.has(0) || !n.has(1))
      return cv.error(n) << "expects 2 inputs";
    TValue x = n.in(0), slope = n.in(1);
    if (failed(checkSameDType(cv, n, {x, slope})))
      return failure();
    auto s = broadcastShapes(x.shape(), slope.shape());
    if (!s || ArrayRef<int64_t>(*s) != x.shape())
      return cv.error(n) << "slope does not broadcast to the input shape";
    DType dt = x.dt;
    return emitNary(
        cv, n, {x, slope}, dt, res,
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          if (isFloat(dt)) {
            Value neg = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, v[0], fconst(b, l, v[0].getType(), 0.0));
            return arith::SelectOp::create(b, l, neg, arith::MulFOp::create(b, l, v[0], v[1]), v[0]);
          }
          Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, v[0], iconst(b, l, v[0].getType(), 0));
          return arith::SelectOp::create(b, l, neg, arith::MulIOp::create(b, l, v[0], v[1]), v[0]);
        },
        [&](ConstTensor &out, int64_t k, ArrayRef<const ConstTensor *> in,
            ArrayRef<int64_t> idx) {
          double v = in[0]->getF(idx[0]);
          out.set(k, v < 0 ? v * in[1]->getF(idx[1]) : v);
        });
  });
}
