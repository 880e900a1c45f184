// RUN: qopt-opt %s --qopt-quantize-weights --split-input-file | FileCheck %s --check-prefix=W8
// RUN: qopt-opt %s --qopt-quantize-weights="scheme=asym" --split-input-file | FileCheck %s --check-prefix=ASYM
// RUN: qopt-opt %s --qopt-quantize-weights="bits=4 group-size=2" --split-input-file | FileCheck %s --check-prefix=W4
// RUN: qopt-opt %s --qopt-quantize-weights="exclude=lm_head" --split-input-file | FileCheck %s --check-prefix=EXCL
// RUN: not qopt-opt %s --qopt-quantize-weights="bits=3" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not qopt-opt %s --qopt-quantize-weights="exclude=(" 2>&1 | FileCheck %s --check-prefix=REGEX

// int8 per output channel (axis 1), symmetric: scale = max|w[:, n]| / 127,
// q = roundeven(w / s). Column 0: max 127 -> s 1, [127, -64, 1, 0.5 -> 0]
// (half to even); column 1: max 2.54 -> s 0.02, [2.54, -1.27 -> -63.5 -> -64].
// W8-LABEL: func @w8
// W8-DAG: %[[Q:.*]] = arith.constant {qopt.bits = 8 : i64} dense<{{\[\[}}127, 127], [-64, -64], [1, 0], [0, 0]]> : tensor<4x2xi8>
// W8-DAG: %[[S:.*]] = arith.constant dense<[1.000000e+00, 2.000000e-02]> : tensor<2xf32>
// W8-DAG: %[[Z:.*]] = arith.constant dense<0> : tensor<2xi8>
// W8: %[[D:.*]] = qopt.dequantize %[[Q]], %[[S]], %[[Z]] : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<4x2xf32>
// W8: qopt.matmul %arg0, %[[D]] {qopt.layer = "/layers.0/mlp/down_proj/MatMul", qopt.quant = "w8"}
// W8-NOT: 2.540000e+00
// ASYM-LABEL: func @w8
// ASYM: qopt.dequantize %{{.*}} : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<4x2xf32>
// EXCL-LABEL: func @w8
// EXCL: qopt.dequantize
func.func @w8(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[127.0, 2.54], [-64.0, -1.27], [1.0, 0.0], [0.5, 0.0]]> : tensor<4x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "/layers.0/mlp/down_proj/MatMul"} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// int4 in groups of 2 rows along K: blocked scale [K/2, N], axis 0; a batched
// lhs is fine (the weight is 2-D). Group 0 of column 0: max 7 -> s 1; group 1:
// max 14 -> s 2, 3 / 2 = 1.5 -> 2 (half to even), -14 / 2 = -7.
// W4-LABEL: func @w4
// Values [7, -4, 2, -7] packed two per byte, low nibble first (§10):
// 0xC7 = -57, 0x92 = -110.
// W4-DAG: %[[P:.*]] = arith.constant {qopt.bits = 4 : i64} dense<[-57, -110]> : tensor<2xi8>
// W4-DAG: %[[Q:.*]] = qopt.unpack_int4 %[[P]] : tensor<2xi8> -> tensor<4x1xi8>
// W4-DAG: %[[S:.*]] = arith.constant dense<{{\[\[}}1.000000e+00], [2.000000e+00]]> : tensor<2x1xf32>
// W4: qopt.dequantize %[[Q]], %[[S]], %{{.*}} {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x1xi8>, tensor<2x1xf32>, tensor<2x1xi8>) -> tensor<4x1xf32>
// W4: qopt.matmul {{.*}}qopt.quant = "w4"
// Asymmetric int4: column 0 of group 0 spans [-4, 7] -> s 11/15, zp != 0.
// ASYM-LABEL: func @w4
// ASYM: qopt.dequantize
// The lm_head is excluded by name (qopt.layer) and stays f32.
// EXCL-LABEL: func @w4
// EXCL-NOT: qopt.dequantize
// EXCL: qopt.matmul %arg0, %{{.*}} {qopt.layer = "lm_head/MatMul"}
func.func @w4(%x: tensor<2x3x4xf32>) -> tensor<2x3x1xf32> {
  %w = arith.constant dense<[[7.0], [-4.0], [3.0], [-14.0]]> : tensor<4x1xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "lm_head/MatMul"} : (tensor<2x3x4xf32>, tensor<4x1xf32>) -> tensor<2x3x1xf32>
  return %y : tensor<2x3x1xf32>
}

// -----

// Not a constant weight, or not f32: untouched.
// W8-LABEL: func @skip
// W8-NOT: qopt.dequantize
// W8: qopt.matmul %arg0, %arg1 :
func.func @skip(%x: tensor<3x4xf32>, %w: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %y = qopt.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// BITS: qopt-quantize-weights: bits must be 8 or 4, got 3
// REGEX: qopt-quantize-weights: bad exclude regex '('
