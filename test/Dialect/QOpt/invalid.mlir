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
  // expected-error @+1 {{(C3) scale and zero_point must have rank 0 or 1 and the same shape}}
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
