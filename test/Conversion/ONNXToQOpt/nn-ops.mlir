// RUN: qopt-opt %s --split-input-file --convert-onnx-to-qopt --verify-diagnostics | FileCheck %s

// MatMul: numpy shapes incl. 1-D promotion.
// CHECK-LABEL: func @matmul
// CHECK: qopt.matmul %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
// CHECK: qopt.matmul %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
func.func @matmul(%a: tensor<2x3x4xf32> {qopt.name = "a"}, %b: tensor<4xf32> {qopt.name = "b"}, %c: tensor<4x5xf32> {qopt.name = "c"}) -> (!qonnx.value, !qonnx.value) {
  %y = qonnx.node "MatMul"(%a, %b) {domain = "", opset = 17 : i64, name = "mm", attrs = {}} : (tensor<2x3x4xf32>, tensor<4xf32>) -> !qonnx.value
  %z = qonnx.node "MatMul"(%a, %c) {domain = "", opset = 17 : i64, name = "mm2", attrs = {}} : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> !qonnx.value
  return %y, %z : !qonnx.value, !qonnx.value
}

// -----

// Gemm: transB, alpha, C broadcast.
// CHECK-LABEL: func @gemm
// CHECK: linalg.transpose
// CHECK: qopt.matmul %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @gemm(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<4x3xf32> {qopt.name = "b"}, %c: tensor<4xf32> {qopt.name = "c"}) -> !qonnx.value {
  %y = qonnx.node "Gemm"(%a, %b, %c) {domain = "", opset = 13 : i64, name = "g", attrs = {transB = 1 : i64, alpha = 2.0 : f32}} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Einsum "bhid,bhjd->bhij" is one batch matmul over a transposed rhs.
// CHECK-LABEL: func @einsum
// CHECK: linalg.transpose
// CHECK: qopt.matmul %{{.*}}, %{{.*}} : (tensor<6x4x8xf32>, tensor<6x8x5xf32>) -> tensor<6x4x5xf32>
// CHECK: return %{{.*}} : tensor<2x3x4x5xf32>
func.func @einsum(%q: tensor<2x3x4x8xf32> {qopt.name = "q"}, %k: tensor<2x3x5x8xf32> {qopt.name = "k"}) -> !qonnx.value {
  %y = qonnx.node "Einsum"(%q, %k) {domain = "", opset = 12 : i64, name = "e", attrs = {equation = "bhid,bhjd->bhij"}} : (tensor<2x3x4x8xf32>, tensor<2x3x5x8xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Grouped strided Conv: zero pad, then a windowed linalg.generic.
// CHECK-LABEL: func @conv
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: return %{{.*}} : tensor<1x6x3x3xf32>
func.func @conv(%x: tensor<1x4x5x5xf32> {qopt.name = "x"}, %w: tensor<6x2x3x3xf32> {qopt.name = "w"}, %b: tensor<6xf32> {qopt.name = "b"}) -> !qonnx.value {
  %y = qonnx.node "Conv"(%x, %w, %b) {domain = "", opset = 11 : i64, name = "conv", attrs = {group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}} : (tensor<1x4x5x5xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func @convtranspose
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [1, 1, 3, 3] [1, 1, 3, 2]
// CHECK: return %{{.*}} : tensor<1x2x10x8xf32>
func.func @convtranspose(%x: tensor<1x1x3x3xf32> {qopt.name = "x"}, %w: tensor<1x2x3x3xf32> {qopt.name = "w"}) -> !qonnx.value {
  %y = qonnx.node "ConvTranspose"(%x, %w) {domain = "", opset = 11 : i64, name = "ct", attrs = {strides = array<i64: 3, 2>, output_shape = array<i64: 10, 8>}} : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// MaxPool pads with -inf; AveragePool divides by a host-computed count.
// CHECK-LABEL: func @pools
// CHECK: tensor.pad
// CHECK: arith.maximumf
// CHECK: arith.divf
// CHECK: return %{{.*}}, %{{.*}} : tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>
func.func @pools(%x: tensor<1x1x5x5xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %m = qonnx.node "MaxPool"(%x) {domain = "", opset = 12 : i64, name = "mp", attrs = {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, auto_pad = "SAME_UPPER"}} : (tensor<1x1x5x5xf32>) -> !qonnx.value
  %a = qonnx.node "AveragePool"(%x) {domain = "", opset = 11 : i64, name = "ap", attrs = {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}} : (tensor<1x1x5x5xf32>) -> !qonnx.value
  return %m, %a : !qonnx.value, !qonnx.value
}

// -----

// Softmax: max-subtract, exp, sum, divide.
// CHECK-LABEL: func @softmax
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "Softmax"(%x) {domain = "", opset = 13 : i64, name = "sm", attrs = {}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// BatchNormalization with constant parameters folds into x * a + c.
// CHECK-LABEL: func @batchnorm
// CHECK-NOT: math.sqrt
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
func.func @batchnorm(%x: tensor<1x2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "s", attrs = {value = dense<[1.0, 2.0]> : tensor<2xf32>}} : () -> !qonnx.value
  %y = qonnx.node "BatchNormalization"(%x, %s, %s, %s, %s) {domain = "", opset = 15 : i64, name = "bn", attrs = {}} : (tensor<1x2x3xf32>, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Q/DQ: uint8 storage is signless i8 + is_unsigned; the default zero point
// is uint8 0.
// CHECK-LABEL: func @qdq
// CHECK: %[[Q:.*]] = qopt.quantize %{{.*}}, %{{.*}}, %{{.*}} {is_unsigned} : (tensor<2x3xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
// CHECK: qopt.dequantize %[[Q]], %{{.*}}, %{{.*}} {is_unsigned} : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
// CHECK: qopt.quantize %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xi8>
func.func @qdq(%x: tensor<2x3xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "s", attrs = {value = dense<0.5> : tensor<f32>}} : () -> !qonnx.value
  %q = qonnx.node "QuantizeLinear"(%x, %s) {domain = "", opset = 13 : i64, name = "q", attrs = {}} : (tensor<2x3xf32>, !qonnx.value) -> !qonnx.value
  %d = qonnx.node "DequantizeLinear"(%q, %s) {domain = "", opset = 13 : i64, name = "d", attrs = {}} : (!qonnx.value, !qonnx.value) -> !qonnx.value
  %sc = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "sc", attrs = {value = dense<[0.5, 0.25]> : tensor<2xf32>}} : () -> !qonnx.value
  %zc = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "zc", attrs = {value = dense<[-1, 3]> : tensor<2xsi8>}} : () -> !qonnx.value
  %qc = qonnx.node "QuantizeLinear"(%x, %sc, %zc) {domain = "", opset = 13 : i64, name = "qc", attrs = {axis = 0 : i64}} : (tensor<2x3xf32>, !qonnx.value, !qonnx.value) -> !qonnx.value
  return %d, %qc : !qonnx.value, !qonnx.value
}

// -----

// CHECK-LABEL: func @dynq
// CHECK: qopt.dynamic_quantize %{{.*}} {is_unsigned} : tensor<6xf32> -> tensor<6xi8>, tensor<f32>, tensor<i8>
func.func @dynq(%x: tensor<6xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %y, %s, %z = qonnx.node "DynamicQuantizeLinear"(%x) {domain = "", opset = 11 : i64, name = "dq", attrs = {}} : (tensor<6xf32>) -> (!qonnx.value, !qonnx.value, !qonnx.value)
  return %y, %s, %z : !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// CHECK-LABEL: func @resize
// CHECK: tensor.extract
// CHECK: return %{{.*}} : tensor<1x1x4x6xf32>
func.func @resize(%x: tensor<1x1x2x2xf32> {qopt.name = "x"}) -> !qonnx.value {
  %n = qonnx.none
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "s", attrs = {value = dense<[1.0, 1.0, 2.0, 3.0]> : tensor<4xf32>}} : () -> !qonnx.value
  %y = qonnx.node "Resize"(%x, %n, %s) {domain = "", opset = 13 : i64, name = "r", attrs = {mode = "nearest"}} : (tensor<1x1x2x2xf32>, none, !qonnx.value) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @matmul_bad(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<4x5xf32> {qopt.name = "b"}) -> !qonnx.value {
  // expected-error @+1 {{node 'mm' (MatMul, opset 17): incompatible shapes}}
  %y = qonnx.node "MatMul"(%a, %b) {domain = "", opset = 17 : i64, name = "mm", attrs = {}} : (tensor<2x3xf32>, tensor<4x5xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @maxpool_indices(%x: tensor<1x1x4x4xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  // expected-error @+1 {{the Indices output is unsupported}}
  %y, %i = qonnx.node "MaxPool"(%x) {domain = "", opset = 12 : i64, name = "mp", attrs = {kernel_shape = array<i64: 2, 2>}} : (tensor<1x1x4x4xf32>) -> (!qonnx.value, !qonnx.value)
  return %y, %i : !qonnx.value, !qonnx.value
}

// -----

func.func @resize_cubic(%x: tensor<1x1x2x2xf32> {qopt.name = "x"}) -> !qonnx.value {
  %n = qonnx.none
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "s", attrs = {value = dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>}} : () -> !qonnx.value
  // expected-error @+1 {{mode 'cubic' is unsupported}}
  %y = qonnx.node "Resize"(%x, %n, %s) {domain = "", opset = 13 : i64, name = "r", attrs = {mode = "cubic"}} : (tensor<1x1x2x2xf32>, none, !qonnx.value) -> !qonnx.value
  return %y : !qonnx.value
}
