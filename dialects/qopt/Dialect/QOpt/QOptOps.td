//===- QOptOps.td - the qopt graph IR ----------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The graph-level IR the quantization passes work on. Compute that needs no
// graph-level identity is plain linalg/tensor/arith; ops live here when a
// later pass must recognise them (matmul-like layers, quantize/dequantize).
// Numerics are specified once in docs/semantics.md; the lowerings cite it.
// Tensors are signless: signedness of integer storage is an attribute.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_OPS
#define QOPT_DIALECT_QOPT_OPS

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def QOpt_Dialect : Dialect {
  let name = "qopt";
  let summary = "qopt's quantization-aware graph IR";
  let cppNamespace = "::mlir::qopt";
}

class QOpt_Op<string mnemonic, list<Trait> traits = []>
    : Op<QOpt_Dialect, mnemonic, traits>;

def QOpt_DequantizeOp : QOpt_Op<"dequantize", [Pure]> {
  let summary = "integer tensor to float: (x - zero_point) * scale";
  let description = [{
    ONNX DequantizeLinear semantics (docs/semantics.md §2). `scale` and
    `zero_point` are 0-D (per tensor) or 1-D along `axis` (per channel).
    `is_unsigned` says how the signless storage of `input` and `zero_point`
    is read.

    Constraints: (C1) input and zero_point are integer tensors of the same
    element type; (C2) scale and result have the same float element type;
    (C3) scale and zero_point have rank 0 or 1 and the same shape; (C4) a
    rank-1 scale has the size of the input's `axis` dimension.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       UnitAttr:$is_unsigned);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def QOpt_MatMulOp : QOpt_Op<"matmul", [Pure]> {
  let summary = "N-D matrix product with NumPy broadcasting (ONNX MatMul)";
  let description = [{
    The layer that weight quantization rewrites. Batch dimensions broadcast;
    a rank-1 operand is promoted as in numpy.matmul.

    Constraints: (C1) operands and result share one element type; (C2) the
    contraction dimensions agree; (C3) the result shape is the broadcast of
    the batch dimensions followed by M and N.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def QOpt_QuantizeOp : QOpt_Op<"quantize", [Pure]> {
  let summary = "float tensor to integer: saturate(round_half_even(x / scale) + zero_point)";
  let description = [{
    ONNX QuantizeLinear semantics (docs/semantics.md §1): division (not a
    reciprocal multiply), round half to even, add the zero point, saturate
    to the storage range given by the result width and `is_unsigned`.

    Constraints: as qopt.dequantize with input and result swapped.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       UnitAttr:$is_unsigned);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // QOPT_DIALECT_QOPT_OPS
