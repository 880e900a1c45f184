// Pre-opset-7 semantics: legacy `broadcast`/`axis`, PRelu slopes, Gemm's C,
// BatchNormalization's is_test/spatial, Dropout's is_test, Tile-1.
// RUN: qopt-opt %s --split-input-file --convert-onnx-to-qopt --verify-diagnostics | FileCheck %s

// broadcast=1 with axis=1: B (3) lines up with A's dim 1, not the last dim.
// CHECK-LABEL: func @add_axis
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2]] output_shape [1, 3, 1] : tensor<3xf32> into tensor<1x3x1xf32>
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: return %{{.*}} : tensor<2x3x4xf32>
func.func @add_axis(%a: tensor<2x3x4xf32> {qopt.name = "a"}, %b: tensor<3xf32> {qopt.name = "b"}) -> !qonnx.value {
  %y = qonnx.node "Add"(%a, %b) {domain = "", opset = 6 : i64, name = "add", attrs = {broadcast = 1 : i64, axis = 1 : i64, consumed_inputs = array<i64: 0, 0>}} : (tensor<2x3x4xf32>, tensor<3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Without axis: suffix matching; a single-element B applies everywhere.
// CHECK-LABEL: func @mul_suffix
// CHECK: tensor<1x1x4xf32>
// CHECK: return %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<2x3xi1>
func.func @mul_suffix(%a: tensor<2x3x4xf32> {qopt.name = "a"}, %b: tensor<4xf32> {qopt.name = "b"}, %c: tensor<2x3xf32> {qopt.name = "c"}, %d: tensor<1x1x1xf32> {qopt.name = "d"}) -> (!qonnx.value, !qonnx.value) {
  %y = qonnx.node "Mul"(%a, %b) {domain = "", opset = 1 : i64, name = "mul", attrs = {broadcast = 1 : i64}} : (tensor<2x3x4xf32>, tensor<4xf32>) -> !qonnx.value
  %z = qonnx.node "Less"(%c, %d) {domain = "", opset = 1 : i64, name = "less", attrs = {broadcast = 1 : i64}} : (tensor<2x3xf32>, tensor<1x1x1xf32>) -> !qonnx.value
  return %y, %z : !qonnx.value, !qonnx.value
}

// -----

// Opset 7 ignores the legacy attributes: NumPy broadcasting.
// CHECK-LABEL: func @add_numpy
// CHECK: return %{{.*}} : tensor<2x3x4xf32>
func.func @add_numpy(%a: tensor<2x3x1xf32> {qopt.name = "a"}, %b: tensor<4xf32> {qopt.name = "b"}) -> !qonnx.value {
  %y = qonnx.node "Add"(%a, %b) {domain = "", opset = 7 : i64, name = "add", attrs = {}} : (tensor<2x3x1xf32>, tensor<4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @add_no_broadcast(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<3xf32> {qopt.name = "b"}) -> !qonnx.value {
  // expected-error @+1 {{node 'add' (Add, opset 6): operand shapes [2x3] and [3] differ but broadcast=0}}
  %y = qonnx.node "Add"(%a, %b) {domain = "", opset = 6 : i64, name = "add", attrs = {}} : (tensor<2x3xf32>, tensor<3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @sub_bad_axis(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<3xf32> {qopt.name = "b"}) -> !qonnx.value {
  // expected-error @+1 {{B [3] does not broadcast onto A [2x3] at axis 0}}
  %y = qonnx.node "Sub"(%a, %b) {domain = "", opset = 6 : i64, name = "sub", attrs = {broadcast = 1 : i64, axis = 0 : i64}} : (tensor<2x3xf32>, tensor<3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @div_bad_broadcast(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<2x3xf32> {qopt.name = "b"}) -> !qonnx.value {
  // expected-error @+1 {{unsupported broadcast=2}}
  %y = qonnx.node "Div"(%a, %b) {domain = "", opset = 6 : i64, name = "div", attrs = {broadcast = 2 : i64}} : (tensor<2x3xf32>, tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// PRelu-6: one slope per channel (dim 1), even where NumPy would align it
// with the last dim.
// CHECK-LABEL: func @prelu
// CHECK: tensor<1x3x1xf32>
// CHECK: return %{{.*}} : tensor<2x3x3xf32>
func.func @prelu(%x: tensor<2x3x3xf32> {qopt.name = "x"}, %s: tensor<3xf32> {qopt.name = "s"}) -> !qonnx.value {
  %y = qonnx.node "PRelu"(%x, %s) {domain = "", opset = 6 : i64, name = "prelu", attrs = {}} : (tensor<2x3x3xf32>, tensor<3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @prelu_bad(%x: tensor<2x3x4xf32> {qopt.name = "x"}, %s: tensor<4xf32> {qopt.name = "s"}) -> !qonnx.value {
  // expected-error @+1 {{slope [4] is neither a single value nor one per channel of X [2x3x4]}}
  %y = qonnx.node "PRelu"(%x, %s) {domain = "", opset = 6 : i64, name = "prelu", attrs = {}} : (tensor<2x3x4xf32>, tensor<4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @gemm_no_broadcast(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<3x4xf32> {qopt.name = "b"}, %c: tensor<4xf32> {qopt.name = "c"}) -> !qonnx.value {
  // expected-error @+1 {{C must be 2x4 with broadcast=0}}
  %y = qonnx.node "Gemm"(%a, %b, %c) {domain = "", opset = 6 : i64, name = "g", attrs = {}} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// BatchNormalization spatial=0: per-activation parameters (C x H).
// CHECK-LABEL: func @bn_per_activation
// CHECK: tensor<1x3x4xf32>
// CHECK: return %{{.*}} : tensor<2x3x4xf32>
func.func @bn_per_activation(%x: tensor<2x3x4xf32> {qopt.name = "x"}, %s: tensor<3x4xf32> {qopt.name = "s"}, %b: tensor<3x4xf32> {qopt.name = "b"}, %m: tensor<3x4xf32> {qopt.name = "m"}, %v: tensor<3x4xf32> {qopt.name = "v"}) -> !qonnx.value {
  %y = qonnx.node "BatchNormalization"(%x, %s, %b, %m, %v) {domain = "", opset = 6 : i64, name = "bn", attrs = {is_test = 1 : i64, spatial = 0 : i64}} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @bn_training(%x: tensor<2x3xf32> {qopt.name = "x"}, %p: tensor<3xf32> {qopt.name = "p"}) -> !qonnx.value {
  // expected-error @+1 {{is_test=0 (training mode) is unsupported}}
  %y = qonnx.node "BatchNormalization"(%x, %p, %p, %p, %p) {domain = "", opset = 6 : i64, name = "bn", attrs = {}} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @dropout_training(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  // expected-error @+1 {{is_test=0 (training mode) is unsupported}}
  %y = qonnx.node "Dropout"(%x) {domain = "", opset = 6 : i64, name = "d", attrs = {}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Dropout-6 with is_test=1 is the identity.
// CHECK-LABEL: func @dropout_test
// CHECK-NEXT: return %{{.*}} : tensor<2x3xf32>
func.func @dropout_test(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "Dropout"(%x) {domain = "", opset = 6 : i64, name = "d", attrs = {is_test = 1 : i64}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Tile-1: scalar `tiles` and `axis` inputs.
// CHECK-LABEL: func @tile1
// CHECK: return %{{.*}} : tensor<2x9xf32>
func.func @tile1(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %t = qonnx.node "Constant"() {domain = "", opset = 1 : i64, name = "tiles", attrs = {value = dense<3> : tensor<i64>}} : () -> tensor<i64>
  %a = qonnx.node "Constant"() {domain = "", opset = 1 : i64, name = "axis", attrs = {value = dense<1> : tensor<i64>}} : () -> tensor<i64>
  %y = qonnx.node "Tile"(%x, %t, %a) {domain = "", opset = 1 : i64, name = "t", attrs = {}} : (tensor<2x3xf32>, tensor<i64>, tensor<i64>) -> !qonnx.value
  return %y : !qonnx.value
}
