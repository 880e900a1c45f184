//===- Passes.td - qopt conversion passes ------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//===----------------------------------------------------------------------===//
#ifndef QOPT_CONVERSION_PASSES
#define QOPT_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertONNXToQOptPass : Pass<"convert-onnx-to-qopt", "ModuleOp"> {
  let summary = "Give each qonnx.node its meaning: qopt + linalg/tensor/arith/math";
  let description = [{
    Walks every function in program order, resolves shapes and element
    types, folds shape subgraphs (Shape/Gather/Unsqueeze/Concat/Slice/...) and
    constant expressions on small tensors, and emits a function with the same
    name whose arguments and results are signless tensors annotated with
    `qopt.name` (the ONNX name), `qopt.dtype` (the ONNX element type number)
    and, for arguments with named dims, `qopt.dim_names` (the ONNX dim_param
    of each dim, "" for others). Unsupported nodes are reported all at once
    with node name, op type and opset.

    Dynamic input dims stay `?` unless pinned: each is one SSA index value
    (a tensor.dim of the first argument that has it; arguments whose dims
    share a dim_param share the value), and shape subgraphs that depend on
    them are computed at run time on scalars (their elements are tracked,
    so a Reshape to `Concat(Shape(x)[0], 8, 32)` gets `?x8x32` with the same
    SSA size as `x`). Ops whose handlers are not yet written for `?` dims
    are reported as such (`handlesDynamicShapes`).

    Before:
    ```mlir
    func.func @main(%x: tensor<?x4xf32> {qopt.name = "x"}) -> tensor<?x4xf32> {
      %y = qonnx.node "Relu"(%x) {...} : (tensor<?x4xf32>) -> tensor<?x4xf32>
      return %y : tensor<?x4xf32>
    }
    ```
    After: a linalg.generic computing max(x, 0) on tensor<?x4xf32> (with
    `input-shapes=x:2x4`: on tensor<2x4xf32>).
  }];
  let options = [
    Option<"inputShapes", "input-shapes", "std::string", /*default=*/"\"\"",
           "Pin dynamic input dims: NAME:1x128[,NAME2:4x3]">,
    Option<"dimMax", "dim-max", "std::string", /*default=*/"\"\"",
           "Bound named dims: NAME:N[,NAME2:M] (recorded as the module "
           "attribute qopt.dim_max for the ABI)">,
  ];
  let dependentDialects = [
    "::mlir::qopt::QOptDialect", "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
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
