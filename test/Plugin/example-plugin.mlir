// The example pass plugin loads into qopt-opt and runs.
// RUN: qopt-opt %s --load-pass-plugin=%qopt_libs/QOptExamplePlugin.so --pass-pipeline="builtin.module(qopt-example-mark-matmuls)" | FileCheck %s

// CHECK-LABEL: func.func @two_layers
func.func @two_layers(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // CHECK: qopt.matmul {{.*}} {example.layer = 0 : i64}
  %0 = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  // CHECK: qopt.matmul {{.*}} {example.layer = 1 : i64}
  %1 = qopt.matmul %0, %c : (tensor<2x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %1 : tensor<2x5xf32>
}
