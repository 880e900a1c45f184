// RUN: qopt-opt %s --qopt-specialize-dynamic-rows="chunk=4" --canonicalize --cse | FileCheck %s
// RUN: qopt-opt %s --qopt-specialize-dynamic-rows="chunk=4" --canonicalize --cse --qopt-tile-and-vectorize --canonicalize --cse | FileCheck %s --check-prefix=TILED

// M == 1, full chunks of 4 rows in parallel, the rest padded to 4 rows:
// only static matmuls are left.
// CHECK-LABEL: func.func @rows
// CHECK: %[[M:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[M]], %c1
// CHECK: scf.if %[[ONE]] -> (tensor<?x16xf32>)
// CHECK:   linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<1x16xf32>)
// CHECK: } else {
// CHECK:   %[[FULL:.*]] = arith.divui %[[M]], %c4
// CHECK:   scf.forall (%{{.*}}) in (%[[FULL]])
// CHECK:     linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK:     tensor.parallel_insert_slice
// CHECK:   scf.if
// CHECK:     tensor.pad
// CHECK:     linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK:     tensor.insert_slice
// CHECK-NOT: tensor<?x8xf32>, tensor<8x16xf32>) outs
// CHECK: return

// The three static matmuls read one set of packed weight panels.
// TILED-LABEL: func.func @rows
// TILED-COUNT-1: arith.constant dense<{{.*}}> : tensor<1x8x16xf32>
// TILED-NOT: arith.constant dense<{{.*}}> : tensor<1x8x16xf32>
func.func @rows(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %w = arith.constant dense<[[0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25],[0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75],[1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25],[1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0],[0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5],[0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0],[1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5],[0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25,0.5,0.75,1.0,1.25,1.5,0.0,0.25]]> : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x8xf32>, tensor<8x16xf32>) outs(%f : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
