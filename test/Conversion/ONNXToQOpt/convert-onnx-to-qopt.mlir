// RUN: qopt-opt %s --split-input-file --convert-onnx-to-qopt="input-shapes=x:2x3" | FileCheck %s

// A dynamic input pinned with input-shapes; the signature becomes static and
// signless with the ONNX name and dtype recorded; Add broadcasts [3] onto
// [2, 3] without materialising the broadcast.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:.*]]: tensor<2x3xf32> {qopt.dtype = 1 : i32, qopt.name = "x"}
// CHECK-SAME: -> (tensor<2x3xf32> {qopt.dtype = 1 : i32, qopt.name = "y"})
// CHECK: %[[B:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[B]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK: arith.addf
func.func @main(%x: tensor<?x3xf32> {qopt.name = "x"}) -> (!qonnx.value {qopt.name = "y"}) {
  %b = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "b", attrs = {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>}} : () -> tensor<3xf32>
  %y = qonnx.node "Add"(%x, %b) {domain = "", opset = 17 : i64, name = "add", attrs = {}} : (tensor<?x3xf32>, tensor<3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Unsigned inputs become signless storage with dtype 2 (uint8); a shape
// subgraph (Shape -> Gather -> Add) folds to a constant.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: tensor<2x3xi8> {qopt.dtype = 2 : i32, qopt.name = "x"}
// CHECK-SAME: -> (tensor<i64> {qopt.dtype = 7 : i32, qopt.name = "n"})
// CHECK: %[[C:.*]] = arith.constant dense<4> : tensor<i64>
// CHECK: return %[[C]]
func.func @main(%x: tensor<2x3xui8> {qopt.name = "x"}) -> (!qonnx.value {qopt.name = "n"}) {
  %s = qonnx.node "Shape"(%x) {domain = "", opset = 17 : i64, name = "shape", attrs = {}} : (tensor<2x3xui8>) -> !qonnx.value
  %i = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "i", attrs = {value = dense<1> : tensor<i64>}} : () -> tensor<i64>
  %d = qonnx.node "Gather"(%s, %i) {domain = "", opset = 17 : i64, name = "g", attrs = {axis = 0 : i64}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %o = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "one", attrs = {value = dense<1> : tensor<i64>}} : () -> tensor<i64>
  %n = qonnx.node "Add"(%d, %o) {domain = "", opset = 17 : i64, name = "add", attrs = {}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  return %n : !qonnx.value
}

// -----

// Gemm transB on a constant weight: the transpose folds at compile time, so
// the matmul's right operand is a constant [K, N] (what weight quantization
// looks for), not a linalg.transpose.
// CHECK-LABEL: func.func @main(
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-NOT: linalg.transpose
// CHECK: qopt.matmul %{{.*}}, %[[W]]
func.func @main(%x: tensor<2x3xf32> {qopt.name = "x"}, %a: tensor<1x2xf32> {qopt.name = "a"}) -> (!qonnx.value {qopt.name = "y"}) {
  %w = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "w", attrs = {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>}} : () -> tensor<2x2xf32>
  %y = qonnx.node "Gemm"(%a, %w) {domain = "", opset = 17 : i64, name = "fc", attrs = {transB = 1 : i64}} : (tensor<1x2xf32>, tensor<2x2xf32>) -> !qonnx.value
  return %y : !qonnx.value
}
