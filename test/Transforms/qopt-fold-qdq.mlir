// RUN: qopt-opt %s --qopt-fold-qdq --split-input-file | FileCheck %s

// Per-tensor u8 activation x per-column i8 weight (ONNX Runtime's QDQ
// format): the product becomes qopt.qmatmul (i32) and the epilogue a
// dequantize of the i32 accumulator by sx * sw[n] (folded: 0.5 * [2, 0.25]);
// the output's quantize stays.
// CHECK-LABEL: func @per_axis
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[1.000000e+00, 1.250000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<0> : tensor<2xi32>
// CHECK: %[[Q:.*]] = qopt.quantize %arg0
// CHECK: %[[ACC:.*]] = qopt.qmatmul %[[Q]], %{{.*}}, %{{.*}}, %{{.*}} {lhs_unsigned} : (tensor<3x4xi8>, tensor<4x2xi8>, tensor<i8>, tensor<2xi8>) -> tensor<3x2xi32>
// CHECK: %[[Y:.*]] = qopt.dequantize %[[ACC]], %[[S]], %[[Z]] : (tensor<3x2xi32>, tensor<2xf32>, tensor<2xi32>) -> tensor<3x2xf32>
// CHECK: qopt.quantize %[[Y]]
// CHECK-NOT: qopt.matmul
func.func @per_axis(%x: tensor<3x4xf32>) -> tensor<3x2xi8> {
  %sx = arith.constant dense<5.000000e-01> : tensor<f32>
  %zx = arith.constant dense<7> : tensor<i8>
  %w = arith.constant dense<[[1, -2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
  %sw = arith.constant dense<[2.0, 0.25]> : tensor<2xf32>
  %zw = arith.constant dense<0> : tensor<2xi8>
  %sy = arith.constant dense<0.125> : tensor<f32>
  %zy = arith.constant dense<3> : tensor<i8>
  %q = qopt.quantize %x, %sx, %zx {is_unsigned} : (tensor<3x4xf32>, tensor<f32>, tensor<i8>) -> tensor<3x4xi8>
  %dx = qopt.dequantize %q, %sx, %zx {is_unsigned} : (tensor<3x4xi8>, tensor<f32>, tensor<i8>) -> tensor<3x4xf32>
  %dw = qopt.dequantize %w, %sw, %zw {axis = 1 : i64} : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<4x2xf32>
  %y = qopt.matmul %dx, %dw : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %qy = qopt.quantize %y, %sy, %zy : (tensor<3x2xf32>, tensor<f32>, tensor<i8>) -> tensor<3x2xi8>
  return %qy : tensor<3x2xi8>
}

// -----

// Per-tensor scales that are not constants: the combined scale is an f32
// multiply in a linalg.generic; batched activations keep their batch dims.
// CHECK-LABEL: func @per_tensor_dynamic_scales
// CHECK: %[[ACC:.*]] = qopt.qmatmul %arg0, %arg3, %arg2, %arg5 : (tensor<2x3x4xi8>, tensor<4x5xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3x5xi32>
// CHECK: %[[S:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: qopt.dequantize %[[ACC]], %[[S]], %{{.*}} {axis = 2 : i64} : (tensor<2x3x5xi32>, tensor<f32>, tensor<i32>) -> tensor<2x3x5xf32>
func.func @per_tensor_dynamic_scales(%xq: tensor<2x3x4xi8>, %sx: tensor<f32>, %zx: tensor<i8>, %wq: tensor<4x5xi8>, %sw: tensor<f32>, %zw: tensor<i8>) -> tensor<2x3x5xf32> {
  %dx = qopt.dequantize %xq, %sx, %zx : (tensor<2x3x4xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3x4xf32>
  %dw = qopt.dequantize %wq, %sw, %zw : (tensor<4x5xi8>, tensor<f32>, tensor<i8>) -> tensor<4x5xf32>
  %y = qopt.matmul %dx, %dw : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// Not folded: a weight quantized per row of K (axis 0), a blocked (int4)
// weight, a float operand.
// CHECK-LABEL: func @not_folded
// CHECK-COUNT-3: qopt.matmul
// CHECK-NOT: qopt.qmatmul
func.func @not_folded(%dx: tensor<3x4xf32>, %w: tensor<4x2xi8>, %s4: tensor<4xf32>, %z4: tensor<4xi8>,
                      %w4: tensor<4x2xi4>, %sb: tensor<2x2xf32>, %zb: tensor<2x2xi4>,
                      %xq: tensor<3x4xi8>, %sx: tensor<f32>, %zx: tensor<i8>, %wf: tensor<4x2xf32>)
    -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>) {
  %x = qopt.dequantize %xq, %sx, %zx : (tensor<3x4xi8>, tensor<f32>, tensor<i8>) -> tensor<3x4xf32>
  %d0 = qopt.dequantize %w, %s4, %z4 {axis = 0 : i64} : (tensor<4x2xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x2xf32>
  %y0 = qopt.matmul %x, %d0 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %d1 = qopt.dequantize %w4, %sb, %zb {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x2xi4>, tensor<2x2xf32>, tensor<2x2xi4>) -> tensor<4x2xf32>
  %y1 = qopt.matmul %x, %d1 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %y2 = qopt.matmul %x, %wf : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y0, %y1, %y2 : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>
}
