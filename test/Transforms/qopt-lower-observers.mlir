// RUN: qopt-opt %s --qopt-lower-observers --split-input-file --verify-diagnostics | FileCheck %s

// Calibration builds: each observer becomes a read-only to_buffer and a call
// of the collector with (id, aligned data pointer, element count); its
// users read the observed tensor directly.
// CHECK: func.func private @qopt_observe(i64, !llvm.ptr, i64)
// CHECK-LABEL: func @static
// CHECK: %[[C:.*]] = arith.constant 24 : index
// CHECK: %[[N:.*]] = arith.index_cast %[[C]] : index to i64
// CHECK: %[[B:.*]] = bufferization.to_buffer %arg0 read_only : tensor<2x3x4xf32> to memref<2x3x4xf32>
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: %[[I:.*]] = arith.index_cast %[[P]] : index to i64
// CHECK: %[[PTR:.*]] = llvm.inttoptr %[[I]] : i64 to !llvm.ptr
// CHECK: %[[ID:.*]] = arith.constant 5 : i64
// CHECK: call @qopt_observe(%[[ID]], %[[PTR]], %[[N]]) : (i64, !llvm.ptr, i64) -> ()
// CHECK-NOT: qopt.observe
// CHECK: return %arg0
func.func @static(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %o = qopt.observe %x {id = 5 : i64, label = "fc"} : tensor<2x3x4xf32>
  return %o : tensor<2x3x4xf32>
}

// -----

// Dynamic dimensions multiply into the element count.
// CHECK-LABEL: func @dynamic
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[M:.*]] = arith.muli %{{.*}}, %[[D]] : index
// CHECK: %[[N:.*]] = arith.index_cast %[[M]] : index to i64
// CHECK: call @qopt_observe(%{{.*}}, %{{.*}}, %[[N]])
func.func @dynamic(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %o = qopt.observe %x {id = 0 : i64, label = "fc"} : tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

func.func @not_f32(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{only f32 tensors can be observed}}
  %o = qopt.observe %x {id = 0 : i64, label = "i"} : tensor<4xi32>
  return %o : tensor<4xi32>
}
