// RUN: qopt-opt %s --qopt-memref-copy-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @f
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<4xf32> to memref<4xf32>
// CHECK: linalg.copy ins(%{{.*}} : memref<2xf32, strided<[1], offset: 1>>) outs(%{{.*}} : memref<2xf32>)
func.func @f(%a: memref<4xf32>, %b: memref<4xf32>, %c: memref<2xf32>) {
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  %s = memref.subview %a[1] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 1>>
  memref.copy %s, %c : memref<2xf32, strided<[1], offset: 1>> to memref<2xf32>
  return
}

// Rows of 16 contiguous floats (RoPE's rotate-half halves): a parallel loop
// over the rows and vector loads/stores along each row.
// CHECK-LABEL: func.func @rows
// CHECK: scf.parallel (%[[I:[a-z0-9_]+]], %[[J:[a-z0-9_]+]]) = (%c0, %c0) to (%c2, %c128) step (%c1, %c1)
// CHECK:   scf.for %[[K:[a-z0-9_]+]] = %c0 to %{{.*}} step %c16
// CHECK:     %[[V:[a-z0-9_]+]] = vector.transfer_read %{{.*}}[%[[I]], %[[J]], %[[K]]], %{{.*}} {in_bounds = [true]} : memref<2x128x16xf32, strided<[4096, 32, 1], offset: 16>>, vector<16xf32>
// CHECK:     vector.transfer_write %[[V]], %{{.*}}[%[[I]], %[[J]], %[[K]]] {in_bounds = [true]} : vector<16xf32>, memref<2x128x16xf32, strided<[4096, 32, 1]>>
// CHECK-NOT: linalg.copy
// A column (innermost stride 32) stays linalg.copy.
// CHECK-LABEL: func.func @column
// CHECK: linalg.copy
func.func @rows(%a: memref<2x128x32xf32>, %b: memref<2x128x32xf32>) {
  %s = memref.subview %a[0, 0, 16] [2, 128, 16] [1, 1, 1] : memref<2x128x32xf32> to memref<2x128x16xf32, strided<[4096, 32, 1], offset: 16>>
  %d = memref.subview %b[0, 0, 0] [2, 128, 16] [1, 1, 1] : memref<2x128x32xf32> to memref<2x128x16xf32, strided<[4096, 32, 1]>>
  memref.copy %s, %d : memref<2x128x16xf32, strided<[4096, 32, 1], offset: 16>> to memref<2x128x16xf32, strided<[4096, 32, 1]>>
  return
}
func.func @column(%a: memref<128x32xf32>, %b: memref<128xf32>) {
  %s = memref.subview %a[0, 3] [128, 1] [1, 1] : memref<128x32xf32> to memref<128x1xf32, strided<[32, 1], offset: 3>>
  %c = memref.collapse_shape %s [[0, 1]] : memref<128x1xf32, strided<[32, 1], offset: 3>> into memref<128xf32, strided<[32], offset: 3>>
  memref.copy %c, %b : memref<128xf32, strided<[32], offset: 3>> to memref<128xf32>
  return
}
