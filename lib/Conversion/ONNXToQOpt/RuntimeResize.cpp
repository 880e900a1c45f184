//===- RuntimeResize.cpp - Resize / Upsample with run-time scales/sizes ---===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The static Resize (NNOps.cpp) computes each axis' source indices and
// weights on the host, in double precision. With scales or sizes given at
// run time the same formulas run in the generic's body, in f64: the output
// length (sizes[a], or floor(in * scales[a])), the coordinate transform,
// the nearest rounding or the two linear taps, and the weights rounded to
// the element type; the taps are combined in the element type as in the
// static path. A tap of weight 0 is not read, so inf/NaN next to a sample
// do not leak into it. A negative, NaN or huge scale gives an empty axis.
//
//===----------------------------------------------------------------------===//
#include "Loops.h"
#include "RuntimeOperands.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx;

namespace {

struct FB {
  OpBuilder &b;
  Location l;
  Value c(double v) {
    return arith::ConstantOp::create(b, l, b.getF64Type(),
                                     b.getF64FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, l, x, y); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, l, p, x, y);
  }
  Value sel(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, l, c, x, y);
  }
  Value fromIndex(Value i) {
    Value i64 = arith::IndexCastOp::create(b, l, b.getI64Type(), i);
    return arith::SIToFPOp::create(b, l, b.getF64Type(), i64);
  }
  /// (int64_t)v clamped into [0, n - 1].
  Value toIndexClamped(Value v, int64_t n) {
    Value i = arith::FPToSIOp::create(b, l, b.getI64Type(), v);
    i = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
    i = arith::MaxSIOp::create(b, l, i, idxConst(b, l, 0));
    return arith::MinSIOp::create(b, l, i, idxConst(b, l, n - 1));
  }
};

/// The source coordinate of output position `o` (f64), as resizeImpl.
Value sourceCoord(FB &f, StringRef ctm, Value o, Value scale, Value lenR,
                  Value out, int64_t in) {
  Value half = f.c(0.5);
  Value hp = f.sub(f.div(f.add(o, half), scale), half);
  if (ctm == "half_pixel")
    return hp;
  if (ctm == "pytorch_half_pixel")
    return f.sel(f.cmp(arith::CmpFPredicate::OGT, lenR, f.c(1)), hp, f.c(0));
  if (ctm == "align_corners")
    return f.sel(f.cmp(arith::CmpFPredicate::OEQ, lenR, f.c(1)), f.c(0),
                 f.div(f.mul(o, f.c((double)(in - 1))),
                       f.sub(lenR, f.c(1))));
  if (ctm == "asymmetric")
    return f.div(o, scale);
  if (ctm == "tf_half_pixel_for_nn")
    return f.div(f.add(o, half), scale);
  // half_pixel_symmetric
  Value adj = f.div(out, f.mul(f.c((double)in), scale));
  Value off = f.mul(f.c((double)in / 2.0), f.sub(f.c(1), adj));
  return f.add(off, hp);
}

} // namespace

LogicalResult onnx::convertResizeRuntime(Converter &cv, const Node &n,
                                         SmallVectorImpl<TValue> &res,
                                         const TValue &x, const TValue &operand,
                                         bool isSizes, ArrayRef<int64_t> axes,
                                         StringRef mode, StringRef ctm,
                                         StringRef nm) {
  int64_t R = x.rank();
  if (mode != "nearest" && mode != "linear")
    return cv.error(n) << "mode '" << mode << "' is unsupported";
  if (mode == "linear" && !isFloat(x.dt))
    return cv.error(n) << "linear mode needs a float input";
  static const char *ctms[] = {"half_pixel", "pytorch_half_pixel",
                               "align_corners", "asymmetric",
                               "tf_half_pixel_for_nn", "half_pixel_symmetric"};
  if (!llvm::is_contained(ctms, ctm))
    return cv.error(n) << "coordinate_transformation_mode '" << ctm
                       << "' is unsupported";
  if (mode == "nearest" && nm != "round_prefer_floor" &&
      nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
    return cv.error(n) << "unknown nearest_mode '" << nm << "'";
  if (cv.isDynamic(x))
    return cv.error(n) << "a dynamic input with run-time scales/sizes is "
                          "unsupported";
  auto es = cv.elements(operand);
  if (!es || operand.rank() != 1 || (isSizes && !isInteger(operand.dt)) ||
      (!isSizes && !isFloat(operand.dt)))
    return cv.error(n) << (isSizes ? "sizes" : "scales")
                       << " must be a 1-D tensor of static length";
  SmallVector<int64_t> axisOf;
  if (axes.empty()) {
    for (int64_t k = 0; k < R; ++k)
      axisOf.push_back(k);
  } else {
    for (int64_t a : axes) {
      auto na = normalizeAxis(a, R);
      if (!na)
        return cv.error(n) << "axis out of range";
      axisOf.push_back(*na);
    }
  }
  if (es->size() != axisOf.size())
    return cv.error(n) << "scales/sizes must have " << axisOf.size()
                       << " elements";
  OpBuilder &b = cv.b;
  Location loc = cv.loc;
  FB f{b, loc};
  Type et = x.elemType();
  TValue y = x;
  for (auto [j, ax] : llvm::enumerate(axisOf)) {
    int64_t in = x.shape()[ax];
    if (in == 0)
      return cv.error(n) << "cannot resize the empty dim " << ax;
    Value e = (*es)[j], out, scale;
    if (isSizes) {
      Value s = cv.castScalar(b, loc, e, operand.dt, DType::I64);
      out = arith::IndexCastOp::create(b, loc, b.getIndexType(), s);
      out = arith::MaxSIOp::create(b, loc, out, idxConst(b, loc, 0));
      scale = f.div(f.fromIndex(out), f.c((double)in));
    } else {
      scale = cv.castScalar(b, loc, e, operand.dt, DType::F64);
      Value len = math::FloorOp::create(b, loc, f.mul(f.c((double)in), scale));
      Value ok = arith::AndIOp::create(
          b, loc, f.cmp(arith::CmpFPredicate::OGE, len, f.c(0)),
          f.cmp(arith::CmpFPredicate::OLT, len, f.c(double(int64_t(1) << 40))));
      len = f.sel(ok, len, f.c(0));
      out = arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          arith::FPToSIOp::create(b, loc, b.getI64Type(), len));
    }
    Value outF = f.fromIndex(out);
    Value lenR = isSizes ? outF : f.mul(f.c((double)in), scale);
    SmallVector<OpFoldResult> dims = cv.dims(y);
    dims[ax] = out;
    Value src = y.v;
    bool nearest = mode == "nearest";
    y = indexGenericDims(
        cv, dims, x.dt, {}, {},
        [&](OpBuilder &nb, Location nl, ValueRange o, ValueRange) -> Value {
          FB g{nb, nl};
          Value xo = sourceCoord(g, ctm, g.fromIndex(o[ax]), scale, lenR,
                                 outF, in);
          Value fl = math::FloorOp::create(nb, nl, xo);
          SmallVector<Value> pos(o);
          if (nearest) {
            Value r = fl;
            if (nm == "ceil") {
              r = math::CeilOp::create(nb, nl, xo);
            } else if (nm != "floor") {
              Value tie = g.cmp(arith::CmpFPredicate::OEQ, g.sub(xo, fl),
                                g.c(0.5));
              Value up = nm == "round_prefer_ceil" ? g.add(fl, g.c(1)) : fl;
              r = g.sel(tie, up, math::RoundOp::create(nb, nl, xo));
            }
            pos[ax] = g.toIndexClamped(r, in);
            return tensor::ExtractOp::create(nb, nl, src, pos);
          }
          Value ratio = g.sub(xo, fl);
          Value w0 = g.sub(g.c(1), ratio), w1 = ratio;
          if (!et.isF64()) {
            w0 = arith::TruncFOp::create(nb, nl, et, w0);
            w1 = arith::TruncFOp::create(nb, nl, et, w1);
          }
          pos[ax] = g.toIndexClamped(fl, in);
          Value v0 = tensor::ExtractOp::create(nb, nl, src, pos);
          pos[ax] = g.toIndexClamped(g.add(fl, g.c(1)), in);
          Value v1 = tensor::ExtractOp::create(nb, nl, src, pos);
          Value acc = arith::AddFOp::create(
              nb, nl, arith::MulFOp::create(nb, nl, v0, w0),
              arith::MulFOp::create(nb, nl, v1, w1));
          Value zero = arith::ConstantOp::create(nb, nl, et,
                                                 nb.getFloatAttr(et, 0));
          Value w1Zero = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OEQ, w1, zero);
          return arith::SelectOp::create(
              nb, nl, w1Zero, arith::MulFOp::create(nb, nl, v0, w0), acc);
        });
  }
  res.push_back(y);
  return success();
}
