// RUN: qopt-opt %s --qopt-externalize-weights=threshold=64 | FileCheck %s

// CHECK: module attributes {qopt.abi = "qopt-abi 1\0Ainput x 1 4x8\0Aweights 256\0A", qopt.entry_func = "main"}
// CHECK-NOT: memref.global "private" constant @big
// CHECK-NOT: memref.global "private" constant @big2
// CHECK: memref.global "private" constant @small
// CHECK-LABEL: func.func @main
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<256xi8> {qopt.name = "__weights__"}
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[W]][%[[C0]]][] : memref<256xi8> to memref<4x8xf32>
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK: memref.view %[[W]][%[[C128]]][] : memref<256xi8> to memref<65xi1>
// CHECK: scf.for
// CHECK: memref.view %[[W]][%[[C0]]
// CHECK: memref.get_global @small
module attributes {qopt.abi = "qopt-abi 1\0Ainput x 1 4x8\0Aweights 0\0A", qopt.entry_func = "main"} {
  memref.global "private" constant @big : memref<4x8xf32> = dense<1.5> {alignment = 64 : i64}
  memref.global "private" constant @big2 : memref<65xi1> = dense<true>
  memref.global "private" constant @small : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  func.func @main(%x: memref<4x8xf32>) {
    %0 = memref.get_global @big : memref<4x8xf32>
    %1 = memref.get_global @big2 : memref<65xi1>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %c1 step %c1 {
      %2 = memref.get_global @big : memref<4x8xf32>
      memref.copy %2, %x : memref<4x8xf32> to memref<4x8xf32>
    }
    %3 = memref.get_global @small : memref<4xf32>
    return
  }
}
