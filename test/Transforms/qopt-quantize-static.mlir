// RUN: qopt-opt %s --qopt-quantize-static --split-input-file --verify-diagnostics | FileCheck %s
// RUN: qopt-opt %s --qopt-quantize-static="act-scheme=asym" --split-input-file 2>&1 | FileCheck %s --check-prefix=ASYM
// RUN: qopt-opt %s --qopt-quantize-static="exclude=^fc$" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=EXCL
// RUN: not qopt-opt %s --qopt-quantize-static="act-scheme=foo" 2>&1 | FileCheck %s --check-prefix=SCHEME

// w8a8 static: the calibrated per-tensor scale / zero point (attributes)
// quantize the activation, the weight is int8 per output channel
// (symmetric: 127 / max|w[:, n]|), the i32 accumulator is dequantized by
// s_x * s_w[n] along the last axis. Weight column maxima 1 and 2.54:
// s_w = [1/127, 0.02], so s_x * s_w = [0.5/127, 0.01].
// CHECK-LABEL: func @w8a8
// CHECK-DAG: %[[W:.*]] = arith.constant {qopt.bits = 8 : i64} dense<{{\[\[}}127, 127], [-64, -64], [1, 0], [0, 0]]> : tensor<4x2xi8>
// CHECK-DAG: %[[SX:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense<0> : tensor<i8>
// CHECK: %[[XQ:.*]] = qopt.quantize %arg0, %[[SX]], %[[Z]] : (tensor<2x3x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3x4xi8>
// CHECK: %[[ACC:.*]] = qopt.qmatmul %[[XQ]], %[[W]], %[[Z]], %{{.*}} {qopt.act_scale = 5.000000e-01 : f32, qopt.act_zp = 0 : i64, qopt.layer = "fc", qopt.quant = "w8a8"} : (tensor<2x3x4xi8>, tensor<4x2xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3x2xi32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[0.00393700786, 0.00999999977]> : tensor<2xf32>
// CHECK-DAG: %[[ZI:.*]] = arith.constant dense<0> : tensor<2xi32>
// CHECK: %[[Y:.*]] = qopt.dequantize %[[ACC]], %[[S]], %[[ZI]] {axis = 2 : i64} : (tensor<2x3x2xi32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2x3x2xf32>
// CHECK: return %[[Y]]
// The excluded layer stays f32.
// EXCL-LABEL: func @w8a8
// EXCL: qopt.matmul
// EXCL-NOT: qopt.qmatmul
// SCHEME: act-scheme must be sym or asym, got 'foo'
func.func @w8a8(%x: tensor<2x3x4xf32>) -> tensor<2x3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.54], [-0.5, -1.28], [0.01, 0.0], [0.0, 0.0]]> : tensor<4x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "fc", qopt.act_scale = 0.5 : f32, qopt.act_zp = 0 : i64} : (tensor<2x3x4xf32>, tensor<4x2xf32>) -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// act-scheme=asym: u8 storage (is_unsigned, lhs_unsigned) with the zero
// point as its i8 bit pattern (200 -> -56).
// ASYM-LABEL: func @asym
// ASYM-DAG: %[[Z:.*]] = arith.constant dense<-56> : tensor<i8>
// ASYM: %[[XQ:.*]] = qopt.quantize %arg0, %{{.*}}, %[[Z]] {is_unsigned}
// ASYM: qopt.qmatmul %[[XQ]], %{{.*}}, %[[Z]], %{{.*}} {lhs_unsigned
// The sym pass rejects a non-zero zero point.
func.func @asym(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<0.5> : tensor<4x2xf32>
  // expected-error @+1 {{layer 'fc2': activation zero point 200 is not valid for act-scheme=sym}}
  %y = qopt.matmul %x, %w {qopt.layer = "fc2", qopt.act_scale = 0.02 : f32, qopt.act_zp = 200 : i64} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// No calibrated scale: left in f32 (both schemes).
// CHECK-LABEL: func @uncalibrated
// CHECK: qopt.matmul
// ASYM-LABEL: func @uncalibrated
// ASYM: qopt.matmul
func.func @uncalibrated(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<0.5> : tensor<4x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "fc3"} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
