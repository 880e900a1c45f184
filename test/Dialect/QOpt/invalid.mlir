// RUN: qopt-opt %s -split-input-file -verify-diagnostics

func.func @q_c1(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i16>) -> tensor<4xi8> {
  // expected-error @+1 {{(C1) integer side and zero_point must share an integer element type}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i16>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @q_c1_float(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+1 {{(C1)}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  return %q : tensor<4xf32>
}

// -----

func.func @q_c2(%x: tensor<4xf32>, %s: tensor<f16>, %z: tensor<i8>) -> tensor<4xi8> {
  // expected-error @+1 {{(C2) float side and scale must share a float element type}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f16>, tensor<i8>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @q_c3(%x: tensor<4xf32>, %s: tensor<4xf32>, %z: tensor<i8>) -> tensor<4xi8> {
  // expected-error @+1 {{(C3) scale and zero_point must have the same shape of rank 0 or 1 (or the input}}
  %q = qopt.quantize %x, %s, %z {axis = 0 : i64} : (tensor<4xf32>, tensor<4xf32>, tensor<i8>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @q_c3_rank(%x: tensor<4xf32>, %s: tensor<1x1xf32>, %z: tensor<1x1xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{(C3)}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<1x1xf32>, tensor<1x1xi8>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @q_c4(%x: tensor<2x4xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<2x4xi8> {
  // expected-error @+1 {{(C4) per-axis scale has 3 elements but dimension 1 has 4}}
  %q = qopt.quantize %x, %s, %z {axis = 1 : i64} : (tensor<2x4xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x4xi8>
  return %q : tensor<2x4xi8>
}

// -----

func.func @q_axis(%x: tensor<4xf32>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error @+1 {{axis 1 out of range for rank 1}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// -----

func.func @q_shape(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<5xi8> {
  // expected-error @+1 {{input and result shapes differ}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<5xi8>
  return %q : tensor<5xi8>
}

// -----

func.func @dq_c1(%x: tensor<4xi8>, %s: tensor<f32>, %z: tensor<i32>) -> tensor<4xf32> {
  // expected-error @+1 {{(C1)}}
  %d = qopt.dequantize %x, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

func.func @dq_c2(%x: tensor<4xi8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<4xf16> {
  // expected-error @+1 {{(C2)}}
  %d = qopt.dequantize %x, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf16>
  return %d : tensor<4xf16>
}

// -----

func.func @dq_c3(%x: tensor<4xi8>, %s: tensor<4xf32>, %z: tensor<2xi8>) -> tensor<4xf32> {
  // expected-error @+1 {{(C3)}}
  %d = qopt.dequantize %x, %s, %z {axis = 0 : i64} : (tensor<4xi8>, tensor<4xf32>, tensor<2xi8>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

func.func @dq_c4(%x: tensor<4x2xi8>, %s: tensor<2xf32>, %z: tensor<2xi8>) -> tensor<4x2xf32> {
  // expected-error @+1 {{(C4)}}
  %d = qopt.dequantize %x, %s, %z {axis = 0 : i64} : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<4x2xf32>
  return %d : tensor<4x2xf32>
}

// -----

func.func @mm_c1(%a: tensor<2x3xf32>, %b: tensor<3x4xf16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(C1) operands and result must share an element type}}
  %y = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf16>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @mm_c2(%a: tensor<2x3xf32>, %b: tensor<5x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(C2) contraction dimensions differ: 3 vs 5}}
  %y = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @mm_c3_batch(%a: tensor<2x2x3xf32>, %b: tensor<3x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{(C3) batch dimensions do not broadcast: 2 vs 3}}
  %y = qopt.matmul %a, %b : (tensor<2x2x3xf32>, tensor<3x3x4xf32>) -> tensor<3x2x4xf32>
  return %y : tensor<3x2x4xf32>
}

// -----

func.func @mm_c3_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{(C3) result rank must be 1}}
  %y = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

func.func @mm_c3_shape(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{(C3) result shape does not match the broadcast matmul shape}}
  %y = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @mm_rank0(%a: tensor<f32>, %b: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{operands must have rank >= 1}}
  %y = qopt.matmul %a, %b : (tensor<f32>, tensor<3x4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @blocked_scale_shape(%x: tensor<4x64xf32>, %s: tensor<4x3xf32>, %z: tensor<4x3xi8>) -> tensor<4x64xi8> {
  // expected-error @+1 {{(C4) blocked scale dimension 1 must be 2, got 3}}
  %q = qopt.quantize %x, %s, %z {axis = 1 : i64, block_size = 32 : i64} : (tensor<4x64xf32>, tensor<4x3xf32>, tensor<4x3xi8>) -> tensor<4x64xi8>
  return %q : tensor<4x64xi8>
}

// -----

func.func @dynamic_quantize_rows(%x: tensor<2x8xf32>) -> tensor<2x8xi8> {
  // expected-error @+1 {{(C3) scale/zero_point shape must be the input shape without its last dimension}}
  %q, %s, %z = qopt.dynamic_quantize %x {per_row, symmetric} : tensor<2x8xf32> -> tensor<2x8xi8>, tensor<8xf32>, tensor<8xi8>
  return %q : tensor<2x8xi8>
}

// -----

func.func @dynamic_quantize_float_result(%x: tensor<2x8xf32>) -> tensor<2x8xf16> {
  // expected-error @+1 {{(C1) input must be float and result an integer of at most 16 bits}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<2x8xf32> -> tensor<2x8xf16>, tensor<f32>, tensor<f16>
  return %q : tensor<2x8xf16>
}

// -----

func.func @qmatmul_wide(%a: tensor<2x4xi16>, %b: tensor<4x3xi8>, %za: tensor<i16>, %zb: tensor<i8>) -> tensor<2x3xi32> {
  // expected-error @+1 {{(C1) operands and zero points must be integers of at most 8 bits}}
  %y = qopt.qmatmul %a, %b, %za, %zb : (tensor<2x4xi16>, tensor<4x3xi8>, tensor<i16>, tensor<i8>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

// -----

func.func @qmatmul_acc(%a: tensor<2x4xi8>, %b: tensor<4x3xi8>, %za: tensor<i8>, %zb: tensor<i8>) -> tensor<2x3xi16> {
  // expected-error @+1 {{(C2) result must be i32}}
  %y = qopt.qmatmul %a, %b, %za, %zb : (tensor<2x4xi8>, tensor<4x3xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3xi16>
  return %y : tensor<2x3xi16>
}

// -----

func.func @qmatmul_k(%a: tensor<2x4xi8>, %b: tensor<5x3xi8>, %za: tensor<i8>, %zb: tensor<i8>) -> tensor<2x3xi32> {
  // expected-error @+1 {{(C3) contraction dimensions differ: 4 vs 5}}
  %y = qopt.qmatmul %a, %b, %za, %zb : (tensor<2x4xi8>, tensor<5x3xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

// -----

func.func @qmatmul_zp(%a: tensor<2x4xi8>, %b: tensor<4x3xi8>, %za: tensor<i8>, %zb: tensor<4xi8>) -> tensor<2x3xi32> {
  // expected-error @+1 {{(C4) rhs zero point must be 0-D or of size 3}}
  %y = qopt.qmatmul %a, %b, %za, %zb : (tensor<2x4xi8>, tensor<4x3xi8>, tensor<i8>, tensor<4xi8>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

// -----

func.func @observe_id(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{id must be >= 0}}
  %y = qopt.observe %x {id = -1 : i64, label = "x"} : tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @unpack_bytes(%p: tensor<3xi8>) -> tensor<2x4xi8> {
  // expected-error @+1 {{(C1) input must have 4 bytes for 8 int4 values, got 3}}
  %y = qopt.unpack_int4 %p : tensor<3xi8> -> tensor<2x4xi8>
  return %y : tensor<2x4xi8>
}

// -----

func.func @unpack_rank(%p: tensor<2x2xi8>) -> tensor<2x4xi8> {
  // expected-error @+1 {{(C1) input must be a 1-D i8 tensor}}
  %y = qopt.unpack_int4 %p : tensor<2x2xi8> -> tensor<2x4xi8>
  return %y : tensor<2x4xi8>
}
