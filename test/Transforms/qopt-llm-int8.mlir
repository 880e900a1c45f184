// RUN: qopt-opt %s --qopt-llm-int8 --split-input-file --verify-diagnostics | FileCheck %s
// RUN: qopt-opt %s --qopt-llm-int8="threshold=0.5" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=T05
// RUN: qopt-opt %s --qopt-llm-int8 --qopt-quantize-dynamic --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=DYN
// RUN: not qopt-opt %s --qopt-llm-int8="threshold=0" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// Channel 1 (max|x| 9 > 6) is an outlier of both matmuls reading %x: one
// mask and one selection are shared; each weight loses row 1 to its f32
// outlier product.
// CHECK-LABEL: func @split
// CHECK: %[[MASK:.*]] = arith.constant dense<[1.000000e+00, 0.000000e+00, 1.000000e+00]> : tensor<3xf32>
// CHECK: %[[XIN:.*]] = linalg.generic {{.*}} ins(%arg0, %[[MASK]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK: arith.mulf
// CHECK: %[[P:.*]] = arith.constant dense<{{\[\[}}0.000000e+00], [1.000000e+00], [0.000000e+00]]> : tensor<3x1xf32>
// CHECK: %[[XO:.*]] = qopt.matmul %arg0, %[[P]] {qopt.keep_f32} : (tensor<2x3xf32>, tensor<3x1xf32>) -> tensor<2x1xf32>
// CHECK-DAG: %[[WIN:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [0.000000e+00, 0.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[WOUT:.*]] = arith.constant dense<{{\[\[}}3.000000e+00, 4.000000e+00]]> : tensor<1x2xf32>
// CHECK: %[[Y:.*]] = qopt.matmul %[[XIN]], %[[WIN]] {qopt.layer = "a", qopt.outlier_channels = 1 : i64}
// CHECK: %[[YO:.*]] = qopt.matmul %[[XO]], %[[WOUT]] {qopt.keep_f32}
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[Y]], %[[YO]] :
// CHECK: arith.addf
// CHECK: qopt.matmul %[[XIN]], %{{.*}} {qopt.layer = "b", qopt.outlier_channels = 1 : i64}
// CHECK: return %[[S]]
// threshold 0.5: channels 0 and 1 are outliers.
// T05-LABEL: func @split
// T05: arith.constant dense<[0.000000e+00, 0.000000e+00, 1.000000e+00]> : tensor<3xf32>
// T05: qopt.outlier_channels = 2 : i64
// Then w8a8-dynamic quantizes only the int8 part: the f32 products stay
// qopt.matmul.
// DYN-LABEL: func @split
// DYN: qopt.matmul %arg0, %{{.*}} {qopt.keep_f32}
// DYN: qopt.dynamic_quantize
// DYN: qopt.qmatmul {{.*}} qopt.layer = "a", qopt.quant = "w8a8-dynamic"
// DYN: qopt.matmul {{.*}} {qopt.keep_f32}
// DYN: qopt.qmatmul {{.*}} qopt.layer = "b"
// BAD: threshold must be > 0, got 0
func.func @split(%x: tensor<2x3xf32>) -> (tensor<2x2xf32>, tensor<2x1xf32>) {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %v = arith.constant dense<[[1.0], [1.0], [1.0]]> : tensor<3x1xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "a", qopt.act_absmax = dense<[1.0, 9.0, 0.25]> : tensor<3xf32>} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %z = qopt.matmul %x, %v {qopt.layer = "b", qopt.act_absmax = dense<[1.0, 9.0, 0.25]> : tensor<3xf32>} : (tensor<2x3xf32>, tensor<3x1xf32>) -> tensor<2x1xf32>
  return %y, %z : tensor<2x2xf32>, tensor<2x1xf32>
}

// -----

// No channel above the threshold: unchanged, the count is recorded.
// CHECK-LABEL: func @no_outliers
// CHECK-NOT: linalg.generic
// CHECK: qopt.matmul %arg0, %{{.*}} {qopt.layer = "c", qopt.outlier_channels = 0 : i64}
func.func @no_outliers(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "c", qopt.act_absmax = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

func.func @bad_stats(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  // expected-error @+1 {{qopt-llm-int8: layer 'd': qopt.act_absmax must be an f32 tensor of 3 elements}}
  %y = qopt.matmul %x, %w {qopt.layer = "d", qopt.act_absmax = dense<[1.0]> : tensor<1xf32>} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
