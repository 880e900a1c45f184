// RUN: qopt-opt %s --qopt-emit-entry | FileCheck %s

// CHECK: llvm.func internal @qopt_model_main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.func @qopt_entry(%[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[A0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.getelementptr %[[ARGS]][1]
// CHECK: llvm.getelementptr %[[ARGS]][2]
// CHECK: llvm.call @qopt_model_main(%[[A0]], %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK: llvm.return
// CHECK: llvm.mlir.global external constant @qopt_model_abi("qopt-abi 1\0Ainput x 1 2\0Aoutput y 1 2\0Aweights 64\0A\00")
module attributes {qopt.abi = "qopt-abi 1\0Ainput x 1 2\0Aoutput y 1 2\0Aweights 64\0A", qopt.entry_func = "main"} {
  llvm.func @main(%x: !llvm.ptr, %y: !llvm.ptr, %w: !llvm.ptr) {
    llvm.return
  }
}
