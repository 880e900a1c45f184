//===- DiffPrefix.cpp - differentiable host interpreter of a CNN prefix ----===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#include "qopt/Calibration/DiffPrefix.h"

#include "qopt/Dialect/QONNX/QONNXDialect.h"
#include "qopt/Support/DerivedConstant.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>

using namespace llvm;
using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::calib;

using RowMat =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {
enum class Kind {
  Conv, BatchNorm, Unary, Binary, MaxPool, AvgPool, GlobalAvgPool, Concat
};
enum class Fn { Identity, Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid,
                HardSwish, Tanh };
enum class Bin { Add, Sub, Mul, Div };

/// Spatial geometry of a 2-D window op (Conv, MaxPool, AveragePool).
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  std::string autoPad = "NOTSET";
  bool ceil = false;

  /// Output size along one axis; fills SAME_* pads from the input size.
  void resolve(int64_t H, int64_t W, int64_t &HO, int64_t &WO) {
    auto same = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t &b,
                    int64_t &e) {
      int64_t out = (in + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
      b = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      e = total - b;
    };
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      same(H, kh, sh, dh, pt, pb);
      same(W, kw, sw, dw, pl, pr);
    } else if (autoPad == "VALID") {
      pt = pl = pb = pr = 0;
    }
    auto size = [&](int64_t in, int64_t b, int64_t e, int64_t k, int64_t s,
                    int64_t d) {
      int64_t span = in + b + e - ((k - 1) * d + 1);
      int64_t out = (ceil ? (span + s - 1) / s : span / s) + 1;
      // With ceil_mode the last window must start inside the input or the
      // leading pad.
      if (ceil && (out - 1) * s >= in + b)
        --out;
      return out;
    };
    HO = size(H, pt, pb, kh, sh, dh);
    WO = size(W, pl, pr, kw, sw, dw);
  }
};
} // namespace

struct DiffPrefix::Step {
  Kind kind;
  std::string name;
  SmallVector<int, 2> in; ///< value indices
  int out = -1;
  // Conv
  Act weight, bias;
  int64_t group = 1;
  Window win;
  // BatchNorm (y = x * a + b per channel) and Unary parameters
  std::vector<float> a, b;
  Fn fn = Fn::Identity;
  float alpha = 0, beta = 0, lo = -INFINITY, hi = INFINITY;
  // Binary: constant operand (constSide 0/1) or none (-1)
  Bin bin = Bin::Add;
  int constSide = -1;
  Act constant;
  std::vector<float> expanded; ///< the constant broadcast to the output
  // Pools
  bool countIncludePad = false;
  std::vector<int64_t> argmax;
  // Concat
  int64_t axis = 1;
};

DiffPrefix::~DiffPrefix() = default;

//===----------------------------------------------------------------------===//
// Reading the qonnx function
//===----------------------------------------------------------------------===//

static Attribute nodeAttr(qonnx::NodeOp op, StringRef key) {
  return op.getAttrs().get(key);
}
static int64_t attrInt(qonnx::NodeOp op, StringRef key, int64_t def) {
  if (auto a = dyn_cast_or_null<IntegerAttr>(nodeAttr(op, key)))
    return a.getInt();
  return def;
}
static double attrFloat(qonnx::NodeOp op, StringRef key, double def) {
  if (auto a = dyn_cast_or_null<FloatAttr>(nodeAttr(op, key)))
    return a.getValueAsDouble();
  return def;
}
static SmallVector<int64_t> attrInts(qonnx::NodeOp op, StringRef key,
                                     ArrayRef<int64_t> def) {
  if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(nodeAttr(op, key)))
    return SmallVector<int64_t>(a.asArrayRef());
  return SmallVector<int64_t>(def);
}

/// The f32 value of a Constant node's `value` tensor, or false.
static bool constantOf(Value v, Act &out) {
  auto node = v.getDefiningOp<qonnx::NodeOp>();
  if (!node || node.getOpType() != "Constant" || !node.getDomain().empty())
    return false;
  auto attr = dyn_cast_or_null<ElementsAttr>(nodeAttr(node, "value"));
  if (!attr)
    return false;
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isF32() || !type.hasStaticShape())
    return false;
  bool splat = false;
  ArrayRef<char> raw = rawConstantBytes(attr, type.getElementType(), splat);
  int64_t n = type.getNumElements();
  if (raw.size() != (size_t)(splat ? 1 : n) * 4)
    return false;
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  out.v.resize(n);
  if (splat)
    std::fill(out.v.begin(), out.v.end(), *(const float *)raw.data());
  else
    std::memcpy(out.v.data(), raw.data(), raw.size());
  return true;
}

static std::string describe(qonnx::NodeOp op) {
  return "node '" + op.getName().str() + "' (" + op.getOpType().str() + ")";
}

static bool readWindow(qonnx::NodeOp op, Window &w, ArrayRef<int64_t> kernel,
                       std::string &err) {
  if (kernel.size() != 2) {
    err = describe(op) + ": only 2-D windows are supported";
    return false;
  }
  w.kh = kernel[0];
  w.kw = kernel[1];
  auto s = attrInts(op, "strides", {1, 1});
  auto d = attrInts(op, "dilations", {1, 1});
  auto p = attrInts(op, "pads", {0, 0, 0, 0});
  if (s.size() != 2 || d.size() != 2 || p.size() != 4) {
    err = describe(op) + ": malformed strides/dilations/pads";
    return false;
  }
  w.sh = s[0], w.sw = s[1], w.dh = d[0], w.dw = d[1];
  w.pt = p[0], w.pl = p[1], w.pb = p[2], w.pr = p[3];
  if (auto a = dyn_cast_or_null<StringAttr>(nodeAttr(op, "auto_pad")))
    w.autoPad = a.getValue().str();
  w.ceil = attrInt(op, "ceil_mode", 0) != 0;
  if (w.sh < 1 || w.sw < 1 || w.dh < 1 || w.dw < 1 || w.kh < 1 || w.kw < 1) {
    err = describe(op) + ": non-positive kernel, stride or dilation";
    return false;
  }
  return true;
}

std::unique_ptr<DiffPrefix> DiffPrefix::build(func::FuncOp func,
                                              std::string &err) {
  std::unique_ptr<DiffPrefix> p(new DiffPrefix());
  if (func.getNumArguments() != 1) {
    err = "needs a model with one input";
    return nullptr;
  }
  auto inTy = dyn_cast<RankedTensorType>(func.getArgument(0).getType());
  if (!inTy || !inTy.getElementType().isF32() || inTy.getRank() != 4 ||
      !inTy.hasStaticShape()) {
    err = "needs one float32 NCHW input with a static shape";
    return nullptr;
  }
  p->inShape.assign(inTy.getShape().begin(), inTy.getShape().end());

  // The nodes the BatchNormalization inputs depend on, in program order.
  SmallVector<qonnx::NodeOp> bnNodes;
  func.walk([&](qonnx::NodeOp op) {
    if (op.getOpType() == "BatchNormalization" && op.getDomain().empty())
      bnNodes.push_back(op);
  });
  if (bnNodes.empty()) {
    err = "the model has no BatchNormalization node";
    return nullptr;
  }
  SetVector<Operation *> needed;
  SmallVector<Operation *> work(bnNodes.begin(), bnNodes.end());
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!needed.insert(op))
      continue;
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp())
        if (auto n = dyn_cast<qonnx::NodeOp>(def))
          if (n.getOpType() != "Constant")
            work.push_back(def);
  }

  DenseMap<Value, int> index;
  index[func.getArgument(0)] = 0;
  auto valueOf = [&](Value v, qonnx::NodeOp user, int &out) {
    auto it = index.find(v);
    if (it == index.end()) {
      err = describe(user) + ": an input is neither the model input nor "
                             "computed by a supported node";
      return false;
    }
    out = it->second;
    return true;
  };
  for (Operation &o : func.getBody().front()) {
    auto op = dyn_cast<qonnx::NodeOp>(&o);
    if (!op || !needed.contains(&o))
      continue;
    auto s = std::make_unique<Step>();
    s->name = op.getName().str();
    StringRef type = op.getOpType();
    auto inputs = op.getInputs();
    auto unsupported = [&](StringRef why) {
      err = "cannot differentiate " + describe(op) + " on the way to a "
            "BatchNormalization input: " + why.str();
      return nullptr;
    };
    if (!op.getDomain().empty())
      return unsupported("custom domain");
    if (inputs.empty())
      return unsupported("no inputs");
    if (type == "Conv") {
      s->kind = Kind::Conv;
      if (inputs.size() < 2 || !constantOf(inputs[1], s->weight) ||
          s->weight.shape.size() != 4)
        return unsupported("the weight must be a 4-D float32 constant");
      if (inputs.size() > 2 && !isa<NoneType>(inputs[2].getType()) &&
          (!constantOf(inputs[2], s->bias) ||
           s->bias.numel() != s->weight.shape[0]))
        return unsupported("the bias must be a float32 constant [M]");
      s->group = attrInt(op, "group", 1);
      SmallVector<int64_t> k = attrInts(
          op, "kernel_shape", {s->weight.shape[2], s->weight.shape[3]});
      if (!readWindow(op, s->win, k, err))
        return nullptr;
      if (s->group < 1 || s->weight.shape[0] % s->group ||
          k[0] != s->weight.shape[2] || k[1] != s->weight.shape[3])
        return unsupported("inconsistent group or kernel_shape");
      inputs = inputs.take_front(1);
    } else if (type == "BatchNormalization") {
      s->kind = Kind::BatchNorm;
      if (inputs.size() != 5 || attrInt(op, "training_mode", 0) != 0)
        return unsupported("needs 5 inputs and inference mode");
      Act sc, bi, mu, var;
      if (!constantOf(inputs[1], sc) || !constantOf(inputs[2], bi) ||
          !constantOf(inputs[3], mu) || !constantOf(inputs[4], var))
        return unsupported("its parameters must be float32 constants");
      int64_t C = sc.numel();
      if (bi.numel() != C || mu.numel() != C || var.numel() != C)
        return unsupported("parameters of different sizes");
      double eps = attrFloat(op, "epsilon", 1e-5);
      BatchNorm bn;
      bn.name = s->name;
      for (int64_t c = 0; c < C; ++c) {
        double sd = std::sqrt((double)var.v[c] + eps);
        bn.mean.push_back(mu.v[c]);
        bn.stddev.push_back((float)sd);
        s->a.push_back((float)(sc.v[c] / sd));
        s->b.push_back((float)(bi.v[c] - mu.v[c] * sc.v[c] / sd));
      }
      p->bns.push_back(std::move(bn));
      inputs = inputs.take_front(1);
    } else if (type == "Relu" || type == "LeakyRelu" || type == "Sigmoid" ||
               type == "HardSigmoid" || type == "HardSwish" ||
               type == "Tanh" || type == "Identity" || type == "Dropout" ||
               type == "Clip") {
      s->kind = Kind::Unary;
      s->fn = type == "Relu"          ? Fn::Relu
              : type == "LeakyRelu"   ? Fn::LeakyRelu
              : type == "Sigmoid"     ? Fn::Sigmoid
              : type == "HardSigmoid" ? Fn::HardSigmoid
              : type == "HardSwish"   ? Fn::HardSwish
              : type == "Tanh"        ? Fn::Tanh
              : type == "Clip"        ? Fn::Clip
                                      : Fn::Identity;
      s->alpha = attrFloat(op, "alpha", type == "LeakyRelu" ? 0.01 : 0.2);
      s->beta = attrFloat(op, "beta", 0.5);
      if (s->fn == Fn::Clip) {
        if (op.getOpset() < 11) {
          s->lo = attrFloat(op, "min", -INFINITY);
          s->hi = attrFloat(op, "max", INFINITY);
        }
        for (unsigned k = 1; k < inputs.size() && k < 3; ++k) {
          if (isa<NoneType>(inputs[k].getType()))
            continue;
          Act c;
          if (!constantOf(inputs[k], c) || c.numel() != 1)
            return unsupported("min/max must be float32 scalar constants");
          (k == 1 ? s->lo : s->hi) = c.v[0];
        }
      }
      inputs = inputs.take_front(1);
    } else if (type == "Add" || type == "Sub" || type == "Mul" ||
               type == "Div") {
      s->kind = Kind::Binary;
      s->bin = type == "Add"   ? Bin::Add
               : type == "Sub" ? Bin::Sub
               : type == "Mul" ? Bin::Mul
                               : Bin::Div;
      if (inputs.size() != 2)
        return unsupported("needs two inputs");
      for (int k = 0; k < 2; ++k)
        if (constantOf(inputs[k], s->constant))
          s->constSide = k;
      if (s->constSide < 0 && (s->bin == Bin::Mul || s->bin == Bin::Div))
        return unsupported("only a constant factor/divisor is supported");
      if (s->constSide == 0 && s->bin == Bin::Div)
        return unsupported("division by an activation");
      if (s->constSide >= 0)
        inputs = inputs.slice(1 - s->constSide, 1);
    } else if (type == "MaxPool" || type == "AveragePool") {
      s->kind = type == "MaxPool" ? Kind::MaxPool : Kind::AvgPool;
      if (op.getNumResults() > 1 && !op.getResult(1).use_empty())
        return unsupported("the Indices output is not supported");
      if (attrInt(op, "storage_order", 0) != 0)
        return unsupported("storage_order=1");
      if (!readWindow(op, s->win, attrInts(op, "kernel_shape", {}), err))
        return nullptr;
      s->countIncludePad = attrInt(op, "count_include_pad", 0) != 0;
    } else if (type == "GlobalAveragePool") {
      s->kind = Kind::GlobalAvgPool;
    } else if (type == "Concat") {
      s->kind = Kind::Concat;
      s->axis = attrInt(op, "axis", 1);
    } else {
      return unsupported("not among the ops this interpreter differentiates");
    }
    for (Value v : inputs) {
      int k;
      if (!valueOf(v, op, k))
        return nullptr;
      s->in.push_back(k);
    }
    if (op.getNumResults() < 1)
      return unsupported("no result");
    s->out = p->numValues++;
    index[op.getResult(0)] = s->out;
    if (s->kind == Kind::BatchNorm)
      p->bnValue.push_back(s->in[0]);
    p->steps.push_back(std::move(s));
  }
  p->values.resize(p->numValues);
  return p;
}

//===----------------------------------------------------------------------===//
// Forward and backward
//===----------------------------------------------------------------------===//

/// Calls f(column element, input element or -1 for padding) for every tap
/// of the im2col matrix [C * kh * kw, HO * WO] of one image.
template <typename F>
static void forEachTap(int64_t C, int64_t H, int64_t W, const Window &w,
                       int64_t HO, int64_t WO, F f) {
  int64_t row = 0;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < w.kh; ++i)
      for (int64_t j = 0; j < w.kw; ++j, row += HO * WO)
        for (int64_t oh = 0; oh < HO; ++oh) {
          int64_t ih = oh * w.sh - w.pt + i * w.dh;
          for (int64_t ow = 0; ow < WO; ++ow) {
            int64_t iw = ow * w.sw - w.pl + j * w.dw;
            bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            f(row + oh * WO + ow, inside ? (c * H + ih) * W + iw : -1);
          }
        }
}

static void im2col(const float *x, int64_t C, int64_t H, int64_t W,
                   const Window &w, int64_t HO, int64_t WO, float *col) {
  forEachTap(C, H, W, w, HO, WO, [&](int64_t k, int64_t xi) {
    col[k] = xi < 0 ? 0.f : x[xi];
  });
}

static void col2im(const float *col, int64_t C, int64_t H, int64_t W,
                   const Window &w, int64_t HO, int64_t WO, float *dx) {
  forEachTap(C, H, W, w, HO, WO, [&](int64_t k, int64_t xi) {
    if (xi >= 0)
      dx[xi] += col[k];
  });
}

static float unary(Fn fn, const DiffPrefix::Step &s, float x) {
  switch (fn) {
  case Fn::Identity: return x;
  case Fn::Relu: return x > 0 ? x : 0;
  case Fn::LeakyRelu: return x >= 0 ? x : s.alpha * x;
  case Fn::Clip: return std::min(std::max(x, s.lo), s.hi);
  case Fn::Sigmoid: return 1.f / (1.f + std::exp(-x));
  case Fn::HardSigmoid: return std::min(1.f, std::max(0.f, s.alpha * x + s.beta));
  case Fn::HardSwish: return x * std::min(1.f, std::max(0.f, x / 6.f + 0.5f));
  case Fn::Tanh: return std::tanh(x);
  }
  return x;
}

/// d unary / dx at input x (output y).
static float unaryGrad(Fn fn, const DiffPrefix::Step &s, float x, float y) {
  switch (fn) {
  case Fn::Identity: return 1;
  case Fn::Relu: return x > 0 ? 1 : 0;
  case Fn::LeakyRelu: return x >= 0 ? 1 : s.alpha;
  case Fn::Clip: return x >= s.lo && x <= s.hi ? 1 : 0;
  case Fn::Sigmoid: return y * (1 - y);
  case Fn::HardSigmoid: {
    float t = s.alpha * x + s.beta;
    return t > 0 && t < 1 ? s.alpha : 0;
  }
  case Fn::HardSwish:
    return x < -3 ? 0 : x > 3 ? 1 : x / 3.f + 0.5f;
  case Fn::Tanh: return 1 - y * y;
  }
  return 1;
}

/// The constant broadcast (numpy rules) to `shape`, or false if it would
/// broadcast the activation itself.
static bool expand(const Act &c, ArrayRef<int64_t> shape,
                   std::vector<float> &out) {
  size_t r = shape.size();
  if (c.shape.size() > r)
    return false;
  SmallVector<int64_t, 4> cs(r - c.shape.size(), 1);
  cs.append(c.shape.begin(), c.shape.end());
  SmallVector<int64_t, 4> stride(r, 0);
  int64_t st = 1;
  for (size_t d = r; d-- > 0;) {
    if (cs[d] != 1 && cs[d] != shape[d])
      return false;
    stride[d] = cs[d] == 1 ? 0 : st;
    st *= cs[d];
  }
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  out.resize(n);
  SmallVector<int64_t, 4> idx(r, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < r; ++d)
      off += idx[d] * stride[d];
    out[i] = c.v[off];
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  return true;
}

bool DiffPrefix::forward(const Act &x, std::string &err) {
  values[0] = x;
  for (auto &sp : steps) {
    Step &s = *sp;
    const Act &in = values[s.in[0]];
    Act &y = values[s.out];
    auto fail = [&](const std::string &why) {
      err = "node '" + s.name + "': " + why;
      return false;
    };
    auto rank4 = [&](const Act &a) { return a.shape.size() == 4; };
    switch (s.kind) {
    case Kind::Conv: {
      if (!rank4(in) || in.shape[1] != s.weight.shape[1] * s.group)
        return fail("input channels do not match the weight");
      int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2],
              W = in.shape[3], M = s.weight.shape[0], HO, WO;
      s.win.resolve(H, W, HO, WO);
      if (HO < 1 || WO < 1)
        return fail("empty output");
      int64_t Cg = C / s.group, Mg = M / s.group,
              Kc = Cg * s.win.kh * s.win.kw;
      y.shape = {N, M, HO, WO};
      y.v.assign(y.numel(), 0.f);
#pragma omp parallel for schedule(static)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t g = 0; g < s.group; ++g) {
          RowMat col(Kc, HO * WO);
          im2col(in.v.data() + (n * C + g * Cg) * H * W, Cg, H, W, s.win, HO,
                 WO, col.data());
          Eigen::Map<const RowMat> Wm(s.weight.v.data() + g * Mg * Kc, Mg, Kc);
          Eigen::Map<RowMat> Y(y.v.data() + (n * M + g * Mg) * HO * WO, Mg,
                               HO * WO);
          Y.noalias() = Wm * col;
          if (!s.bias.v.empty())
            for (int64_t m = 0; m < Mg; ++m)
              Y.row(m).array() += s.bias.v[g * Mg + m];
        }
      break;
    }
    case Kind::BatchNorm: {
      if (in.shape.size() < 2 || in.shape[1] != (int64_t)s.a.size())
        return fail("channel count does not match its parameters");
      y.shape = in.shape;
      y.v.resize(in.v.size());
      int64_t C = in.shape[1], P = in.numel() / (in.shape[0] * C);
      for (size_t i = 0; i < in.v.size(); ++i) {
        int64_t c = (i / P) % C;
        y.v[i] = in.v[i] * s.a[c] + s.b[c];
      }
      break;
    }
    case Kind::Unary:
      y.shape = in.shape;
      y.v.resize(in.v.size());
      for (size_t i = 0; i < in.v.size(); ++i)
        y.v[i] = unary(s.fn, s, in.v[i]);
      break;
    case Kind::Binary: {
      y.shape = in.shape;
      y.v.resize(in.v.size());
      const float *o;
      if (s.constSide >= 0) {
        if (s.expanded.size() != in.v.size() &&
            !expand(s.constant, in.shape, s.expanded))
          return fail("the constant operand would broadcast the activation");
        o = s.expanded.data();
      } else {
        if (values[s.in[1]].shape != in.shape)
          return fail("two activation operands of different shapes");
        o = values[s.in[1]].v.data();
      }
      // Operand order: a OP b, with the activation `in` on the non-constant
      // side.
      bool swap = s.constSide == 0;
      for (size_t i = 0; i < in.v.size(); ++i) {
        float a = swap ? o[i] : in.v[i], b = swap ? in.v[i] : o[i];
        y.v[i] = s.bin == Bin::Add   ? a + b
                 : s.bin == Bin::Sub ? a - b
                 : s.bin == Bin::Mul ? a * b
                                     : a / b;
      }
      break;
    }
    case Kind::MaxPool:
    case Kind::AvgPool: {
      if (!rank4(in))
        return fail("only 4-D NCHW input is supported");
      int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2],
              W = in.shape[3], HO, WO;
      s.win.resolve(H, W, HO, WO);
      if (HO < 1 || WO < 1)
        return fail("empty output");
      y.shape = {N, C, HO, WO};
      y.v.assign(y.numel(), 0.f);
      bool mx = s.kind == Kind::MaxPool;
      if (mx)
        s.argmax.assign(y.v.size(), -1);
      for (int64_t nc = 0; nc < N * C; ++nc)
        for (int64_t oh = 0; oh < HO; ++oh)
          for (int64_t ow = 0; ow < WO; ++ow) {
            float acc = mx ? -INFINITY : 0.f;
            int64_t best = -1, count = 0;
            for (int64_t i = 0; i < s.win.kh; ++i)
              for (int64_t j = 0; j < s.win.kw; ++j) {
                int64_t ih = oh * s.win.sh - s.win.pt + i * s.win.dh;
                int64_t iw = ow * s.win.sw - s.win.pl + j * s.win.dw;
                bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                // count_include_pad counts the explicit pads, not the
                // ceil_mode overhang.
                if (!inside) {
                  if (!mx && s.countIncludePad && ih < H + s.win.pb &&
                      iw < W + s.win.pr)
                    ++count;
                  continue;
                }
                int64_t k = (nc * H + ih) * W + iw;
                ++count;
                if (mx) {
                  if (in.v[k] > acc || best < 0)
                    acc = in.v[k], best = k;
                } else {
                  acc += in.v[k];
                }
              }
            int64_t o = (nc * HO + oh) * WO + ow;
            if (mx) {
              y.v[o] = best < 0 ? 0.f : acc;
              s.argmax[o] = best;
            } else {
              y.v[o] = count ? acc / count : 0.f;
            }
          }
      break;
    }
    case Kind::GlobalAvgPool: {
      if (in.shape.size() < 3)
        return fail("input rank below 3");
      int64_t NC = in.shape[0] * in.shape[1], P = in.numel() / NC;
      y.shape.assign(in.shape.begin(), in.shape.end());
      for (size_t d = 2; d < y.shape.size(); ++d)
        y.shape[d] = 1;
      y.v.assign(NC, 0.f);
      for (int64_t i = 0; i < NC; ++i) {
        double acc = 0;
        for (int64_t k = 0; k < P; ++k)
          acc += in.v[i * P + k];
        y.v[i] = (float)(acc / P);
      }
      break;
    }
    case Kind::Concat: {
      int64_t r = in.shape.size(), ax = s.axis < 0 ? s.axis + r : s.axis;
      if (ax < 0 || ax >= r)
        return fail("axis out of range");
      y.shape = in.shape;
      y.shape[ax] = 0;
      for (int k : s.in) {
        const Act &a = values[k];
        for (int64_t d = 0; d < r; ++d)
          if (d != ax && (a.shape.size() != (size_t)r ||
                          a.shape[d] != in.shape[d]))
            return fail("inputs of mismatched shapes");
        y.shape[ax] += a.shape[ax];
      }
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < ax; ++d)
        outer *= in.shape[d];
      for (int64_t d = ax + 1; d < r; ++d)
        inner *= in.shape[d];
      y.v.resize(y.numel());
      int64_t off = 0;
      for (int k : s.in) {
        const Act &a = values[k];
        int64_t chunk = a.shape[ax] * inner;
        for (int64_t o = 0; o < outer; ++o)
          std::memcpy(y.v.data() + o * y.shape[ax] * inner + off,
                      a.v.data() + o * chunk, chunk * 4);
        off += chunk;
      }
      break;
    }
    }
  }
  return true;
}

const Act &DiffPrefix::batchNormInput(size_t i) const {
  return values[bnValue[i]];
}

void DiffPrefix::backward(const std::vector<Act> &bnInputGrads, Act &dx) {
  std::vector<std::vector<float>> grad(numValues);
  auto acc = [&](int k) -> std::vector<float> & {
    if (grad[k].empty())
      grad[k].assign(values[k].v.size(), 0.f);
    return grad[k];
  };
  for (size_t i = 0; i < bnValue.size(); ++i) {
    std::vector<float> &g = acc(bnValue[i]);
    for (size_t k = 0; k < g.size(); ++k)
      g[k] += bnInputGrads[i].v[k];
  }
  for (size_t t = steps.size(); t-- > 0;) {
    Step &s = *steps[t];
    if (grad[s.out].empty())
      continue;
    const std::vector<float> &dy = grad[s.out];
    const Act &in = values[s.in[0]];
    const Act &y = values[s.out];
    switch (s.kind) {
    case Kind::Conv: {
      std::vector<float> &g = acc(s.in[0]);
      int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2],
              W = in.shape[3], M = y.shape[1], HO = y.shape[2],
              WO = y.shape[3];
      int64_t Cg = C / s.group, Mg = M / s.group,
              Kc = Cg * s.win.kh * s.win.kw;
#pragma omp parallel for schedule(static)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t g0 = 0; g0 < s.group; ++g0) {
          RowMat col(Kc, HO * WO);
          Eigen::Map<const RowMat> Wm(s.weight.v.data() + g0 * Mg * Kc, Mg, Kc);
          Eigen::Map<const RowMat> dY(dy.data() + (n * M + g0 * Mg) * HO * WO,
                                      Mg, HO * WO);
          col.noalias() = Wm.transpose() * dY;
          col2im(col.data(), Cg, H, W, s.win, HO, WO,
                 g.data() + (n * C + g0 * Cg) * H * W);
        }
      break;
    }
    case Kind::BatchNorm: {
      std::vector<float> &g = acc(s.in[0]);
      int64_t C = in.shape[1], P = in.numel() / (in.shape[0] * C);
      for (size_t i = 0; i < dy.size(); ++i)
        g[i] += dy[i] * s.a[(i / P) % C];
      break;
    }
    case Kind::Unary: {
      std::vector<float> &g = acc(s.in[0]);
      for (size_t i = 0; i < dy.size(); ++i)
        g[i] += dy[i] * unaryGrad(s.fn, s, in.v[i], y.v[i]);
      break;
    }
    case Kind::Binary: {
      std::vector<float> &g = acc(s.in[0]);
      if (s.constSide < 0) {
        for (size_t i = 0; i < dy.size(); ++i)
          g[i] += dy[i];
        std::vector<float> &g1 = acc(s.in[1]);
        float sign = s.bin == Bin::Sub ? -1.f : 1.f;
        for (size_t i = 0; i < dy.size(); ++i)
          g1[i] += sign * dy[i];
        break;
      }
      const float *c = s.expanded.data();
      for (size_t i = 0; i < dy.size(); ++i) {
        float d = s.bin == Bin::Add   ? 1.f
                  : s.bin == Bin::Sub ? (s.constSide == 0 ? -1.f : 1.f)
                  : s.bin == Bin::Mul ? c[i]
                                      : 1.f / c[i];
        g[i] += dy[i] * d;
      }
      break;
    }
    case Kind::MaxPool: {
      std::vector<float> &g = acc(s.in[0]);
      for (size_t o = 0; o < dy.size(); ++o)
        if (s.argmax[o] >= 0)
          g[s.argmax[o]] += dy[o];
      break;
    }
    case Kind::AvgPool: {
      std::vector<float> &g = acc(s.in[0]);
      int64_t H = in.shape[2], W = in.shape[3], HO = y.shape[2],
              WO = y.shape[3];
      for (int64_t nc = 0; nc < in.shape[0] * in.shape[1]; ++nc)
        for (int64_t oh = 0; oh < HO; ++oh)
          for (int64_t ow = 0; ow < WO; ++ow) {
            SmallVector<int64_t, 16> taps;
            int64_t count = 0;
            for (int64_t i = 0; i < s.win.kh; ++i)
              for (int64_t j = 0; j < s.win.kw; ++j) {
                int64_t ih = oh * s.win.sh - s.win.pt + i * s.win.dh;
                int64_t iw = ow * s.win.sw - s.win.pl + j * s.win.dw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
                  taps.push_back((nc * H + ih) * W + iw);
                  ++count;
                } else if (s.countIncludePad && ih < H + s.win.pb &&
                           iw < W + s.win.pr) {
                  ++count;
                }
              }
            if (!count)
              continue;
            float d = dy[(nc * HO + oh) * WO + ow] / count;
            for (int64_t k : taps)
              g[k] += d;
          }
      break;
    }
    case Kind::GlobalAvgPool: {
      std::vector<float> &g = acc(s.in[0]);
      int64_t NC = dy.size(), P = in.numel() / NC;
      for (int64_t i = 0; i < NC; ++i)
        for (int64_t k = 0; k < P; ++k)
          g[i * P + k] += dy[i] / P;
      break;
    }
    case Kind::Concat: {
      int64_t r = in.shape.size(), ax = s.axis < 0 ? s.axis + r : s.axis;
      int64_t outer = 1, inner = 1;
      for (int64_t d = 0; d < ax; ++d)
        outer *= in.shape[d];
      for (int64_t d = ax + 1; d < r; ++d)
        inner *= in.shape[d];
      int64_t off = 0;
      for (int k : s.in) {
        int64_t chunk = values[k].shape[ax] * inner;
        std::vector<float> &g = acc(k);
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t e = 0; e < chunk; ++e)
            g[o * chunk + e] += dy[o * y.shape[ax] * inner + off + e];
        off += chunk;
      }
      break;
    }
    }
  }
  dx.shape = values[0].shape;
  dx.v = grad[0].empty() ? std::vector<float>(values[0].v.size(), 0.f)
                         : std::move(grad[0]);
}
