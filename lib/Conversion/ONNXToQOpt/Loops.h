//===- Loops.h - scf loop helpers for the data-dependent ONNX ops -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// Ops whose writes depend on data (ScatterND, ScatterElements, TopK, NonZero,
// Compress, Unique) are built as scf loops over tensors carried as
// iter_args (tensor.extract / tensor.insert in the body); one-shot
// bufferization turns them into in-place loads and stores.
//
//===----------------------------------------------------------------------===//
#ifndef QOPT_LIB_CONVERSION_ONNXTOQOPT_LOOPS_H
#define QOPT_LIB_CONVERSION_ONNXTOQOPT_LOOPS_H

#include "Converter.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::qopt::onnx {

using LoopBody = function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                 ValueRange ivs,
                                                 ValueRange iters)>;

/// Nested scf.for from 0 to each of `ubs` (step 1) carrying `iters`; the
/// body returns the next iteration's values. No loops: the body runs once.
SmallVector<Value> loopNest(OpBuilder &b, Location loc, ArrayRef<Value> ubs,
                            ValueRange iters, LoopBody body);

/// scf.if yielding `thenFn()` or `elseFn()` (same types).
SmallVector<Value>
ifThenElse(OpBuilder &b, Location loc, Value cond,
           function_ref<SmallVector<Value>(OpBuilder &, Location)> thenFn,
           function_ref<SmallVector<Value>(OpBuilder &, Location)> elseFn);

Value idxConst(OpBuilder &b, Location loc, int64_t v);
/// `x` (any integer type) as an index; negative values wrapped once by
/// `dim`. `inRange` (if given) gets 0 <= result < dim.
Value wrapIndex(OpBuilder &b, Location loc, Value x, Value dim,
                Value *inRange = nullptr);
/// wrapIndex clamped into [0, dim) (dim 0 gives 0): reads never leave the
/// tensor, whatever the index data.
Value clampIndex(OpBuilder &b, Location loc, Value x, Value dim);

/// Total orders on scalars of `dt` used by TopK / Unique: NaN is above
/// every number and equal to itself; signedness from `dt`.
Value lessThan(OpBuilder &b, Location loc, Value x, Value y, DType dt);
Value equalTo(OpBuilder &b, Location loc, Value x, Value y, DType dt);

/// A copy of `v` in a buffer of its own, for loops that update a tensor in
/// place: bufferization would otherwise write into `v`'s buffer, which may
/// be the caller's input (function arguments are writable). An element-
/// by-element generic reading `v` with tensor.extract, which no
/// canonicalization folds back into `v` (an identity copy would be).
TValue freshCopy(Converter &cv, const TValue &v);

/// The dims of `v` as index values.
SmallVector<Value> dimValues(Converter &cv, const TValue &v);

} // namespace mlir::qopt::onnx

#endif
