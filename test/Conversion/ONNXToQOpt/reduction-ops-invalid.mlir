// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file --verify-diagnostics

// Run-time axes are supported (runtime-operands.mlir), but not a run-time
// number of them: the output rank would depend on it.
func.func @dynamic_axes(%x: tensor<2x3xf32> {qopt.name = "x"}, %a: tensor<?xi64> {qopt.name = "a"}) -> !qonnx.value {
  // expected-error @+1 {{node 'r' (ReduceSum, opset 13): 'axes' must be a 1-D integer tensor of static length}}
  %y = qonnx.node "ReduceSum"(%x, %a) {domain = "", opset = 13 : i64, name = "r", attrs = {}} : (tensor<2x3xf32>, tensor<?xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @bad_axis(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  // expected-error @+1 {{node 'r' (ReduceMax, opset 13): axis 2 is out of range for rank 2}}
  %y = qonnx.node "ReduceMax"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {axes = array<i64: 2>}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @bool_sum(%x: tensor<2xi1> {qopt.name = "x"}) -> !qonnx.value {
  // expected-error @+1 {{node 'r' (ReduceSum, opset 13): unsupported element type bool}}
  %y = qonnx.node "ReduceSum"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {}} : (tensor<2xi1>) -> !qonnx.value
  return %y : !qonnx.value
}
