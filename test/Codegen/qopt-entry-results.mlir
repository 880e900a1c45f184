// RUN: qopt-opt %s --qopt-entry-results --split-input-file | FileCheck %s

// Static entry: buffer-results-to-out-params{hoist-static-allocs
// modify-public-functions}; the result's allocation becomes the out-param.
// CHECK: func.func @main(%{{.*}}: memref<2x4xf32>, %[[OUT:.*]]: memref<2x4xf32>) {
// CHECK-NOT: memref.alloc
// CHECK: linalg.copy ins(%{{.*}} : memref<2x4xf32>) outs(%[[OUT]] : memref<2x4xf32>)
// CHECK: return
func.func @main(%a: memref<2x4xf32>) -> memref<2x4xf32> {
  %r = memref.alloc() {alignment = 64 : i64} : memref<2x4xf32>
  linalg.copy ins(%a : memref<2x4xf32>) outs(%r : memref<2x4xf32>)
  return %r : memref<2x4xf32>
}

// -----

// Dynamic entry: results stay; each is an allocation of its own, without
// an alignment (so the data pointer is the pointer to free). An argument, a
// global and a second use of one buffer (here through a view) are copied.
memref.global "private" constant @k : memref<2x4xf32> = dense<1.0>
// CHECK: func.func @main(%[[A:.*]]: memref<?x4xf32>)
// CHECK-SAME: -> (memref<?x4xf32>, memref<?xf32>, memref<?x4xf32>, memref<2x4xf32>, memref<?x4xf32>)
// CHECK: %[[R:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf32>
// CHECK: %[[V:.*]] = memref.collapse_shape %[[R]]
// CHECK: %[[G:.*]] = memref.get_global @k
// CHECK: %[[C1:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.copy %[[V]], %[[C1]]
// CHECK: %[[D:.*]] = memref.dim %[[A]], %{{.*}}
// CHECK: %[[C2:.*]] = memref.alloc(%[[D]]) : memref<?x4xf32>
// CHECK: memref.copy %[[A]], %[[C2]]
// CHECK: %[[C3:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK: memref.copy %[[G]], %[[C3]]
// CHECK: %[[C4:.*]] = memref.alloc(%{{.*}}) : memref<?x4xf32>
// CHECK: memref.copy %[[R]], %[[C4]]
// CHECK: return %[[R]], %[[C1]], %[[C2]], %[[C3]], %[[C4]]
func.func @main(%a: memref<?x4xf32>) -> (memref<?x4xf32>, memref<?xf32>, memref<?x4xf32>, memref<2x4xf32>, memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x4xf32>
  %r = memref.alloc(%n) {alignment = 64 : i64} : memref<?x4xf32>
  %v = memref.collapse_shape %r [[0, 1]] : memref<?x4xf32> into memref<?xf32>
  %g = memref.get_global @k : memref<2x4xf32>
  return %r, %v, %a, %g, %r : memref<?x4xf32>, memref<?xf32>, memref<?x4xf32>, memref<2x4xf32>, memref<?x4xf32>
}

// -----

// A private helper of a dynamic entry is still converted.
// CHECK-LABEL: func.func private @helper(%{{.*}}: memref<4xf32>)
// CHECK-LABEL: func.func @main(
// CHECK-SAME: -> memref<?xf32>
func.func private @helper() -> memref<4xf32> {
  %r = memref.alloc() : memref<4xf32>
  return %r : memref<4xf32>
}
func.func @main(%a: memref<?xf32>) -> memref<?xf32> {
  %h = call @helper() : () -> memref<4xf32>
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?xf32>
  %r = memref.alloc(%n) : memref<?xf32>
  return %r : memref<?xf32>
}
