// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-split-fill-inits))" --split-input-file | FileCheck %s

// Three matmuls share one zero-filled init and are inserted into three
// shared_outs: each gets its own empty + fill (one keeps the original).
// CHECK-LABEL: func.func @forall
// CHECK: scf.forall
// CHECK-COUNT-3: linalg.fill
// CHECK-NOT: linalg.fill
// CHECK: scf.forall.in_parallel
func.func @forall(%x: tensor<?x4xf32>, %w1: tensor<4x4xf32>, %w2: tensor<4x4xf32>, %w3: tensor<4x4xf32>, %n: index) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %r:3 = scf.forall (%i) in (%n) shared_outs(%o1 = %e, %o2 = %e, %o3 = %e) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
    %xs = tensor.extract_slice %x[%i, 0] [1, 4] [1, 1] : tensor<?x4xf32> to tensor<1x4xf32>
    %t = tensor.empty() : tensor<1x4xf32>
    %f = linalg.fill ins(%z : f32) outs(%t : tensor<1x4xf32>) -> tensor<1x4xf32>
    %q = linalg.matmul ins(%xs, %w1 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
    %k = linalg.matmul ins(%xs, %w2 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
    %v = linalg.matmul ins(%xs, %w3 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %q into %o1[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
      tensor.parallel_insert_slice %k into %o2[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
      tensor.parallel_insert_slice %v into %o3[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
    }
  }
  return %r#0, %r#1, %r#2 : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// No result goes into a slice: left alone (bufferization copies correctly).
// CHECK-LABEL: func.func @plain
// CHECK-COUNT-1: linalg.fill
// CHECK-NOT: linalg.fill
func.func @plain(%x: tensor<2x4xf32>, %w1: tensor<4x4xf32>, %w2: tensor<4x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %z = arith.constant 0.0 : f32
  %t = tensor.empty() : tensor<2x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%t : tensor<2x4xf32>) -> tensor<2x4xf32>
  %q = linalg.matmul ins(%x, %w1 : tensor<2x4xf32>, tensor<4x4xf32>) outs(%f : tensor<2x4xf32>) -> tensor<2x4xf32>
  %k = linalg.matmul ins(%x, %w2 : tensor<2x4xf32>, tensor<4x4xf32>) outs(%f : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %q, %k : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// The fill is also read: the original stays with the reader, both
// destinations get their own.
// CHECK-LABEL: func.func @read
// CHECK: %[[F:.*]] = linalg.fill
// CHECK: %[[F1:.*]] = linalg.fill
// CHECK: linalg.matmul {{.*}} outs(%[[F1]]
// CHECK: %[[F2:.*]] = linalg.fill
// CHECK: linalg.matmul {{.*}} outs(%[[F2]]
// CHECK: tensor.insert_slice %[[F]]
func.func @read(%x: tensor<1x4xf32>, %w1: tensor<4x4xf32>, %d: tensor<3x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<3x4xf32>) {
  %z = arith.constant 0.0 : f32
  %t = tensor.empty() : tensor<1x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%t : tensor<1x4xf32>) -> tensor<1x4xf32>
  %q = linalg.matmul ins(%x, %w1 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
  %k = linalg.matmul ins(%x, %w1 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
  %a = tensor.insert_slice %q into %d[0, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<3x4xf32>
  %b = tensor.insert_slice %f into %a[1, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<3x4xf32>
  return %q, %k, %b : tensor<1x4xf32>, tensor<1x4xf32>, tensor<3x4xf32>
}
