//===- RuntimeOperands.h - shape operands known only at run time -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The handlers of ShapeOps.cpp / ReductionOps.cpp fold shape-like operands
// that are constants; when one is computed at run time (a graph input, as
// in the ONNX backend tests) they call these, which compute the output's
// `?` dims from the operand's values (RuntimeOperands.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CONVERSION_ONNXTOQOPT_RUNTIMEOPERANDS_H
#define QOPT_LIB_CONVERSION_ONNXTOQOPT_RUNTIMEOPERANDS_H

#include "Converter.h"

namespace mlir::qopt::onnx {

/// linalg.generic over `outDims` (static or run-time sizes) whose body sees
/// the iteration indices (index-typed) and one scalar per input (read
/// through `inMaps`). ShapeOps.cpp.
TValue indexGenericDims(
    Converter &cv, ArrayRef<OpFoldResult> outDims, DType dt,
    ArrayRef<Value> ins, ArrayRef<AffineMap> inMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body);

/// Unsqueeze / Squeeze with run-time `axes` (input 1): every output dim
/// is a run-time size.
LogicalResult convertUnsqueezeRuntime(Converter &cv, const Node &node,
                                      SmallVectorImpl<TValue> &res);
LogicalResult convertSqueezeRuntime(Converter &cv, const Node &node,
                                    SmallVectorImpl<TValue> &res);
/// Slice with run-time `axes` or `steps` (any sign).
LogicalResult convertSliceRuntime(Converter &cv, const Node &node,
                                  SmallVectorImpl<TValue> &res);
/// Split with run-time `split` sizes (input 1).
LogicalResult convertSplitRuntime(Converter &cv, const Node &node,
                                  SmallVectorImpl<TValue> &res);
/// Tile with run-time `repeats`.
LogicalResult convertTileRuntime(Converter &cv, const Node &node,
                                 SmallVectorImpl<TValue> &res);
/// OneHot with a run-time `depth` (`values` and `axis`, normalized,
/// checked by the caller).
LogicalResult convertOneHotRuntime(Converter &cv, const Node &node,
                                   int64_t axis, SmallVectorImpl<TValue> &res);
/// Pad (opset >= 11) with run-time `pads`.
LogicalResult convertPadRuntime(Converter &cv, const Node &node,
                                SmallVectorImpl<TValue> &res);
/// ReduceSum (opset >= 13) with run-time `axes`.
LogicalResult convertReduceSumRuntime(Converter &cv, const Node &node,
                                      SmallVectorImpl<TValue> &res);
/// Resize / Upsample with `operand` (scales, or sizes when `isSizes`) known
/// at run time, for the `axes` given (empty: all). RuntimeResize.cpp.
LogicalResult convertResizeRuntime(Converter &cv, const Node &n,
                                   SmallVectorImpl<TValue> &res,
                                   const TValue &x, const TValue &operand,
                                   bool isSizes, ArrayRef<int64_t> axes,
                                   StringRef mode, StringRef ctm, StringRef nm);
/// An op whose result types do not depend on the value of its scalar
/// operand `k` (an axis, e.g. CumSum's): one case per axis in [0, rank)
/// (scf.index_switch on the normalized run-time value), each converted by
/// `handler` with that operand a constant. An out-of-range axis gives the
/// input unchanged (results of the input's type) or zeros.
LogicalResult convertWithRuntimeAxis(Converter &cv, const Node &node,
                                     unsigned k, int64_t rank,
                                     const Handler &handler, SmallVectorImpl<TValue> &res);

} // namespace mlir::qopt::onnx

#endif
