// RUN: qopt-opt %s --split-input-file --verify-diagnostics

func.func @empty_op_type(%a: tensor<2xf32>) {
  // expected-error @+1 {{'qonnx.node' op (C1) op_type must not be empty}}
  %y = qonnx.node ""(%a) {domain = "", opset = 17 : i64, name = "n",
         attrs = {}} : (tensor<2xf32>) -> !qonnx.value
  return
}

// -----

func.func @opset_zero(%a: tensor<2xf32>) {
  // expected-error @+1 {{'qonnx.node' op (C2) opset must be >= 1, got 0}}
  %y = qonnx.node "Relu"(%a) {domain = "", opset = 0 : i64, name = "n",
         attrs = {}} : (tensor<2xf32>) -> !qonnx.value
  return
}

// -----

func.func @negative_opset(%a: tensor<2xf32>) {
  // expected-error @+1 {{'qonnx.node' op (C2) opset must be >= 1, got -3}}
  %y = qonnx.node "Relu"(%a) {domain = "", opset = -3 : i64, name = "n",
         attrs = {}} : (tensor<2xf32>) -> !qonnx.value
  return
}

// -----

func.func @missing_attrs(%a: tensor<2xf32>) {
  // expected-error @+1 {{requires attribute 'attrs'}}
  %y = qonnx.node "Relu"(%a) {domain = "", opset = 17 : i64, name = "n"}
         : (tensor<2xf32>) -> !qonnx.value
  return
}

// -----

func.func @bad_operand_type(%a: memref<2xf32>) {
  // expected-error @+1 {{operand #0 must be variadic of}}
  %y = qonnx.node "Relu"(%a) {domain = "", opset = 17 : i64, name = "n",
         attrs = {}} : (memref<2xf32>) -> !qonnx.value
  return
}

// -----

func.func @bad_opset_type(%a: tensor<2xf32>) {
  // expected-error @+1 {{attribute 'opset' failed to satisfy constraint: 64-bit signless integer attribute}}
  %y = qonnx.node "Relu"(%a) {domain = "", opset = 17 : i32, name = "n",
         attrs = {}} : (tensor<2xf32>) -> !qonnx.value
  return
}
