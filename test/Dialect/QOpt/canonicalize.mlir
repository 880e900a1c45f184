// RUN: qopt-opt %s -canonicalize | FileCheck %s

// CHECK-LABEL: func @fold_q_dq
// CHECK-SAME: (%[[Q:.*]]: tensor<4xi8>
// CHECK-NOT: qopt.
// CHECK: return %[[Q]]
func.func @fold_q_dq(%q: tensor<4xi8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<4xi8> {
  %d = qopt.dequantize %q, %s, %z {is_unsigned} : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  %r = qopt.quantize %d, %s, %z {is_unsigned} : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// CHECK-LABEL: func @no_fold_scale
// CHECK: qopt.dequantize
// CHECK: qopt.quantize
func.func @no_fold_scale(%q: tensor<4xi8>, %s: tensor<f32>, %s2: tensor<f32>, %z: tensor<i8>) -> tensor<4xi8> {
  %d = qopt.dequantize %q, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  %r = qopt.quantize %d, %s2, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// CHECK-LABEL: func @no_fold_signedness
// CHECK: qopt.dequantize
// CHECK: qopt.quantize
func.func @no_fold_signedness(%q: tensor<4xi8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<4xi8> {
  %d = qopt.dequantize %q, %s, %z {is_unsigned} : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  %r = qopt.quantize %d, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// CHECK-LABEL: func @dead
// CHECK-NOT: qopt.
func.func @dead(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  %r = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  return
}
