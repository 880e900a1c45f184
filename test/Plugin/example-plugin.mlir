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

// The same plugin drives qopt-compile: its pass runs on the legalized graph
// of a real ONNX model (the Gemm of the bundled CNN becomes a qopt.matmul).
// RUN: qopt-compile %qopt_src/examples/models/tiny_cnn.onnx --load-pass-plugin=%qopt_libs/QOptExamplePlugin.so --graph-passes=qopt-example-mark-matmuls --emit=qopt | FileCheck %s --check-prefix=COMPILE
// COMPILE: qopt.matmul {{.*}} {example.layer = 0 : i64, qopt.layer = "fc"}
// RUN: not qopt-compile %qopt_src/examples/models/tiny_cnn.onnx --graph-passes=no-such-pass --emit=qopt 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: bad --graph-passes 'no-such-pass'
