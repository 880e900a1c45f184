//===- Converter.h - ONNX node legalization framework -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// convert-onnx-to-qopt walks qonnx.node ops in program order and calls one
// handler per ONNX op type. Handlers see converted operands (static-shaped,
// signless tensors plus their ONNX element type), emit qopt/linalg/tensor/
// arith/math, and fold to constants when every operand is a small constant
// (this is how Shape/Gather/Concat/... subgraphs disappear).
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CONVERSION_ONNXTOQOPT_CONVERTER_H
#define QOPT_LIB_CONVERSION_ONNXTOQOPT_CONVERTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "qopt/Dialect/QONNX/QONNXDialect.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <optional>
#include <vector>

namespace mlir {
namespace qopt {
namespace onnx {

/// ONNX TensorProto.DataType numbers.
enum class DType : int32_t {
  Undefined = 0, F32 = 1, U8 = 2, I8 = 3, U16 = 4, I16 = 5, I32 = 6, I64 = 7,
  String = 8, Bool = 9, F16 = 10, F64 = 11, U32 = 12, U64 = 13, BF16 = 16,
};

bool isFloat(DType dt);
bool isUnsigned(DType dt); ///< U8..U64 (not Bool)
bool isSigned(DType dt);   ///< I8..I64
inline bool isInteger(DType dt) { return isSigned(dt) || isUnsigned(dt); }
unsigned bitWidth(DType dt);
const char *dtypeName(DType dt);
/// The signless MLIR element type of `dt` (null for unsupported types).
Type elementType(MLIRContext *ctx, DType dt);
/// The DType of an imported (sign-aware) element type, Undefined if none.
DType dtypeOf(Type elementType);

/// A converted value: a signless ranked tensor + its ONNX dtype. Dims may be
/// dynamic (`?`); their run-time sizes are SSA index values kept by the
/// Converter (Converter::dim), so tensors of the same size share one value.
struct TValue {
  Value v;
  DType dt = DType::Undefined;
  RankedTensorType type() const { return cast<RankedTensorType>(v.getType()); }
  ArrayRef<int64_t> shape() const { return type().getShape(); }
  int64_t rank() const { return type().getRank(); }
  int64_t numElements() const { return type().getNumElements(); }
  Type elemType() const { return type().getElementType(); }
};

/// A host copy of a constant tensor, for folding. Floats live in `f`,
/// integers and bools in `i` (uint64 as its bit pattern).
struct ConstTensor {
  DType dt = DType::F32;
  SmallVector<int64_t> shape;
  std::vector<double> f;
  std::vector<int64_t> i;

  ConstTensor() = default;
  ConstTensor(DType dt, ArrayRef<int64_t> shape);
  bool isFloatData() const { return isFloat(dt); }
  int64_t size() const;
  int64_t rank() const { return shape.size(); }
  double getF(int64_t k) const { return isFloatData() ? f[k] : (double)i[k]; }
  int64_t getI(int64_t k) const { return isFloatData() ? (int64_t)f[k] : i[k]; }
  /// Stores `v` converted (and wrapped/rounded) to this tensor's dtype.
  void set(int64_t k, double v);
  void setI(int64_t k, int64_t v);
  /// Copies element `src` of `from` (same dtype) into element `dst`.
  void copyElem(int64_t dst, const ConstTensor &from, int64_t src);
};

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape);
/// NumPy broadcast of two shapes; nullopt if incompatible.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b);
/// NumPy broadcast of two shapes whose dims may be SSA values. A dynamic dim
/// against a static one > 1 is taken to be that size, two different dynamic
/// dims to be equal (as ONNX Runtime's kernels require at run time).
std::optional<SmallVector<OpFoldResult>>
broadcastDims(ArrayRef<OpFoldResult> a, ArrayRef<OpFoldResult> b);
/// The static shape of mixed dims (kDynamic for SSA values).
SmallVector<int64_t> staticShape(ArrayRef<OpFoldResult> dims);

/// One qonnx.node as a handler sees it.
struct Node {
  mutable qonnx::NodeOp op;
  StringRef type;
  StringRef name;
  int64_t opset = 0;
  SmallVector<std::optional<TValue>> inputs; ///< nullopt: absent optional input
  unsigned numOutputs = 0;

  unsigned numInputs() const { return inputs.size(); }
  bool has(unsigned k) const { return k < inputs.size() && inputs[k]; }
  const TValue &in(unsigned k) const { return *inputs[k]; }

  Attribute attr(StringRef key) const;
  bool hasAttr(StringRef key) const { return (bool)attr(key); }
  int64_t i(StringRef key, int64_t def) const;
  double f(StringRef key, double def) const;
  std::string s(StringRef key, StringRef def) const;
  SmallVector<int64_t> ints(StringRef key, ArrayRef<int64_t> def = {}) const;
  SmallVector<double> floats(StringRef key, ArrayRef<double> def = {}) const;
};

class Converter;
/// Appends one TValue per produced output (trailing optional outputs may be
/// omitted). On failure it must have emitted an error via `cv.error(node)`.
using Handler = std::function<LogicalResult(Converter &cv, const Node &node,
                                            SmallVectorImpl<TValue> &results)>;

class HandlerRegistry {
public:
  void add(StringRef opType, Handler h) { map[opType] = std::move(h); }
  /// Registers for the ONNX domain; `minOpset` rejects older versions.
  const Handler *lookup(StringRef opType) const {
    auto it = map.find(opType);
    return it == map.end() ? nullptr : &it->second;
  }

private:
  llvm::StringMap<Handler> map;
};

void registerElementwiseOps(HandlerRegistry &r);
void registerShapeOps(HandlerRegistry &r);
void registerReductionOps(HandlerRegistry &r);
void registerNNOps(HandlerRegistry &r);
void registerQuantOps(HandlerRegistry &r);
/// GatherND, ScatterND, ScatterElements, Scatter, TopK (IndexOps.cpp).
void registerIndexOps(HandlerRegistry &r);
/// NonZero, Compress, Unique: value-dependent output sizes
/// (DataDependentOps.cpp).
void registerDataDependentOps(HandlerRegistry &r);
/// All of the above.
const HandlerRegistry &getHandlerRegistry();

/// Runs before the handler: rewrites the operands of a pre-opset-7 node into
/// their opset-7 form where the difference is only in the operands (legacy
/// `broadcast`/`axis` of binary ops). Errors on legacy attribute values that
/// have no such form.
LogicalResult applyLegacySemantics(Converter &cv, Node &node);

/// Whether the handler of `opType` handles dynamic-shaped inputs; nodes of
/// other op types with a dynamic input are reported, not miscompiled.
bool handlesDynamicShapes(StringRef opType);

/// Scalar body builder for elementwise ops: gets one scalar per input
/// (signless) and returns the result scalar.
using ScalarFn = function_ref<Value(OpBuilder &b, Location loc, ValueRange)>;

/// Emission helpers shared by all handlers. Builder `b` is positioned in the
/// function being built; `loc` is the current node's location.
class Converter {
public:
  Converter(OpBuilder &b) : b(b), loc(b.getUnknownLoc()) {}

  OpBuilder &b;
  Location loc;
  MLIRContext *ctx() const { return b.getContext(); }

  /// Starts an error about `node`: "node 'NAME' (OP, opset N): ...".
  InFlightDiagnostic error(const Node &node);

  // --- Types ---------------------------------------------------------------
  RankedTensorType tensorType(ArrayRef<int64_t> shape, DType dt) const;

  // --- Constants -----------------------------------------------------------
  TValue constant(const ConstTensor &c);
  /// A constant tensor filled with `v`.
  TValue splat(DType dt, ArrayRef<int64_t> shape, double v);
  /// Host copy of `v` if it is a constant with at most `maxElems` elements.
  std::optional<ConstTensor> getConst(const TValue &v,
                                      int64_t maxElems = kFoldLimit) const;
  /// Integer contents of a constant (e.g. a shape operand).
  std::optional<SmallVector<int64_t>> getConstInts(const TValue &v) const;
  bool isConst(const TValue &v) const;
  /// True if every present input of `node` is a constant of <= kFoldLimit.
  bool allConst(const Node &node) const;
  // --- Dynamic dims and run-time shape values ------------------------------
  /// Size of dim `k` of `v`: an index attribute when static, else the SSA
  /// index value recorded for it (a tensor.dim if none was).
  OpFoldResult dim(const TValue &v, int64_t k);
  SmallVector<OpFoldResult> dims(const TValue &v);
  /// Records the run-time dims of `v` (dynamic entries are used).
  void recordDims(Value v, ArrayRef<OpFoldResult> dims);
  bool isDynamic(const TValue &v) const { return !v.type().hasStaticShape(); }
  /// An index value for `d`.
  Value indexValue(OpFoldResult d);
  /// Index arithmetic on dims, folded when the operands are constants.
  OpFoldResult addDims(OpFoldResult a, OpFoldResult b);
  OpFoldResult subDims(OpFoldResult a, OpFoldResult b);
  OpFoldResult mulDims(OpFoldResult a, OpFoldResult b);
  /// a / b for a >= 0, b > 0 (floor); ceil when `ceil`.
  OpFoldResult divDims(OpFoldResult a, OpFoldResult b, bool ceil = false);
  OpFoldResult minDims(OpFoldResult a, OpFoldResult b);
  OpFoldResult maxDims(OpFoldResult a, OpFoldResult b);
  OpFoldResult product(ArrayRef<OpFoldResult> dims);
  /// Elements of a small static-shaped integer/bool tensor as scalar values
  /// of its element type: constants, the recorded elements of a run-time
  /// shape computation, or (`extract`) tensor.extract of any small tensor.
  std::optional<SmallVector<Value>> elements(const TValue &v,
                                             bool extract = true);
  /// True if `v` carries recorded run-time elements (a shape computation).
  bool hasElements(const TValue &v) const { return elems.count(v.v); }
  /// A tensor of the given elements (a constant when all are constants),
  /// which remembers them for later shape operands.
  TValue fromElements(ArrayRef<Value> es, ArrayRef<int64_t> shape, DType dt);
  /// A 1-D shape-like operand (Reshape shape, Slice starts, ...) as dims:
  /// constants where known, else run-time index values. nullopt if not a
  /// small static-length integer tensor.
  std::optional<SmallVector<OpFoldResult>> dimsOperand(const TValue &v);
  /// The element count of dims `axes` of `v` as a scalar of type `t` (a
  /// constant when those dims are static).
  Value countOf(const TValue &v, ArrayRef<int64_t> axes, Type t);
  /// Folds `v`'s defining op if all its operands are constants.
  Value fold(Value v);

  /// A scalar arith.constant of the element type of `dt`.
  Value scalar(DType dt, double v);
  Value scalarOfType(Type t, double v);
  static constexpr int64_t kFoldLimit = 1 << 20;

  // --- Structured ops on tensors -------------------------------------------
  Value emptyTensor(ArrayRef<int64_t> shape, Type elemType);
  Value emptyTensorOf(ArrayRef<OpFoldResult> dims, Type elemType);
  /// linalg.generic over the broadcast shape of `ins` (NumPy rules).
  TValue elementwise(ArrayRef<TValue> ins, DType outDt, ScalarFn body);
  /// Same with an explicit output shape (each input must broadcast to it).
  TValue elementwiseTo(ArrayRef<TValue> ins, ArrayRef<int64_t> outShape,
                       DType outDt, ScalarFn body);
  TValue elementwiseToDims(ArrayRef<TValue> ins,
                           ArrayRef<OpFoldResult> outDims, DType outDt,
                           ScalarFn body);
  /// Reduces `axes` (normalized, any order) with `combine(x, acc)` starting
  /// from `init`; `keepDims` keeps them as size 1.
  TValue reduce(const TValue &in, ArrayRef<int64_t> axes, bool keepDims,
                Value init,
                function_ref<Value(OpBuilder &, Location, Value x, Value acc)>
                    combine);
  /// Same data, new static shape (any reshape with equal element count).
  TValue reshape(const TValue &v, ArrayRef<int64_t> shape);
  /// Reshape to dims that may be run-time values (same element count).
  TValue reshapeToDims(const TValue &v, ArrayRef<OpFoldResult> dims);
  /// reshapeToDims as collapse/expand groups of at most one dynamic dim
  /// each; nullopt where the dynamic dims do not line up.
  std::optional<TValue> reshapeKeepingDynamicDims(const TValue &v,
                                                  ArrayRef<OpFoldResult> dims);
  TValue broadcastTo(const TValue &v, ArrayRef<int64_t> shape);
  TValue broadcastToDims(const TValue &v, ArrayRef<OpFoldResult> dims);
  TValue transpose(const TValue &v, ArrayRef<int64_t> perm);
  /// ONNX Cast (float->int truncates toward zero, int->int wraps).
  TValue castTo(const TValue &v, DType to);
  Value castScalar(OpBuilder &b, Location loc, Value x, DType from, DType to);
  /// tensor.extract_slice with static offsets/sizes/strides.
  TValue slice(const TValue &v, ArrayRef<int64_t> offsets,
               ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides);
  TValue sliceDims(const TValue &v, ArrayRef<OpFoldResult> offsets,
                   ArrayRef<OpFoldResult> sizes, ArrayRef<int64_t> strides);
  TValue concat(ArrayRef<TValue> parts, int64_t axis);

private:
  llvm::DenseMap<Value, SmallVector<OpFoldResult>> dimsOf;
  llvm::DenseMap<Value, SmallVector<Value>> elems;
};

/// The Conv window of `node` (group/strides/pads/dilations/auto_pad) over
/// X (N,C,spatial...) and W (M,C/G,k...), padding with 0, accumulating in the
/// element type (integer sums wrap). Result (N,M,out...). NNOps.cpp.
FailureOr<TValue> emitConv(Converter &cv, const Node &node, TValue x,
                           TValue w);
/// y + bias[channel] for y of shape (N,C,...) and a bias of C elements.
TValue emitChannelBias(Converter &cv, const TValue &y, const TValue &bias);

/// Normalizes a possibly negative axis; nullopt if out of [-rank, rank).
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// Calls `fn(index, flat)` for every multi-index of `shape` in row-major
/// order (once with an empty index for rank 0; never for empty shapes).
void forEachIndex(ArrayRef<int64_t> shape,
                  function_ref<void(ArrayRef<int64_t> idx, int64_t flat)> fn);
/// Host-side NumPy broadcast of `c` to `shape` (must be compatible).
ConstTensor broadcastConst(const ConstTensor &c, ArrayRef<int64_t> shape);
/// Host-side cast of a constant to `to` (ONNX Cast semantics).
ConstTensor castConst(const ConstTensor &c, DType to);

} // namespace onnx
} // namespace qopt
} // namespace mlir

#endif
