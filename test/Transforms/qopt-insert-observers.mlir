// RUN: qopt-opt %s --qopt-insert-observers --split-input-file | FileCheck %s
// RUN: qopt-opt %s --qopt-insert-observers="observe-outputs=false" --split-input-file | FileCheck %s --check-prefix=NOOUT
// RUN: qopt-opt %s --qopt-insert-observers --qopt-insert-observers --split-input-file | FileCheck %s --check-prefix=TWICE

// One observer on the activation input (label = the layer name) and one on
// the output ("<layer>:output") of every matmul with a constant f32 weight;
// the layer name is written back as qopt.layer. A matmul of two activations
// (no constant weight) is not observed.
// CHECK-LABEL: func @two_layers
// CHECK: %[[X:.*]] = qopt.observe %arg0 {id = 0 : i64, label = "fc1"} : tensor<2x4xf32>
// CHECK: %[[Y:.*]] = qopt.matmul %[[X]], %{{.*}} {qopt.layer = "fc1"}
// CHECK: %[[YO:.*]] = qopt.observe %[[Y]] {id = 1 : i64, label = "fc1:output"} : tensor<2x3xf32>
// CHECK: %[[Z:.*]] = qopt.observe %[[YO]] {id = 2 : i64, label = "fc2"} : tensor<2x3xf32>
// CHECK: %[[R:.*]] = qopt.matmul %[[Z]], %{{.*}} {qopt.layer = "fc2"}
// CHECK: %[[RO:.*]] = qopt.observe %[[R]] {id = 3 : i64, label = "fc2:output"}
// CHECK: %[[A:.*]] = qopt.matmul %[[RO]], %arg1 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
// CHECK-NOT: qopt.observe
// CHECK: return %[[A]]
// NOOUT-LABEL: func @two_layers
// NOOUT-COUNT-2: qopt.observe {{.*}}label = "fc{{[12]}}"}
// NOOUT-NOT: qopt.observe
// TWICE-LABEL: func @two_layers
// TWICE-COUNT-4: qopt.observe
// TWICE-NOT: qopt.observe
func.func @two_layers(%x: tensor<2x4xf32>, %b: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w1 = arith.constant dense<0.5> : tensor<4x3xf32>
  %w2 = arith.constant dense<0.25> : tensor<3x2xf32>
  %y = qopt.matmul %x, %w1 {qopt.layer = "fc1"} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %r = qopt.matmul %y, %w2 {qopt.layer = "fc2"} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %a = qopt.matmul %r, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %a : tensor<2x2xf32>
}

// -----

// Without qopt.layer the location name is used; duplicate names get "#k";
// without any name, "matmul_<i>". Ids continue after existing observers.
// NOOUT-LABEL: func @names
// TWICE-LABEL: func @names
// CHECK-LABEL: func @names
// CHECK: qopt.observe %arg0 {id = 8 : i64, label = "proj"}
// CHECK: qopt.matmul {{.*}} {qopt.layer = "proj"}
// CHECK: qopt.observe {{.*}} {id = 10 : i64, label = "proj#1"}
// CHECK: qopt.matmul {{.*}} {qopt.layer = "proj#1"}
// CHECK: qopt.observe {{.*}} {id = 12 : i64, label = "matmul_2"}
func.func @names(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %p = qopt.observe %x {id = 7 : i64, label = "probe"} : tensor<2x4xf32>
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %a = qopt.matmul %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("proj")
  %b = qopt.matmul %a, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32> loc("proj")
  %c = qopt.matmul %b, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %c : tensor<2x4xf32>
}
