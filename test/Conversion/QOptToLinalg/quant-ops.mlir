// RUN: qopt-opt %s --convert-qopt-to-linalg --split-input-file | FileCheck %s

// Blocked (per-group) int4 dequantize: the parameter map divides the axis
// coordinate by the block size; i4 is sign-extended to i32 (§2).
// CHECK-DAG: #[[BLK:.*]] = affine_map<(d0, d1) -> (d0 floordiv 4, d1)>
// CHECK-LABEL: func @dequant_blocked_i4
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLK]], #[[BLK]], #{{.*}}]
// CHECK: arith.extsi %{{.*}} : i4 to i32
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @dequant_blocked_i4(%w: tensor<8x3xi4>, %s: tensor<2x3xf32>, %z: tensor<2x3xi4>) -> tensor<8x3xf32> {
  %y = qopt.dequantize %w, %s, %z {axis = 0 : i64, block_size = 4 : i64} : (tensor<8x3xi4>, tensor<2x3xf32>, tensor<2x3xi4>) -> tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}

// -----

// Unsigned int4 quantize saturates to [0, 15]; blocks along the last axis
// (ceil(10 / 4) = 3 groups, the last one partial).
// CHECK-DAG: #[[BLK:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
// CHECK-LABEL: func @quant_blocked_u4
// CHECK-DAG: arith.constant 0.000000e+00 : f32
// CHECK-DAG: arith.constant 1.500000e+01 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLK]], #[[BLK]], #{{.*}}]
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK: arith.extui %{{.*}} : i4 to i32
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
// CHECK: arith.fptosi
// CHECK: arith.trunci %{{.*}} : i32 to i4
func.func @quant_blocked_u4(%x: tensor<2x10xf32>, %s: tensor<2x3xf32>, %z: tensor<2x3xi4>) -> tensor<2x10xi4> {
  %y = qopt.quantize %x, %s, %z {axis = 1 : i64, block_size = 4 : i64, is_unsigned} : (tensor<2x10xf32>, tensor<2x3xf32>, tensor<2x3xi4>) -> tensor<2x10xi4>
  return %y : tensor<2x10xi4>
}

// -----

// Per-tensor asymmetric u8 (ONNX DynamicQuantizeLinear): min/max seeded with
// 0, scale = (hi - lo) / 255 (zero -> 1), zp = clamp(roundeven(0 - lo/scale)).
// CHECK-LABEL: func @dynq_tensor
// CHECK-DAG: arith.constant 2.550000e+02 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.minimumf
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK: arith.divf
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: math.roundeven
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: math.roundeven
// CHECK-NOT: qopt.
func.func @dynq_tensor(%x: tensor<3x4xf32>) -> (tensor<3x4xi8>, tensor<f32>, tensor<i8>) {
  %q, %s, %z = qopt.dynamic_quantize %x {is_unsigned} : tensor<3x4xf32> -> tensor<3x4xi8>, tensor<f32>, tensor<i8>
  return %q, %s, %z : tensor<3x4xi8>, tensor<f32>, tensor<i8>
}

// -----

// Per-row symmetric i8: max|x| per row, scale = max / 127, zp = 0; the
// quantize is blocked along the last dim with one block per row: the
// parameter map is the broadcast (d0, 0), not (d0, d1 floordiv 4).
// CHECK-DAG: affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @dynq_row_sym
// CHECK-DAG: arith.constant 1.270000e+02 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "reduction"]}
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK-NOT: arith.minimumf
// CHECK: tensor.expand_shape %{{.*}} : tensor<3xf32> into tensor<3x1xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]}
func.func @dynq_row_sym(%x: tensor<3x4xf32>) -> (tensor<3x4xi8>, tensor<3xf32>, tensor<3xi8>) {
  %q, %s, %z = qopt.dynamic_quantize %x {per_row, symmetric} : tensor<3x4xf32> -> tensor<3x4xi8>, tensor<3xf32>, tensor<3xi8>
  return %q, %s, %z : tensor<3x4xi8>, tensor<3xf32>, tensor<3xi8>
}

// -----

// qmatmul: u8 lhs zero-extended minus a per-row zero point, i8 rhs
// sign-extended minus a per-column one, then an i32 linalg.matmul (§5).
// CHECK-DAG: affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @qmm
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x3xi8>, tensor<2xi8>)
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<3x4xi8>, tensor<4xi8>)
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.subi
// CHECK: linalg.fill ins(%{{.*}} : i32)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<3x4xi32>) outs(%{{.*}} : tensor<2x4xi32>)
func.func @qmm(%a: tensor<2x3xi8>, %b: tensor<3x4xi8>, %az: tensor<2xi8>, %bz: tensor<4xi8>) -> tensor<2x4xi32> {
  %y = qopt.qmatmul %a, %b, %az, %bz {lhs_unsigned} : (tensor<2x3xi8>, tensor<3x4xi8>, tensor<2xi8>, tensor<4xi8>) -> tensor<2x4xi32>
  return %y : tensor<2x4xi32>
}

// -----

// Batched qmatmul with broadcast batch dims -> i32 linalg.batch_matmul.
// CHECK-LABEL: func @qmm_batch
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x2x4xi32>, tensor<2x4x3xi32>) outs(%{{.*}} : tensor<2x2x3xi32>)
// CHECK-NOT: qopt.
func.func @qmm_batch(%a: tensor<2x2x4xi8>, %b: tensor<2x4x3xi8>, %az: tensor<i8>, %bz: tensor<i8>) -> tensor<2x2x3xi32> {
  %y = qopt.qmatmul %a, %b, %az, %bz {lhs_unsigned, rhs_unsigned} : (tensor<2x2x4xi8>, tensor<2x4x3xi8>, tensor<i8>, tensor<i8>) -> tensor<2x2x3xi32>
  return %y : tensor<2x2x3xi32>
}

// -----

// Observers are left for the calibration lowering / qopt-strip-observers.
// CHECK-LABEL: func @observe
// CHECK: qopt.observe %{{.*}} {id = 3 : i64, label = "x"} : tensor<4xf32>
func.func @observe(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qopt.observe %x {id = 3 : i64, label = "x"} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Packed int4 (§10): element e reads byte e floordiv 2; the low nibble
// (even e) is (b << 4) >> 4, the high one b >> 4 (arithmetic, i8).
// CHECK-DAG: #[[HALF:.*]] = affine_map<(d0) -> (d0 floordiv 2)>
// CHECK-LABEL: func @unpack_int4
// CHECK: %[[F:.*]] = linalg.generic {indexing_maps = [#[[HALF]], #{{.*}}], iterator_types = ["parallel"]} ins(%arg0 : tensor<4xi8>) outs(%{{.*}} : tensor<8xi8>)
// CHECK-SAME: attrs = {qopt.unpack_int4}
// CHECK: linalg.index 0
// CHECK: arith.shli
// CHECK: arith.shrsi
// CHECK: tensor.expand_shape %[[F]] {{\[\[}}0, 1]] output_shape [2, 4] : tensor<8xi8> into tensor<2x4xi8>
func.func @unpack_int4(%p: tensor<4xi8>) -> tensor<2x4xi8> {
  %y = qopt.unpack_int4 %p : tensor<4xi8> -> tensor<2x4xi8>
  return %y : tensor<2x4xi8>
}
