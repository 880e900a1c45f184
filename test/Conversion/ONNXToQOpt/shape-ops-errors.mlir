// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file -verify-diagnostics

func.func @reshape_dynamic(%x: tensor<2x3xf32> {qopt.name = "x"}, %s: tensor<?xi64> {qopt.name = "s"}) -> !qonnx.value {
  // expected-error @+1 {{node 'r' (Reshape, opset 17): 'shape' must be a 1-D integer tensor of static length}}
  %y = qonnx.node "Reshape"(%x, %s) {domain = "", opset = 17 : i64, name = "r", attrs = {}} : (tensor<2x3xf32>, tensor<?xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c", attrs = {value = dense<[4, -1]> : tensor<2xi64>}} : () -> tensor<2xi64>
  // expected-error @+1 {{cannot infer -1: 6 elements do not divide by 4}}
  %y = qonnx.node "Reshape"(%x, %s) {domain = "", opset = 17 : i64, name = "r", attrs = {}} : (tensor<2x3xf32>, tensor<2xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @cast_string(%x: tensor<2xf32> {qopt.name = "x"}) -> !qonnx.value {
  // expected-error @+1 {{string tensors are unsupported}}
  %y = qonnx.node "Cast"(%x) {domain = "", opset = 13 : i64, name = "c", attrs = {to = 8 : i64}} : (tensor<2xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @squeeze_non_one(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  // expected-error @+1 {{cannot squeeze dimension 1 of size 3}}
  %y = qonnx.node "Squeeze"(%x) {domain = "", opset = 11 : i64, name = "s", attrs = {axes = array<i64: 1>}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @gather_oob(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %i = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c", attrs = {value = dense<[3]> : tensor<1xi64>}} : () -> tensor<1xi64>
  // expected-error @+1 {{index 3 out of range [-3, 3)}}
  %y = qonnx.node "Gather"(%x, %i) {domain = "", opset = 13 : i64, name = "g", attrs = {axis = 1 : i64}} : (tensor<2x3xf32>, tensor<1xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @split_sum(%x: tensor<2x3xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  // expected-error @+1 {{split sizes sum to 4, not the dimension 3}}
  %y:2 = qonnx.node "Split"(%x) {domain = "", opset = 11 : i64, name = "s", attrs = {axis = 1 : i64, split = array<i64: 2, 2>}} : (tensor<2x3xf32>) -> (!qonnx.value, !qonnx.value)
  return %y#0, %y#1 : !qonnx.value, !qonnx.value
}

// -----

func.func @range_dynamic(%a: tensor<2xf32> {qopt.name = "a"}) -> !qonnx.value {
  // expected-error @+1 {{start, limit and delta must be numeric scalars}}
  %y = qonnx.node "Range"(%a, %a, %a) {domain = "", opset = 11 : i64, name = "r", attrs = {}} : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> !qonnx.value
  return %y : !qonnx.value
}
