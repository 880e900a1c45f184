//===- Passes.td - qopt conversion passes ------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_CONVERSION_PASSES
#define QOPT_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertONNXToQOptPass : Pass<"convert-onnx-to-qopt", "ModuleOp"> {
  let summary = "Give each qonnx.node its meaning: qopt + linalg/tensor/arith/math";
  let description = [{
    Walks every function in program order, resolves static shapes and element
    types, folds shape subgraphs (Shape/Gather/Unsqueeze/Concat/Slice/...) and
    constant expressions on small tensors, and emits a function with the same
    name whose arguments and results are static, signless tensors annotated
    with `qopt.name` (the ONNX name) and `qopt.dtype` (the ONNX element type
    number). Unsupported nodes are reported all at once with node name, op
    type and opset.

    Before:
    ```mlir
    func.func @main(%x: tensor<?x4xf32> {qopt.name = "x"}) -> tensor<?x4xf32> {
      %y = qonnx.node "Relu"(%x) {...} : (tensor<?x4xf32>) -> tensor<?x4xf32>
      return %y : tensor<?x4xf32>
    }
    ```
    After (with `input-shapes=x:2x4`): a linalg.generic computing max(x, 0)
    on tensor<2x4xf32>.
  }];
  let options = [
    Option<"inputShapes", "input-shapes", "std::string", /*default=*/"\"\"",
           "Pin dynamic input dims: NAME:1x128[,NAME2:4x3]">,
  ];
  let dependentDialects = [
    "::mlir::qopt::QOptDialect", "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
  ];
}

def ConvertQOptToLinalgPass : Pass<"convert-qopt-to-linalg", "ModuleOp"> {
  let summary = "Lower qopt ops to linalg/tensor/arith on tensors";
  let description = [{
    qopt.matmul becomes tensor.collapse_shape/expand_shape + linalg.matmul or
    linalg.batch_matmul (broadcast batch operands are materialised with
    linalg.broadcast); qopt.quantize / qopt.dequantize become linalg.generic
    with the numerics of docs/semantics.md (round half to even, saturation).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
  ];
}

#endif // QOPT_CONVERSION_PASSES
