// RUN: qopt-opt %s --qopt-specialize-dynamic-rows="chunk=4" --canonicalize --cse | FileCheck %s
// RUN: qopt-opt %s --qopt-specialize-dynamic-rows="chunk=4" --canonicalize --cse --convert-qopt-to-linalg --qopt-tile-and-vectorize --canonicalize --cse | FileCheck %s --check-prefix=TILED

// Two matmuls of one [?, ?, 8] input (of different N: equal ones stay
// apart): rows collapsed, M == 1 and chunks of
// 4 rows (the rest zero-padded) as static matmuls, expanded back.
// CHECK-LABEL: func.func @rows
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x8xf32> into tensor<?x8xf32>
// CHECK: %[[M:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[M]], %c1
// CHECK: scf.if %[[ONE]] -> (tensor<?x16xf32>, tensor<?x8xf32>)
// CHECK: qopt.matmul %{{.*}} : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
// CHECK: qopt.matmul %{{.*}} : (tensor<1x8xf32>, tensor<8x8xf32>) -> tensor<1x8xf32>
// CHECK: } else {
// CHECK:   %[[FULL:.*]] = arith.divui %[[M]], %c4
// CHECK:   scf.forall (%{{.*}}) in (%[[FULL]])
// CHECK: qopt.matmul %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK: qopt.matmul %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK:   scf.if
// CHECK:     linalg.fill
// CHECK: qopt.matmul %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK: qopt.matmul %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK: tensor.reshape {{.*}} -> tensor<?x?x16xf32>
// CHECK-NOT: qopt.matmul
// CHECK: return

// The static matmuls of one weight read one set of packed panels.
// TILED-LABEL: func.func @rows
// TILED-COUNT-1: arith.constant dense<{{.*}}> : tensor<1x8x16xf32>
// TILED-NOT: arith.constant dense<{{.*}}> : tensor<1x8x16xf32>
func.func @rows(%x: tensor<?x?x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x8xf32>) {
  %w = arith.constant dense<[[0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25],[0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75],[1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25],[1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0],[0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5],[0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0],[1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5],[0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25]]> : tensor<8x16xf32>
  %w2 = arith.constant dense<[[0.0,0.5,1.0,1.5,2.0,0.0,0.5,1.0],[1.5,2.0,0.0,0.5,1.0,1.5,2.0,0.0],[0.5,1.0,1.5,2.0,0.0,0.5,1.0,1.5],[2.0,0.0,0.5,1.0,1.5,2.0,0.0,0.5],[1.0,1.5,2.0,0.0,0.5,1.0,1.5,2.0],[0.0,0.5,1.0,1.5,2.0,0.0,0.5,1.0],[1.5,2.0,0.0,0.5,1.0,1.5,2.0,0.0],[0.5,1.0,1.5,2.0,0.0,0.5,1.0,1.5]]> : tensor<8x8xf32>
  %y = qopt.matmul %x, %w : (tensor<?x?x8xf32>, tensor<8x16xf32>) -> tensor<?x?x16xf32>
  %z = qopt.matmul %x, %w2 : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  return %y, %z : tensor<?x?x16xf32>, tensor<?x?x8xf32>
}
