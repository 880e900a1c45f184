// RUN: qopt-opt %s --split-input-file --convert-onnx-to-qopt --verify-diagnostics | FileCheck %s

// Opset-21 blocked QuantizeLinear / DequantizeLinear (per group along axis 1).
// CHECK-LABEL: func @blocked
// CHECK: qopt.quantize %{{.*}}, %{{.*}}, %{{.*}} {block_size = 4 : i64} : (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<2x8xi8>
// CHECK: qopt.dequantize %{{.*}}, %{{.*}}, %{{.*}} {block_size = 4 : i64, is_unsigned} : (tensor<2x8xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<2x8xf32>
func.func @blocked(%x: tensor<2x8xf32> {qopt.name = "x"}, %s: tensor<2x2xf32> {qopt.name = "s"}, %z: tensor<2x2xsi8> {qopt.name = "z"}, %q: tensor<2x8xui8> {qopt.name = "q"}, %zu: tensor<2x2xui8> {qopt.name = "zu"}) -> (!qonnx.value, !qonnx.value) {
  %y = qonnx.node "QuantizeLinear"(%x, %s, %z) {domain = "", opset = 21 : i64, name = "ql", attrs = {axis = 1 : i64, block_size = 4 : i64}} : (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xsi8>) -> !qonnx.value
  %d = qonnx.node "DequantizeLinear"(%q, %s, %zu) {domain = "", opset = 21 : i64, name = "dql", attrs = {axis = 1 : i64, block_size = 4 : i64}} : (tensor<2x8xui8>, tensor<2x2xf32>, tensor<2x2xui8>) -> !qonnx.value
  return %y, %d : !qonnx.value, !qonnx.value
}

// -----

// CHECK-LABEL: func @dynamic
// CHECK: qopt.dynamic_quantize %{{.*}} {is_unsigned} : tensor<3x4xf32> -> tensor<3x4xi8>, tensor<f32>, tensor<i8>
func.func @dynamic(%x: tensor<3x4xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %y:3 = qonnx.node "DynamicQuantizeLinear"(%x) {domain = "", opset = 11 : i64, name = "dq", attrs = {}} : (tensor<3x4xf32>) -> (!qonnx.value, !qonnx.value, !qonnx.value)
  return %y#0, %y#1, %y#2 : !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// MatMulInteger: a per-row a_zero_point, no b_zero_point (0).
// CHECK-LABEL: func @matmulinteger
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {lhs_unsigned} : (tensor<4x3xi8>, tensor<3x2xi8>, tensor<4xi8>, tensor<i8>) -> tensor<4x2xi32>
func.func @matmulinteger(%a: tensor<4x3xui8> {qopt.name = "a"}, %b: tensor<3x2xsi8> {qopt.name = "b"}, %az: tensor<4xui8> {qopt.name = "az"}) -> !qonnx.value {
  %y = qonnx.node "MatMulInteger"(%a, %b, %az) {domain = "", opset = 10 : i64, name = "mmi", attrs = {}} : (tensor<4x3xui8>, tensor<3x2xsi8>, tensor<4xui8>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// QLinearMatMul: qmatmul + requantization with m = (sa * sb) / sy in f32.
// CHECK-LABEL: func @qlinearmatmul
// CHECK: %[[ACC:.*]] = qopt.qmatmul {{.*}} -> tensor<2x2x3xi32>
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: arith.divf
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: math.roundeven
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
func.func @qlinearmatmul(%a: tensor<2x2x4xui8> {qopt.name = "a"}, %sa: tensor<1xf32> {qopt.name = "sa"}, %za: tensor<1xui8> {qopt.name = "za"},
                         %b: tensor<2x4x3xui8> {qopt.name = "b"}, %sb: tensor<1xf32> {qopt.name = "sb"}, %zb: tensor<1xui8> {qopt.name = "zb"},
                         %sy: tensor<1xf32> {qopt.name = "sy"}, %zy: tensor<1xui8> {qopt.name = "zy"}) -> !qonnx.value {
  %y = qonnx.node "QLinearMatMul"(%a, %sa, %za, %b, %sb, %zb, %sy, %zy) {domain = "", opset = 10 : i64, name = "qlmm", attrs = {}} : (tensor<2x2x4xui8>, tensor<1xf32>, tensor<1xui8>, tensor<2x4x3xui8>, tensor<1xf32>, tensor<1xui8>, tensor<1xf32>, tensor<1xui8>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// ConvInteger: zero points subtracted in i32 before padding, then the conv
// window accumulates in i32 (per-output-channel w zero point).
// CHECK-LABEL: func @convinteger
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.generic
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK-NOT: arith.mulf
// CHECK: return
func.func @convinteger(%x: tensor<1x2x3x3xui8> {qopt.name = "x"}, %w: tensor<2x2x2x2xsi8> {qopt.name = "w"}, %xz: tensor<ui8> {qopt.name = "xz"}, %wz: tensor<2xsi8> {qopt.name = "wz"}) -> !qonnx.value {
  %y = qonnx.node "ConvInteger"(%x, %w, %xz, %wz) {domain = "", opset = 10 : i64, name = "ci", attrs = {pads = [1, 1, 1, 1]}} : (tensor<1x2x3x3xui8>, tensor<2x2x2x2xsi8>, tensor<ui8>, tensor<2xsi8>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// QLinearConv with an int32 bias and a per-channel weight scale.
// CHECK-LABEL: func @qlinearconv
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: arith.addi
// CHECK: math.roundeven
// CHECK: arith.trunci %{{.*}} : i32 to i8
func.func @qlinearconv(%x: tensor<1x1x4x4xui8> {qopt.name = "x"}, %sx: tensor<f32> {qopt.name = "sx"}, %zx: tensor<ui8> {qopt.name = "zx"},
                       %w: tensor<2x1x1x1xsi8> {qopt.name = "w"}, %sw: tensor<2xf32> {qopt.name = "sw"}, %zw: tensor<2xsi8> {qopt.name = "zw"},
                       %sy: tensor<f32> {qopt.name = "sy"}, %zy: tensor<ui8> {qopt.name = "zy"}, %bias: tensor<2xsi32> {qopt.name = "bias"}) -> !qonnx.value {
  %y = qonnx.node "QLinearConv"(%x, %sx, %zx, %w, %sw, %zw, %sy, %zy, %bias) {domain = "", opset = 10 : i64, name = "qlc", attrs = {}} : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x1x1xsi8>, tensor<2xf32>, tensor<2xsi8>, tensor<f32>, tensor<ui8>, tensor<2xsi32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @bad_zp(%a: tensor<4x3xui8> {qopt.name = "a"}, %b: tensor<3x2xui8> {qopt.name = "b"}, %az: tensor<3xui8> {qopt.name = "az"}) -> !qonnx.value {
  // expected-error @+1 {{node 'mmi' (MatMulInteger, opset 10): unsupported zero point shape}}
  %y = qonnx.node "MatMulInteger"(%a, %b, %az) {domain = "", opset = 10 : i64, name = "mmi", attrs = {}} : (tensor<4x3xui8>, tensor<3x2xui8>, tensor<3xui8>) -> !qonnx.value
  return %y : !qonnx.value
}
