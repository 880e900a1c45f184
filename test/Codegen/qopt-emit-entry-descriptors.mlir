// RUN: qopt-opt %s --qopt-emit-entry | FileCheck %s

// convert-func-to-llvm falls back to unpacked memref descriptors for the whole
// function when a memref (here memref<3x0x5xf32>) cannot be a bare pointer:
// the wrapper builds (ptr, ptr, offset 0, sizes, row-major strides) from the
// ABI shapes, also for the weights blob.

// CHECK: llvm.func @qopt_entry(%[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[G0:.*]] = llvm.getelementptr %[[ARGS]][0]
// CHECK: %[[X:.*]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK-DAG: %[[C0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-DAG: %[[C3:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-DAG: %[[Z:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-DAG: %[[C5:.*]] = llvm.mlir.constant(5 : i64) : i64
// CHECK-DAG: %[[S0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-DAG: %[[S1:.*]] = llvm.mlir.constant(5 : i64) : i64
// CHECK-DAG: %[[S2:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: llvm.getelementptr %[[ARGS]][1]
// CHECK: llvm.getelementptr %[[ARGS]][2]
// CHECK: llvm.getelementptr %[[ARGS]][3]
// CHECK: llvm.call @qopt_model_main(%[[X]], %[[X]], %[[C0]], %[[C3]], %[[Z]], %[[C5]], %[[S0]], %[[S1]], %[[S2]], {{.*}}) : (!llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64, i64, i64, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()
module attributes {qopt.abi = "qopt-abi 1\0Ainput x 1 3x0x5\0Ainput k 7 scalar\0Aoutput y 1 2\0Aweights 64\0A", qopt.entry_func = "main"} {
  llvm.func @main(%x0: !llvm.ptr, %x1: !llvm.ptr, %x2: i64, %x3: i64, %x4: i64, %x5: i64, %x6: i64, %x7: i64, %x8: i64,
                  %k0: !llvm.ptr, %k1: !llvm.ptr, %k2: i64,
                  %y0: !llvm.ptr, %y1: !llvm.ptr, %y2: i64, %y3: i64, %y4: i64,
                  %w0: !llvm.ptr, %w1: !llvm.ptr, %w2: i64, %w3: i64, %w4: i64) {
    llvm.return
  }
}
