// RUN: qopt-opt %s --qopt-emit-entry --split-input-file --verify-diagnostics | FileCheck %s

// `entry dynamic`: the model function takes unpacked descriptors (inputs,
// then the weights blob) and returns its results' descriptors. The wrapper
// reads the dynamic dims from in_dims (all inputs' dims concatenated; the
// static ones are constants), builds row-major strides, and writes each
// result's allocation, data pointer (aligned + offset * element size) and
// dims.

// CHECK: llvm.func internal @qopt_model_main(
// CHECK-LABEL: llvm.func @qopt_entry_dyn(
// CHECK-SAME: %[[IN:[^:]*]]: !llvm.ptr, %[[DIMS:[^:]*]]: !llvm.ptr, %[[ALLOC:[^:]*]]: !llvm.ptr, %[[DATA:[^:]*]]: !llvm.ptr, %[[ODIMS:[^:]*]]: !llvm.ptr, %[[W:[^:]*]]: !llvm.ptr)
// CHECK: %[[X:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[C0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[G:.*]] = llvm.getelementptr %[[DIMS]][%[[C0]]] : (!llvm.ptr, i64) -> !llvm.ptr, i64
// CHECK: %[[N:.*]] = llvm.load %[[G]] : !llvm.ptr -> i64
// CHECK: %[[C4:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK: %[[OFF0:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[S0:.*]] = llvm.mul %[[ONE]], %[[C4]] : i64
// The scalar input k is the second data pointer: a rank-0 descriptor.
// CHECK: %[[K:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[WB:.*]] = llvm.mlir.constant(64 : i64) : i64
// CHECK: %[[R:.*]] = llvm.call @qopt_model_main(%[[X]], %[[X]], %[[OFF0]], %[[N]], %[[C4]], %[[S0]], %[[ONE]], %[[K]], %[[K]], %{{.*}}, %[[W]], %[[W]], %{{.*}}, %[[WB]], %{{.*}})
// CHECK: %[[D0:.*]] = llvm.extractvalue %[[R]][0]
// CHECK: %[[A0:.*]] = llvm.extractvalue %[[D0]][0]
// CHECK: %[[P0:.*]] = llvm.extractvalue %[[D0]][1]
// CHECK: %[[O0:.*]] = llvm.extractvalue %[[D0]][2]
// CHECK: %[[B0:.*]] = llvm.mul %[[O0]], %{{.*}} : i64
// CHECK: %[[Q0:.*]] = llvm.getelementptr %[[P0]][%[[B0]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: llvm.store %[[A0]], %{{.*}} : !llvm.ptr, !llvm.ptr
// CHECK: llvm.store %[[Q0]], %{{.*}} : !llvm.ptr, !llvm.ptr
// CHECK: %[[N0:.*]] = llvm.extractvalue %[[D0]][3, 0]
// CHECK: llvm.store %[[N0]], %{{.*}} : i64, !llvm.ptr
// CHECK: llvm.extractvalue %[[D0]][3, 1]
// CHECK: %[[D1:.*]] = llvm.extractvalue %[[R]][1]
// CHECK: llvm.extractvalue %[[D1]][3, 0]
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @qopt_entry(%{{.*}}: !llvm.ptr)
// CHECK-COUNT-6: llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @qopt_entry_dyn(
// CHECK: llvm.mlir.global external constant @qopt_model_abi("qopt-abi 2\0Aentry dynamic
module attributes {qopt.abi = "qopt-abi 2\0Aentry dynamic\0Ainput x 1 nx4\0Ainput k 7 scalar\0Aoutput y 1 nx4\0Aoutput z 3 ?\0Adim n 0\0Aweights 64\0A", qopt.entry_func = "main"} {
  llvm.func @main(%x0: !llvm.ptr, %x1: !llvm.ptr, %x2: i64, %x3: i64, %x4: i64, %x5: i64, %x6: i64,
                  %k0: !llvm.ptr, %k1: !llvm.ptr, %k2: i64,
                  %w0: !llvm.ptr, %w1: !llvm.ptr, %w2: i64, %w3: i64, %w4: i64)
      -> !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)> {
    %u = llvm.mlir.undef : !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
    llvm.return %u : !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
  }
}

// -----

// One result: the descriptor itself is returned; no weights argument.
// CHECK-LABEL: llvm.func @qopt_entry_dyn(
// CHECK: %[[R:.*]] = llvm.call @qopt_model_main({{.*}}) : (!llvm.ptr, !llvm.ptr, i64, i64, i64) -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: llvm.extractvalue %[[R]][0]
module attributes {qopt.abi = "qopt-abi 2\0Aentry dynamic\0Ainput x 1 ?\0Aoutput y 1 ?\0Aweights 0\0A", qopt.entry_func = "main"} {
  llvm.func @main(%x0: !llvm.ptr, %x1: !llvm.ptr, %x2: i64, %x3: i64, %x4: i64)
      -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> {
    %u = llvm.mlir.undef : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    llvm.return %u : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
  }
}

// -----

// A signature that does not match the ABI is one error.
module attributes {qopt.abi = "qopt-abi 2\0Aentry dynamic\0Ainput x 1 ?x4\0Aoutput y 1 ?\0Aweights 0\0A", qopt.entry_func = "main"} {
  // expected-error @+1 {{the dynamic-shape model function has type}}
  llvm.func @main(%x0: !llvm.ptr, %x1: !llvm.ptr, %x2: i64, %x3: i64, %x4: i64) {
    llvm.return
  }
}
