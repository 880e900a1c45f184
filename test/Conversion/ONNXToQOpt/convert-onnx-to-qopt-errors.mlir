// Errors of convert-onnx-to-qopt: each is one clear diagnostic.
// RUN: not qopt-opt %s --split-input-file --convert-onnx-to-qopt="input-shapes=x:2x3" 2>&1 | FileCheck %s

// Every unsupported node is listed at once, with name, op type and opset.
// CHECK: 2 unsupported ONNX node(s):
// CHECK-NEXT: 'loss' (NegativeLogLikelihoodLoss, opset 17)
// CHECK-NEXT: 'custom' (com.example.Frobnicate, opset 1)
func.func @main(%x: tensor<2x3xf32> {qopt.name = "x"}, %t: tensor<2xi64> {qopt.name = "t"}) -> (!qonnx.value {qopt.name = "y"}) {
  %l = qonnx.node "NegativeLogLikelihoodLoss"(%x, %t) {domain = "", opset = 17 : i64, name = "loss", attrs = {}} : (tensor<2x3xf32>, tensor<2xi64>) -> !qonnx.value
  %y = qonnx.node "Frobnicate"(%l) {domain = "com.example", opset = 1 : i64, name = "custom", attrs = {}} : (!qonnx.value) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// An input of unknown rank (dynamic dims of a known rank are fine).
// CHECK: input 'z' has unknown rank ('tensor<*xf32>'); give it a shape with --input-shape=z:D0xD1x...
func.func @main(%z: tensor<*xf32> {qopt.name = "z"}) -> (tensor<*xf32> {qopt.name = "z"}) {
  return %z : tensor<*xf32>
}

// -----

// A pinned shape that contradicts the declared one.
// CHECK: --input-shape for 'x' does not match its declared type 'tensor<5x3xf32>'
func.func @main(%x: tensor<5x3xf32> {qopt.name = "x"}) -> (tensor<5x3xf32> {qopt.name = "x"}) {
  return %x : tensor<5x3xf32>
}

// -----

// Operand shapes that do not broadcast name the node.
// CHECK: node 'bad_add' (Add, opset 17): operand shapes do not broadcast: [2x3] [4]
func.func @main(%x: tensor<2x3xf32> {qopt.name = "x"}, %w: tensor<4xf32> {qopt.name = "w"}) -> (!qonnx.value {qopt.name = "y"}) {
  %y = qonnx.node "Add"(%x, %w) {domain = "", opset = 17 : i64, name = "bad_add", attrs = {}} : (tensor<2x3xf32>, tensor<4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}
