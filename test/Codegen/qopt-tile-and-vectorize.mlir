// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-tile-and-vectorize,canonicalize))" --split-input-file | FileCheck %s

// A matmul whose dims divide the 8x32x4 register tile: parallel tiles over
// (M, N), a K loop, and a vector.contract on the innermost tile.
// CHECK-LABEL: func.func @mm
// CHECK: scf.forall ({{.*}}) = (0, 0) to (128, 768) step (8, 32)
// CHECK: scf.for {{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: vector.transfer_read {{.*}} : tensor<8x4xf32>, vector<8x4xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<4x32xf32>, vector<4x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x4xf32>, vector<4x32xf32> into vector<8x32xf32>
// CHECK-NOT: linalg.matmul
func.func @mm(%a: tensor<128x256xf32>, %b: tensor<256x768xf32>) -> tensor<128x768xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x768xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<128x768xf32>) -> tensor<128x768xf32>
  %r = linalg.matmul ins(%a, %b : tensor<128x256xf32>, tensor<256x768xf32>) outs(%f : tensor<128x768xf32>) -> tensor<128x768xf32>
  return %r : tensor<128x768xf32>
}

// -----

// Batched: the batch dimension is tiled by 1.
// CHECK-LABEL: func.func @bmm
// CHECK: scf.forall ({{.*}}) = (0, 0, 0) to (8, 128, 128) step (1, 8, 32)
// CHECK: vector.contract
func.func @bmm(%a: tensor<8x128x32xf32>, %b: tensor<8x32x128xf32>) -> tensor<8x128x128xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x128x128xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<8x128x128xf32>) -> tensor<8x128x128xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<8x128x32xf32>, tensor<8x32x128xf32>) outs(%f : tensor<8x128x128xf32>) -> tensor<8x128x128xf32>
  return %r : tensor<8x128x128xf32>
}

// -----

// N = 5 has no vector-friendly divisor: left to the scalar loops.
// CHECK-LABEL: func.func @odd
// CHECK: linalg.matmul
// CHECK-NOT: vector.contract
func.func @odd(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>, %c: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<4x3xf32>, tensor<3x5xf32>) outs(%c : tensor<4x5xf32>) -> tensor<4x5xf32>
  return %r : tensor<4x5xf32>
}

// -----

// The i32 product of the integer path (qopt.qmatmul after extension) is
// register-tiled the same way; integer math stays integer.
// CHECK-LABEL: func.func @mm_i32
// CHECK: scf.forall
// CHECK: vector.contract {{.*}} : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
func.func @mm_i32(%a: tensor<16x64xi32>, %b: tensor<64x32xi32>) -> tensor<16x32xi32> {
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<16x32xi32>
  %f = linalg.fill ins(%c0 : i32) outs(%e : tensor<16x32xi32>) -> tensor<16x32xi32>
  %r = linalg.matmul ins(%a, %b : tensor<16x64xi32>, tensor<64x32xi32>) outs(%f : tensor<16x32xi32>) -> tensor<16x32xi32>
  return %r : tensor<16x32xi32>
}

// -----

// A max/min reduction over the innermost dim (the dynamic quantization's
// range, softmax's max): rows become scf.forall iterations and each row one
// vector.reduction (exact: max/min do not depend on the order).
// CHECK-LABEL: func.func @row_max
// CHECK: scf.forall
// CHECK: vector.transfer_read {{.*}} : tensor<1x64xf32>, vector<1x64xf32>
// CHECK: vector.shape_cast {{.*}} : vector<1x64xf32> to vector<64xf32>
// CHECK: vector.reduction <maximumf>, {{.*}} : vector<64xf32> into f32
// CHECK-NOT: vector.multi_reduction
func.func @row_max(%x: tensor<4x64xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x64xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A sum (here of a fused x*x) becomes an ordered vector.reduction: no
// reassoc flag, so LLVM adds in the scalar loop's order (same result).
// CHECK-LABEL: func.func @row_sum
// CHECK: scf.forall
// CHECK: arith.mulf {{.*}} : vector<1x64xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<64xf32> into f32
// CHECK-NOT: fastmath
func.func @row_sum(%x: tensor<4x64xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x64xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %m = arith.addf %sq, %out : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Elementwise with a per-row operand (softmax's exp(x - max)): one row per
// scf.forall iteration, 16-wide vectors along the row.
// CHECK-LABEL: func.func @softmax_exp
// CHECK: scf.forall
// CHECK: scf.for {{.*}} step %c16
// CHECK: vector.transfer_read {{.*}} vector<1x16xf32>
// CHECK: vector.transfer_read {{.*}} permutation_map = {{.*}} : tensor<1xf32>, vector<1x16xf32>
// CHECK: math.exp {{.*}} : vector<1x16xf32>
// CHECK: vector.transfer_write
func.func @softmax_exp(%x: tensor<4x64xf32>, %m: tensor<4xf32>) -> tensor<4x64xf32> {
  %e = tensor.empty() : tensor<4x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %m : tensor<4x64xf32>, tensor<4xf32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %d = arith.subf %in, %mx : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// -----

// Not contiguous along the innermost loop (a transposed read), or a math op
// that only has a scalar (libm) lowering: left to the scalar loops.
// CHECK-LABEL: func.func @not_vectorized
// CHECK-NOT: vector.
// CHECK: linalg.transpose
// CHECK: math.erf
func.func @not_vectorized(%x: tensor<64x64xf32>) -> (tensor<64x64xf32>, tensor<64x64xf32>) {
  %e = tensor.empty() : tensor<64x64xf32>
  %t = linalg.transpose ins(%x : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) permutation = [1, 0]
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %y = math.erf %in : f32
    linalg.yield %y : f32
  } -> tensor<64x64xf32>
  return %t, %r : tensor<64x64xf32>, tensor<64x64xf32>
}
