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
    With `block_size` > 0 the parameters are per group: they have the
    input's rank, and element `i` along `axis` uses parameter
    `i / block_size` (ONNX opset-21 blocked quantization; int4 groups).
    `is_unsigned` says how the signless storage of `input` and `zero_point`
    is read.

    Constraints: (C1) input and zero_point are integer tensors of the same
    element type; (C2) scale and result have the same float element type;
    (C3) scale and zero_point have the same shape: rank 0 or 1, or the
    input's rank when blocked; (C4) a rank-1 scale has the size of the
    input's `axis` dimension; a blocked scale has ceil(dim / block_size)
    along `axis` and the input's size elsewhere.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale,
                       AnyRankedTensor:$zero_point,
                       DefaultValuedAttr<I64Attr, "1">:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       UnitAttr:$is_unsigned);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def QOpt_DynamicQuantizeOp : QOpt_Op<"dynamic_quantize", [Pure]> {
  let summary = "float tensor to integer with scales computed at run time";
  let description = [{
    Quantizes `input` with a scale and zero point derived from the data
    itself (docs/semantics.md §4): one pair for the whole tensor, or one per
    row (`per_row`: per token; rows are all dimensions but the last) with
    `scale`/`zero_point` shaped like the input without its last dimension.
    Asymmetric (ONNX DynamicQuantizeLinear for 8-bit unsigned):
    `scale = (max(0, max x) - min(0, min x)) / (qmax - qmin)`,
    `zp = clamp(roundeven(qmin - min(0, min x) / scale))`. Symmetric:
    `scale = max|x| / qmax`, `zp = 0`. A zero scale (all-zero input) is
    replaced by 1. The result is `qopt.quantize(input, scale, zp)`.

    Constraints: (C1) input is float, result integer of `bits` width;
    (C2) scale is f32 and zero_point has the result's element type; (C3)
    their shape is [] or, with `per_row`, the input shape without its last
    dimension.
  }];
  let arguments = (ins AnyRankedTensor:$input, UnitAttr:$per_row,
                       UnitAttr:$symmetric, UnitAttr:$is_unsigned);
  let results = (outs AnyRankedTensor:$result, AnyRankedTensor:$scale,
                      AnyRankedTensor:$zero_point);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($result) `,` type($scale) `,`
    type($zero_point)
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

def QOpt_ObserveOp : QOpt_Op<"observe", [AllTypesMatch<["input", "result"]>]> {
  let summary = "calibration probe: reports a tensor to the statistics collector";
  let description = [{
    Returns its input unchanged. In a calibration build the lowering calls
    the runtime's collector with `id` and the tensor's data (docs/semantics.md
    §6); `label` names the layer input for reports. It has a side effect so it
    survives folding; qopt-strip-observers removes it.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$id, StrAttr:$label);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def QOpt_QMatMulOp : QOpt_Op<"qmatmul", [Pure]> {
  let summary = "integer matrix product with int32 accumulation (ONNX MatMulInteger)";
  let description = [{
    `sum_k (lhs[.., m, k] - lhs_zp) * (rhs[.., k, n] - rhs_zp)` accumulated in
    i32 with wraparound (docs/semantics.md §5). Operands are 8-bit or
    narrower integers read as unsigned when `lhs_unsigned`/`rhs_unsigned`;
    batch dimensions broadcast as in qopt.matmul. `lhs_zp` is 0-D or 1-D of
    size M (per row); `rhs_zp` is 0-D or 1-D of size N (per column).

    Constraints: (C1) lhs, rhs and their zero points are integers of at most
    8 bits, each zero point of its operand's type; (C2) the result is i32;
    (C3) shapes as qopt.matmul; (C4) zero points are 0-D or per row/column.
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       AnyRankedTensor:$lhs_zp, AnyRankedTensor:$rhs_zp,
                       UnitAttr:$lhs_unsigned, UnitAttr:$rhs_unsigned);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $lhs_zp `,` $rhs_zp attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def QOpt_UnpackInt4Op : QOpt_Op<"unpack_int4", [Pure]> {
  let summary = "int4 values stored two per byte to one signed value per i8";
  let description = [{
    `input` is the packed storage of an int4 tensor of `result`'s shape,
    flattened row-major: byte `j` holds element `2j` in its low nibble and
    element `2j + 1` in its high nibble, each a two's-complement value in
    [-8, 7] (docs/semantics.md §10). The result is one i8 per element,
    sign-extended. The weight quantizers emit it in front of the int4
    weight constants so the `.weights` file holds half a byte per weight.

    Constraints: (C1) input is a 1-D i8 tensor of ceil(numel / 2) elements,
    numel the result's element count; (C2) the result is a static-shape i8
    tensor.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($result)
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
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
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
