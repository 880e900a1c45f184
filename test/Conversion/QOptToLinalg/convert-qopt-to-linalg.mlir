// RUN: qopt-opt %s --convert-qopt-to-linalg | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SC:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[AX:.*]] = affine_map<(d0, d1) -> (d1)>

// CHECK-LABEL: func @mm2d
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[Z]] : tensor<2x4xf32>)
// CHECK-NOT: qopt.matmul
func.func @mm2d(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %y = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// A weight without batch dims: lhs batch folds into rows.
// CHECK-LABEL: func @mm_rows
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<5x2x3xf32> into tensor<10x3xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<10x3xf32>, tensor<3x4xf32>)
// CHECK: tensor.expand_shape %{{.*}} : tensor<40xf32> into tensor<5x2x4xf32>
func.func @mm_rows(%a: tensor<5x2x3xf32>, %b: tensor<3x4xf32>) -> tensor<5x2x4xf32> {
  %y = qopt.matmul %a, %b : (tensor<5x2x3xf32>, tensor<3x4xf32>) -> tensor<5x2x4xf32>
  return %y : tensor<5x2x4xf32>
}

// Broadcast batch dims are materialised, then collapsed into one.
// CHECK-LABEL: func @mm_batch
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x3xf32>) outs(%{{.*}} : tensor<4x2x3xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x2x3xf32>, tensor<4x3x5xf32>)
func.func @mm_batch(%a: tensor<2x3xf32>, %b: tensor<4x3x5xf32>) -> tensor<4x2x5xf32> {
  %y = qopt.matmul %a, %b : (tensor<2x3xf32>, tensor<4x3x5xf32>) -> tensor<4x2x5xf32>
  return %y : tensor<4x2x5xf32>
}

// 1-D promotion: (3) x (3) -> scalar.
// CHECK-LABEL: func @mm_dot
// CHECK: tensor.expand_shape %{{.*}} : tensor<3xf32> into tensor<1x3xf32>
// CHECK: tensor.expand_shape %{{.*}} : tensor<3xf32> into tensor<3x1xf32>
// CHECK: linalg.matmul
// CHECK: tensor.collapse_shape %{{.*}} [] : tensor<1xf32> into tensor<f32>
func.func @mm_dot(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<f32> {
  %y = qopt.matmul %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// CHECK-LABEL: func @mm_int
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xi32>, tensor<3x4xi32>)
func.func @mm_int(%a: tensor<2x3xi32>, %b: tensor<3x4xi32>) -> tensor<2x4xi32> {
  %y = qopt.matmul %a, %b : (tensor<2x3xi32>, tensor<3x4xi32>) -> tensor<2x4xi32>
  return %y : tensor<2x4xi32>
}

// Unsigned per-tensor quantize: divide, round half even, add zp, clamp [0, 255].
// CHECK-LABEL: func @quant_u8
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SC]], #[[SC]], #[[ID]]]
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[ZP:.*]]: i8, %{{.*}}: i8):
// CHECK:   %[[D:.*]] = arith.divf %[[X]], %[[S]] : f32
// CHECK:   %[[R:.*]] = math.roundeven %[[D]] : f32
// CHECK:   %[[ZE:.*]] = arith.extui %[[ZP]] : i8 to i32
// CHECK:   %[[ZF:.*]] = arith.sitofp %[[ZE]] : i32 to f32
// CHECK:   %[[V:.*]] = arith.addf %[[R]], %[[ZF]] : f32
// CHECK:   %[[LO:.*]] = arith.maxnumf %[[V]], %{{.*}} : f32
// CHECK:   %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : f32
// CHECK:   %[[I:.*]] = arith.fptosi %[[HI]] : f32 to i32
// CHECK:   %[[T:.*]] = arith.trunci %[[I]] : i32 to i8
// CHECK:   linalg.yield %[[T]] : i8
func.func @quant_u8(%x: tensor<2x3xf32>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<2x3xi8> {
  %q = qopt.quantize %x, %s, %z {is_unsigned} : (tensor<2x3xf32>, tensor<f32>, tensor<i8>) -> tensor<2x3xi8>
  return %q : tensor<2x3xi8>
}

// Signed per-axis: zp sign-extended, clamp to [-128, 127].
// CHECK-LABEL: func @quant_s8_axis
// CHECK-DAG: arith.constant -1.280000e+02 : f32
// CHECK-DAG: arith.constant 1.270000e+02 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[AX]], #[[AX]], #[[ID]]]
// CHECK: arith.extsi %{{.*}} : i8 to i32
func.func @quant_s8_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<2x3xi8> {
  %q = qopt.quantize %x, %s, %z : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  return %q : tensor<2x3xi8>
}

// CHECK-LABEL: func @dequant_u8
// CHECK: ^bb0(%[[X:.*]]: i8, %[[S:.*]]: f32, %[[ZP:.*]]: i8, %{{.*}}: f32):
// CHECK:   %[[XE:.*]] = arith.extui %[[X]] : i8 to i32
// CHECK:   %[[ZE:.*]] = arith.extui %[[ZP]] : i8 to i32
// CHECK:   %[[D:.*]] = arith.subi %[[XE]], %[[ZE]] : i32
// CHECK:   %[[F:.*]] = arith.sitofp %[[D]] : i32 to f32
// CHECK:   %[[R:.*]] = arith.mulf %[[F]], %[[S]] : f32
// CHECK:   linalg.yield %[[R]] : f32
func.func @dequant_u8(%x: tensor<2x3xi8>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<2x3xf32> {
  %d = qopt.dequantize %x, %s, %z {is_unsigned} : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// CHECK-LABEL: func @dequant_s8_axis0
// CHECK: arith.extsi %{{.*}} : i8 to i32
func.func @dequant_s8_axis0(%x: tensor<2x3xi8>, %s: tensor<2xf32>, %z: tensor<2xi8>) -> tensor<2x3xf32> {
  %d = qopt.dequantize %x, %s, %z {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}
