//===- QuantUtils.h - IR helpers shared by the quantization passes -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_TRANSFORMS_QUANTUTILS_H
#define QOPT_LIB_TRANSFORMS_QUANTUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "qopt/Dialect/QOpt/QOptDialect.h"
#include "qopt/Transforms/QuantMath.h"
#include "llvm/Support/Regex.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir {
namespace qopt {

/// Attribute naming the ONNX node a matmul came from (set by the importer).
inline constexpr const char *kLayerAttrName = "qopt.layer";
/// Attribute recording the scheme a quantizer applied to an op.
inline constexpr const char *kQuantAttrName = "qopt.quant";

/// A qopt.matmul whose rhs is a constant f32 [K, N] weight.
struct WeightMatMul {
  MatMulOp op;
  arith::ConstantOp weight;
  int64_t K = 0, N = 0;
  std::string layer;      ///< qopt.layer, else the location name
  std::string weightName; ///< resource key of the constant, or ""
};

/// The first NameLoc's name in `loc`, or "".
std::string locationName(Location loc);

/// Matches `op` (any rank lhs, 2-D f32 constant rhs); nullopt otherwise.
std::optional<WeightMatMul> matchWeightMatMul(MatMulOp op);

/// The f32 data of a constant (dense or dense_resource); nullopt if the
/// data is absent or not f32.
std::optional<std::vector<float>> readF32(Attribute attr);

/// The `exclude` option: empty pattern excludes nothing.
class ExcludeFilter {
public:
  /// Returns failure with a message in `err` for a bad regex.
  LogicalResult init(StringRef pattern, std::string &err);
  bool excludes(const WeightMatMul &m) const {
    return excludes(m.layer, m.weightName);
  }
  bool excludes(StringRef layer, StringRef weightName) const;

private:
  std::unique_ptr<llvm::Regex> re;
};

/// An i8 constant of `type` holding `values`: a dense_resource named after
/// `like` (suffix `suffix`) when `like` is one, else a dense attribute.
Value makeI8Constant(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<int8_t> values, Attribute like, StringRef suffix);
/// An int4 weight of `type` (i8 values in [-8, 7]): the values packed two per
/// byte (docs/semantics.md §10) in a 1-D i8 constant tagged `qopt.bits = 4`
/// (named like makeI8Constant, suffix + "p") and a qopt.unpack_int4 to
/// `type`, so the .weights file holds half a byte per value.
Value makeInt4Constant(OpBuilder &b, Location loc, RankedTensorType type,
                       ArrayRef<int8_t> values, Attribute like,
                       StringRef suffix);
/// makeInt4Constant for bits == 4 when every value is in [-8, 7], else
/// makeI8Constant (one value per byte); tagged qopt.bits = bits.
Value makeWeightConstant(OpBuilder &b, Location loc, RankedTensorType type,
                         ArrayRef<int8_t> values, Attribute like,
                         unsigned bits, bool packInt4 = true);
Value makeF32Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      ArrayRef<float> values);
/// Zero points as an i8 tensor of `shape`.
Value makeZpConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                     ArrayRef<int32_t> values);
/// qopt.dequantize of the 2-D integer weight `wq` into `type` with one scale
/// and zero point per channel along `channelAxis` (0 or 1), or, when
/// numGroups > 1, per (channel, group of `groupSize` along the other axis).
Value makeWeightDequantize(OpBuilder &b, Location loc, Type type, Value wq,
                           ArrayRef<float> scales, ArrayRef<int32_t> zps,
                           int64_t channels, int64_t numGroups,
                           int64_t groupSize, unsigned channelAxis);

//===----------------------------------------------------------------------===//
// Convolutions (ConvQuant.cpp)
//===----------------------------------------------------------------------===//

/// Unit attribute the importer puts on the linalg.generic of a float ONNX
/// Conv: inputs (x padded, (N, G, C/G, spatial...)), (filter, (G, M/G, C/G,
/// k...)), output (N, G, M/G, out...); loops n g m o... | c k... .
inline constexpr const char *kConvAttrName = "qopt.conv";

/// A float conv whose filter is a constant (possibly behind reshapes). The
/// filter's row-major data is [M, K]: M = G * M/G output channels, K =
/// C/G * prod(k) the reduction.
struct WeightConv {
  linalg::GenericOp op;
  arith::ConstantOp weight;
  RankedTensorType filterType; ///< the generic's filter operand type
  int64_t M = 0, K = 0, G = 1;
  std::string layer;      ///< qopt.layer (ONNX node name), else location
  std::string weightName; ///< resource key of the constant, or ""
};

std::optional<WeightConv> matchWeightConv(linalg::GenericOp op);

/// A quantized [M, K] filter: per output channel (scales [M]), or per group
/// of `groupSize` along K (scales [M, K / groupSize]).
struct QuantizedFilter {
  std::vector<int8_t> values; ///< [M, K]
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
  int64_t numGroups = 1, groupSize = 0;
};

/// `groupSize` > 0 that divides K (and is < K) gives groups, anything else
/// one scale per output channel.
QuantizedFilter quantizeFilter(ArrayRef<float> w, int64_t M, int64_t K,
                               unsigned bits, bool symmetric,
                               int64_t groupSize);

/// The i8 [M, K] constant of `q` (tagged qopt.bits), expanded to the
/// filter shape (G, M/G, C/G, k...).
Value makeFilterConstant(OpBuilder &b, WeightConv &wc,
                         const QuantizedFilter &q, unsigned bits,
                         bool packInt4 = true);

/// Weight-only: the conv's filter becomes expand(dequantize(Wq [M, K])).
void dequantizeFilter(OpBuilder &b, WeightConv &wc,
                      const QuantizedFilter &q, unsigned bits,
                      bool packInt4 = true);

/// The integer form of the conv generic `op` (same loop nest):
///   acc[n,g,m,o] = sum_{c,k} (i32(xq) - zx) * (i32(wq) - zw)   (i32)
///   y = f32(acc) * scales[0] * scales[1] ...                    (f32)
/// `xq` has the conv's x operand shape (padding holding zx), `wq` the
/// filter shape; zx is 0-D; zw and each scale are 0-D or [G, M/G] (per
/// output channel). Inserted at the builder's point; returns y (the conv's
/// result type), the caller replaces the conv.
Value buildIntegerConv(OpBuilder &b, linalg::GenericOp op, Value xq, Value zx,
                       bool xUnsigned, Value wq, Value zw, bool wUnsigned,
                       ValueRange scales, StringRef tag);

/// buildIntegerConv with the compile-time filter `q` (per channel) and the
/// epilogue acc * sx * sw[g, m]; replaces and erases the conv.
void replaceWithIntegerConv(OpBuilder &b, WeightConv &wc, Value xq, Value zx,
                            bool xUnsigned, Value sx, Value wq,
                            const QuantizedFilter &q, StringRef tag);

/// `qopt.dequantize(Wq, s, zp)` of a quantized [K, N] weight, built next
/// to the weight constant of `m` (per axis 1, or blocked along K); int4
/// values are packed two per byte (makeWeightConstant) unless !packInt4.
Value buildDequantizedWeight(const WeightMatMul &m, const QuantizedWeight &q,
                             unsigned bits, bool packInt4 = true);

/// Per-layer attributes of the calibration-driven passes (qopt-gptq,
/// qopt-awq, qopt-bias-correction), attached by lib/Calibration.
/// f32 [K, K]: 2/M X^T X of the layer input over the calibration rows.
inline constexpr const char *kHessianAttrName = "qopt.hessian";
/// f32 [K]: mean |x| per input channel (AWQ).
inline constexpr const char *kActMeanAbsAttrName = "qopt.act_mean_abs";
/// f32 [K]: mean x per input channel; f32 [N]: mean FP32 output (bias
/// correction).
inline constexpr const char *kActMeanAttrName = "qopt.act_mean";
inline constexpr const char *kOutMeanAttrName = "qopt.out_mean";
/// f32 [K]: the AWQ input scales s (the layer computes (x / s) W').
inline constexpr const char *kAWQScaleAttrName = "qopt.awq_scale";
/// i64: weight bits chosen for this layer (mixed precision; 32: keep f32).
inline constexpr const char *kWeightBitsAttrName = "qopt.weight_bits";

/// The data of an i8 constant (dense or dense_resource).
std::optional<std::vector<int8_t>> readI8(Attribute attr);
/// The f32 [K, N] weight `deq` computes from constants (per axis 1, or
/// blocked along K); nullopt for any other form.
std::optional<std::vector<float>> readDequantizedWeight(DequantizeOp deq,
                                                        int64_t K, int64_t N);

/// A [K, K] f32 Hessian attribute as doubles; nullopt if absent/malformed.
std::optional<std::vector<double>> readHessian(Operation *op, int64_t K);

/// The weight matmuls of `module` that carry a calibration Hessian.
SmallVector<WeightMatMul> hessianMatMuls(Operation *module);

/// One layer of a Hessian-driven weight pass (GPTQ, reconstruction).
struct HessianLayer {
  int64_t bits; ///< qopt.weight_bits, else the pass's
  std::vector<float> w;
  std::vector<double> h;
};
/// Reads `m`'s bit width, f32 weight and Hessian, and drops the Hessian
/// attribute. nullopt with `ok` set: the layer stays f32 (32 bits); with
/// `ok` cleared: an error naming `pass` and the layer was emitted.
std::optional<HessianLayer> takeHessianLayer(WeightMatMul &m,
                                             int64_t defaultBits,
                                             StringRef pass, bool &ok);

} // namespace qopt
} // namespace mlir

#endif
