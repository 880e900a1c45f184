// RUN: qopt-opt %s --qopt-func-to-llvm --split-input-file | FileCheck %s

// Static entry: bare pointers.
// CHECK-LABEL: llvm.func @main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
func.func @main(%a: memref<2x4xf32>, %b: memref<2x4xf32>) {
  return
}

// -----

// Dynamic entry: unpacked descriptors in, a descriptor struct out.
// CHECK-LABEL: llvm.func @main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
// CHECK-SAME: -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
func.func @main(%a: memref<?x4xf32>) -> memref<?x4xf32> {
  return %a : memref<?x4xf32>
}

// -----

// The entry is the one `qopt.entry_func` names.
// CHECK-LABEL: llvm.func @f(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64)
module attributes {qopt.entry_func = "f"} {
  func.func @f(%a: memref<?xf32>) {
    return
  }
}
