// RUN: qopt-opt %s | qopt-opt | FileCheck %s
// RUN: qopt-opt %s --mlir-print-op-generic | qopt-opt | FileCheck %s

// CHECK-LABEL: func @roundtrip
func.func @roundtrip(%x: tensor<2x3xf32>, %s: tensor<f32>, %z: tensor<i8>,
                     %sc: tensor<3xf32>, %zc: tensor<3xi8>,
                     %a: tensor<4x2x3xf32>, %b: tensor<3xf32>, %w: tensor<1x3x5xf32>)
    -> (tensor<2x3xi8>, tensor<2x3xf32>, tensor<2x3xi8>, tensor<4x2xf32>, tensor<4x2x5xf32>) {
  // CHECK: qopt.quantize %{{.*}}, %{{.*}}, %{{.*}} {is_unsigned} : (tensor<2x3xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
  %q = qopt.quantize %x, %s, %z {is_unsigned} : (tensor<2x3xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
  // CHECK: qopt.dequantize %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  %d = qopt.dequantize %q, %s, %z : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  // CHECK: qopt.quantize %{{.*}}, %{{.*}}, %{{.*}} {axis = -1 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  %qc = qopt.quantize %x, %sc, %zc {axis = -1 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  // CHECK: qopt.matmul %{{.*}}, %{{.*}} : (tensor<4x2x3xf32>, tensor<3xf32>) -> tensor<4x2xf32>
  %m1 = qopt.matmul %a, %b : (tensor<4x2x3xf32>, tensor<3xf32>) -> tensor<4x2xf32>
  // CHECK: qopt.matmul %{{.*}}, %{{.*}} : (tensor<4x2x3xf32>, tensor<1x3x5xf32>) -> tensor<4x2x5xf32>
  %m2 = qopt.matmul %a, %w : (tensor<4x2x3xf32>, tensor<1x3x5xf32>) -> tensor<4x2x5xf32>
  return %q, %d, %qc, %m1, %m2 : tensor<2x3xi8>, tensor<2x3xf32>, tensor<2x3xi8>, tensor<4x2xf32>, tensor<4x2x5xf32>
}

// CHECK-LABEL: func.func @quant_core
// CHECK: qopt.quantize {{.*}} {block_size = 32 : i64}
// CHECK: qopt.dynamic_quantize {{.*}} {per_row, symmetric} : tensor<2x64xf32> -> tensor<2x64xi8>, tensor<2xf32>, tensor<2xi8>
// CHECK: qopt.qmatmul {{.*}} {rhs_unsigned}
// CHECK: qopt.observe {{.*}} {id = 3 : i64, label = "fc.input"} : tensor<2x64xf32>
func.func @quant_core(%x: tensor<2x64xf32>, %s: tensor<2x2xf32>, %z: tensor<2x2xi8>, %w: tensor<64x8xi8>, %zw: tensor<8xi8>) -> (tensor<2x64xi8>, tensor<2x8xi32>, tensor<2x64xf32>) {
  %q = qopt.quantize %x, %s, %z {axis = 1 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<2x64xi8>
  %d, %ds, %dz = qopt.dynamic_quantize %x {per_row, symmetric} : tensor<2x64xf32> -> tensor<2x64xi8>, tensor<2xf32>, tensor<2xi8>
  %zero = arith.constant dense<0> : tensor<i8>
  %y = qopt.qmatmul %d, %w, %zero, %zw {rhs_unsigned} : (tensor<2x64xi8>, tensor<64x8xi8>, tensor<i8>, tensor<8xi8>) -> tensor<2x8xi32>
  %o = qopt.observe %x {id = 3 : i64, label = "fc.input"} : tensor<2x64xf32>
  return %q, %y, %o : tensor<2x64xi8>, tensor<2x8xi32>, tensor<2x64xf32>
}

// CHECK-LABEL: func @unpack_int4
// CHECK: qopt.unpack_int4 %{{.*}} : tensor<3xi8> -> tensor<5xi8>
func.func @unpack_int4(%p: tensor<3xi8>) -> tensor<5xi8> {
  %y = qopt.unpack_int4 %p : tensor<3xi8> -> tensor<5xi8>
  return %y : tensor<5xi8>
}
