//===- QONNXOps.td - raw imported ONNX nodes ---------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
//
// The importer is mechanical: every ONNX node becomes one generic `qonnx.node`
// carrying its op type, domain, opset, node name and attributes. All meaning
// lives in `convert-onnx-to-qopt`.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QONNX_OPS
#define QOPT_DIALECT_QONNX_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def QONNX_Dialect : Dialect {
  let name = "qonnx";
  let summary = "Raw ONNX nodes as imported, before legalization";
  let cppNamespace = "::mlir::qonnx";
  let useDefaultTypePrinterParser = 1;
}

class QONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<QONNX_Dialect, mnemonic, traits>;

def QONNX_ValueType : TypeDef<QONNX_Dialect, "Value"> {
  let mnemonic = "value";
  let summary = "an ONNX value whose type is not known before legalization";
}

def QONNX_AnyValue : AnyTypeOf<[AnyTensor, QONNX_ValueType, NoneType]>;

def QONNX_NodeOp : QONNX_Op<"node"> {
  let summary = "one ONNX node, verbatim";
  let description = [{
    `op_type`, `domain` ("" is the default ONNX domain) and `opset` (the
    version imported for that domain) identify the operator. `attrs` holds
    the ONNX attributes: INT as i64, FLOAT as f32, STRING as a string,
    INTS as `array<i64>`, FLOATS as `array<f32>`, STRINGS as an array of
    strings, TENSOR as elements. Absent optional inputs are `qonnx.none`
    values. Result types are hints from the model's value_info; the
    legalization recomputes them.

    Constraints: (C1) `op_type` is not empty; (C2) `opset` >= 1.

    ```mlir
    %y = qonnx.node "Add"(%a, %b) {domain = "", opset = 17 : i64,
           name = "add0", attrs = {}} : (tensor<2xf32>, tensor<2xf32>) -> !qonnx.value
    ```
  }];
  let arguments = (ins StrAttr:$op_type, StrAttr:$domain, I64Attr:$opset,
                       StrAttr:$name, DictionaryAttr:$attrs,
                       Variadic<QONNX_AnyValue>:$inputs);
  let results = (outs Variadic<QONNX_AnyValue>:$outputs);
  let assemblyFormat = [{
    $op_type `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs)
  }];
  let hasVerifier = 1;
}

def QONNX_NoneOp : QONNX_Op<"none", [Pure]> {
  let summary = "an absent optional input";
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

#endif // QOPT_DIALECT_QONNX_OPS
