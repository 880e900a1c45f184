// RUN: qopt-opt %s --qopt-bias-correction | FileCheck %s

// Wq = [[1, 2], [3, 4]] * [0.5, 1] = [[0.5, 2], [1.5, 4]]; E[x] = [1, 2]
// gives E[x] Wq = [3.5, 10]; the FP32 mean output is [3, 10.5], so the
// correction adds [-0.5, 0.5] after the matmul.
// CHECK-LABEL: func.func @quantized
// CHECK: %[[Y:.*]] = qopt.matmul %arg0, %{{.*}} : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
// CHECK-NOT: qopt.act_mean
// CHECK: %[[B:.*]] = arith.constant dense<[-5.000000e-01, 5.000000e-01]> : tensor<2xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[Y]], %[[B]] : tensor<4x2xf32>, tensor<2xf32>)
// CHECK: arith.addf
// CHECK: return %[[R]]
func.func @quantized(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %q = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %s = arith.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %z = arith.constant dense<0> : tensor<2xi8>
  %w = qopt.dequantize %q, %s, %z : (tensor<2x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x2xf32>
  %y = qopt.matmul %x, %w {qopt.act_mean = dense<[1.0, 2.0]> : tensor<2xf32>, qopt.out_mean = dense<[3.0, 10.5]> : tensor<2xf32>} : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// A layer left f32 has nothing to correct; the statistics are dropped.
// CHECK-LABEL: func.func @f32
// CHECK: %[[Y:.*]] = qopt.matmul %arg0, %{{.*}} : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
// CHECK-NEXT: return %[[Y]]
func.func @f32(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %y = qopt.matmul %x, %w {qopt.act_mean = dense<[1.0, 2.0]> : tensor<2xf32>, qopt.out_mean = dense<[3.0, 10.5]> : tensor<2xf32>} : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
