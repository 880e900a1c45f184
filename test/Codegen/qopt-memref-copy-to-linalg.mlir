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
