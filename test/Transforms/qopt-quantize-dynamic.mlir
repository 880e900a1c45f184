// RUN: qopt-opt %s --qopt-quantize-dynamic="act-scheme=sym" --split-input-file | FileCheck %s --check-prefix=W8
// RUN: qopt-opt %s --qopt-quantize-dynamic="act-scheme=asym weight-scheme=asym" --split-input-file | FileCheck %s --check-prefix=ASYM
// RUN: qopt-opt %s --qopt-quantize-dynamic="per-token=false act-scheme=sym" --split-input-file | FileCheck %s --check-prefix=TENSOR
// RUN: qopt-opt %s --qopt-quantize-dynamic="weight-bits=4 group-size=2 act-scheme=sym" --split-input-file | FileCheck %s --check-prefix=W4
// RUN: not qopt-opt %s --qopt-quantize-dynamic="weight-bits=4 group-size=3" 2>&1 | FileCheck %s --check-prefix=GS
// RUN: not qopt-opt %s --qopt-quantize-dynamic="act-scheme=foo" 2>&1 | FileCheck %s --check-prefix=SCHEME

// w8a8-dynamic: [2, 3, 4] activations flattened to [6, 4], quantized per
// token (symmetric i8), int8 x int8 -> i32 qmatmul, f32 epilogue
// acc * sx[m] * sw[n], reshaped back.
// W8-LABEL: func @w8a8
// W8-DAG: %[[W:.*]] = arith.constant {qopt.bits = 8 : i64} dense<{{\[\[}}127, 127], [-64, -64], [1, 0], [0, 0]]> : tensor<4x2xi8>
// W8-DAG: %[[SW:.*]] = arith.constant dense<[1.000000e+00, 2.000000e-02]> : tensor<2xf32>
// W8: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// W8: %[[XQ:.*]], %[[SX:.*]], %{{.*}} = qopt.dynamic_quantize %[[X]] {per_row, {{.*}}symmetric} : tensor<6x4xf32> -> tensor<6x4xi8>, tensor<6xf32>, tensor<6xi8>
// W8: %[[ACC:.*]] = qopt.qmatmul %[[XQ]], %[[W]], %{{.*}}, %{{.*}} {qopt.layer = "fc", qopt.quant = "w8a8-dynamic"} : (tensor<6x4xi8>, tensor<4x2xi8>, tensor<i8>, tensor<i8>) -> tensor<6x2xi32>
// W8: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[ACC]], %[[SX]], %[[SW]] : tensor<6x2xi32>, tensor<6xf32>, tensor<2xf32>)
// W8: arith.sitofp
// W8: arith.mulf
// W8: arith.mulf
// W8: tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 2] : tensor<6x2xf32> into tensor<2x3x2xf32>
// W8-NOT: qopt.matmul
// Asymmetric: u8 activations with per-row zero points and int8 weights with
// per-column zero points, both handled by qmatmul.
// ASYM-LABEL: func @w8a8
// ASYM: %[[XQ:.*]], %[[SX:.*]], %[[ZX:.*]] = qopt.dynamic_quantize %{{.*}} {is_unsigned, per_row,
// ASYM: qopt.qmatmul %[[XQ]], %{{.*}}, %[[ZX]], %{{.*}} {lhs_unsigned, {{.*}}} : (tensor<6x4xi8>, tensor<4x2xi8>, tensor<6xi8>, tensor<2xi8>) -> tensor<6x2xi32>
// TENSOR-LABEL: func @w8a8
// TENSOR: qopt.dynamic_quantize %{{.*}} {{{.*}}symmetric} : tensor<6x4xf32> -> tensor<6x4xi8>, tensor<f32>, tensor<i8>
func.func @w8a8(%x: tensor<2x3x4xf32>) -> tensor<2x3x2xf32> {
  %w = arith.constant dense<[[127.0, 2.54], [-64.0, -1.27], [1.0, 0.0], [0.5, 0.0]]> : tensor<4x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "fc"} : (tensor<2x3x4xf32>, tensor<4x2xf32>) -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// w4a8, groups of 2 along K = 4: the weight is stored [G=2, 2, N], the
// quantized activation [M, K] -> [M, G, 2] -> [G, M, 2], one batched qmatmul
// -> [G, M, N] i32, and the epilogue reduces over g in f32.
// W4-LABEL: func @w4a8
// W4-DAG: %[[P:.*]] = arith.constant {qopt.bits = 4 : i64} dense<[-57, -110]> : tensor<2xi8>
// W4-DAG: %[[W:.*]] = qopt.unpack_int4 %[[P]] : tensor<2xi8> -> tensor<2x2x1xi8>
// W4-DAG: %[[SW:.*]] = arith.constant dense<{{\[\[}}1.000000e+00], [2.000000e+00]]> : tensor<2x1xf32>
// W4: %[[XQ:.*]], %[[SX:.*]], %{{.*}} = qopt.dynamic_quantize %arg0 {per_row, {{.*}}symmetric} : tensor<3x4xf32> -> tensor<3x4xi8>, tensor<3xf32>, tensor<3xi8>
// W4: %[[X3:.*]] = tensor.expand_shape %[[XQ]] {{\[\[}}0], [1, 2]] output_shape [3, 2, 2] : tensor<3x4xi8> into tensor<3x2x2xi8>
// W4: %[[XG:.*]] = linalg.transpose ins(%[[X3]] : tensor<3x2x2xi8>) outs(%{{.*}} : tensor<2x3x2xi8>) permutation = [1, 0, 2]
// W4: %[[ACC:.*]] = qopt.qmatmul %[[XG]], %[[W]], %{{.*}}, %{{.*}} {{.*}} : (tensor<2x3x2xi8>, tensor<2x2x1xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3x1xi32>
// W4: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[ACC]], %[[SX]], %[[SW]] : tensor<2x3x1xi32>, tensor<3xf32>, tensor<2x1xf32>)
// W4: arith.addf
func.func @w4a8(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = arith.constant dense<[[7.0], [-4.0], [3.0], [-14.0]]> : tensor<4x1xf32>
  %y = qopt.matmul %x, %w : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// Two layers reading one activation (q/k/v, gate/up) share its
// dynamic_quantize.
// W8-LABEL: func @shared
// W8-COUNT-1: qopt.dynamic_quantize
// W8-NOT: qopt.dynamic_quantize
// W8: qopt.qmatmul
// W8: qopt.qmatmul
func.func @shared(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %w0 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %w1 = arith.constant dense<[[8.0, 7.0], [6.0, 5.0], [4.0, 3.0], [2.0, 1.0]]> : tensor<4x2xf32>
  %y0 = qopt.matmul %x, %w0 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %y1 = qopt.matmul %x, %w1 : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y0, %y1 : tensor<3x2xf32>, tensor<3x2xf32>
}

// GS: K = 4 of layer '{{.*}}' is not a multiple of group-size 3
// SCHEME: qopt-quantize-dynamic: act-scheme must be sym or asym, got 'foo'
