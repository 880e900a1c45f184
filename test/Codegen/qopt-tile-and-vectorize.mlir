// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-tile-and-vectorize{panel-n=32},canonicalize))" --split-input-file | FileCheck %s
// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-tile-and-vectorize,canonicalize))" --split-input-file | FileCheck %s --check-prefix=PF
// (The first run keeps 32-column weight panels, 8x32 tiles, so that the
// small constants below still make two panels; the default is 64 columns.)

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

// A sum (here of a fused x*x): the four 16-wide chunks are added lane-wise
// in order, then the 16 partial sums by an ordered vector.reduction (no
// reassoc flag): a fixed order on every target.
// CHECK-LABEL: func.func @row_sum
// CHECK: scf.forall
// CHECK: arith.mulf {{.*}} : vector<1x64xf32>
// CHECK: vector.extract_strided_slice {{.*}}offsets = [0]{{.*}} : vector<64xf32> to vector<16xf32>
// CHECK: vector.extract_strided_slice {{.*}}offsets = [16]
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: vector.extract_strided_slice {{.*}}offsets = [48]
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<16xf32> into f32
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

// -----

// Constant weights: packed at compile time into column panels
// [N/32, K, 32] (P[j][k][l] = W[k][32j + l]: the first panel row is
// W[0][0..31] = 0..31, then W[1][0..31] = 64..95: 31.0 is followed by
// 64.0 in the hex dump); the forall runs over
// (panels, row blocks), panels outermost, each iteration on one contiguous
// K x 32 panel; the accumulator tile is a vector iter_arg of the K loop
// (registers, not a load/store per K step).
// CHECK-LABEL: func.func @mm_const
// CHECK: arith.constant dense<"0x000000000000803F{{[0-9A-F]*}}0000F84100008042{{[0-9A-F]*}}"> : tensor<2x8x32xf32>
// CHECK: scf.forall (%[[J:.*]], %[[I:.*]]) in (2, 2)
// CHECK: tensor.extract_slice %{{.*}}[%[[J]], 0, 0] [1, 8, 32] [1, 1, 1] : tensor<2x8x32xf32> to tensor<8x32xf32>
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x32xf32>)
// CHECK: vector.contract
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.matmul
func.func @mm_const(%a: tensor<16x8xf32>) -> tensor<16x64xf32> {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0], [64.0, 65.0, 66.0, 67.0, 68.0, 69.0, 70.0, 71.0, 72.0, 73.0, 74.0, 75.0, 76.0, 77.0, 78.0, 79.0, 80.0, 81.0, 82.0, 83.0, 84.0, 85.0, 86.0, 87.0, 88.0, 89.0, 90.0, 91.0, 92.0, 93.0, 94.0, 95.0, 96.0, 97.0, 98.0, 99.0, 100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0, 120.0, 121.0, 122.0, 123.0, 124.0, 125.0, 126.0, 127.0], [128.0, 129.0, 130.0, 131.0, 132.0, 133.0, 134.0, 135.0, 136.0, 137.0, 138.0, 139.0, 140.0, 141.0, 142.0, 143.0, 144.0, 145.0, 146.0, 147.0, 148.0, 149.0, 150.0, 151.0, 152.0, 153.0, 154.0, 155.0, 156.0, 157.0, 158.0, 159.0, 160.0, 161.0, 162.0, 163.0, 164.0, 165.0, 166.0, 167.0, 168.0, 169.0, 170.0, 171.0, 172.0, 173.0, 174.0, 175.0, 176.0, 177.0, 178.0, 179.0, 180.0, 181.0, 182.0, 183.0, 184.0, 185.0, 186.0, 187.0, 188.0, 189.0, 190.0, 191.0], [192.0, 193.0, 194.0, 195.0, 196.0, 197.0, 198.0, 199.0, 200.0, 201.0, 202.0, 203.0, 204.0, 205.0, 206.0, 207.0, 208.0, 209.0, 210.0, 211.0, 212.0, 213.0, 214.0, 215.0, 216.0, 217.0, 218.0, 219.0, 220.0, 221.0, 222.0, 223.0, 224.0, 225.0, 226.0, 227.0, 228.0, 229.0, 230.0, 231.0, 232.0, 233.0, 234.0, 235.0, 236.0, 237.0, 238.0, 239.0, 240.0, 241.0, 242.0, 243.0, 244.0, 245.0, 246.0, 247.0, 248.0, 249.0, 250.0, 251.0, 252.0, 253.0, 254.0, 255.0], [256.0, 257.0, 258.0, 259.0, 260.0, 261.0, 262.0, 263.0, 264.0, 265.0, 266.0, 267.0, 268.0, 269.0, 270.0, 271.0, 272.0, 273.0, 274.0, 275.0, 276.0, 277.0, 278.0, 279.0, 280.0, 281.0, 282.0, 283.0, 284.0, 285.0, 286.0, 287.0, 288.0, 289.0, 290.0, 291.0, 292.0, 293.0, 294.0, 295.0, 296.0, 297.0, 298.0, 299.0, 300.0, 301.0, 302.0, 303.0, 304.0, 305.0, 306.0, 307.0, 308.0, 309.0, 310.0, 311.0, 312.0, 313.0, 314.0, 315.0, 316.0, 317.0, 318.0, 319.0], [320.0, 321.0, 322.0, 323.0, 324.0, 325.0, 326.0, 327.0, 328.0, 329.0, 330.0, 331.0, 332.0, 333.0, 334.0, 335.0, 336.0, 337.0, 338.0, 339.0, 340.0, 341.0, 342.0, 343.0, 344.0, 345.0, 346.0, 347.0, 348.0, 349.0, 350.0, 351.0, 352.0, 353.0, 354.0, 355.0, 356.0, 357.0, 358.0, 359.0, 360.0, 361.0, 362.0, 363.0, 364.0, 365.0, 366.0, 367.0, 368.0, 369.0, 370.0, 371.0, 372.0, 373.0, 374.0, 375.0, 376.0, 377.0, 378.0, 379.0, 380.0, 381.0, 382.0, 383.0], [384.0, 385.0, 386.0, 387.0, 388.0, 389.0, 390.0, 391.0, 392.0, 393.0, 394.0, 395.0, 396.0, 397.0, 398.0, 399.0, 400.0, 401.0, 402.0, 403.0, 404.0, 405.0, 406.0, 407.0, 408.0, 409.0, 410.0, 411.0, 412.0, 413.0, 414.0, 415.0, 416.0, 417.0, 418.0, 419.0, 420.0, 421.0, 422.0, 423.0, 424.0, 425.0, 426.0, 427.0, 428.0, 429.0, 430.0, 431.0, 432.0, 433.0, 434.0, 435.0, 436.0, 437.0, 438.0, 439.0, 440.0, 441.0, 442.0, 443.0, 444.0, 445.0, 446.0, 447.0], [448.0, 449.0, 450.0, 451.0, 452.0, 453.0, 454.0, 455.0, 456.0, 457.0, 458.0, 459.0, 460.0, 461.0, 462.0, 463.0, 464.0, 465.0, 466.0, 467.0, 468.0, 469.0, 470.0, 471.0, 472.0, 473.0, 474.0, 475.0, 476.0, 477.0, 478.0, 479.0, 480.0, 481.0, 482.0, 483.0, 484.0, 485.0, 486.0, 487.0, 488.0, 489.0, 490.0, 491.0, 492.0, 493.0, 494.0, 495.0, 496.0, 497.0, 498.0, 499.0, 500.0, 501.0, 502.0, 503.0, 504.0, 505.0, 506.0, 507.0, 508.0, 509.0, 510.0, 511.0]]> : tensor<8x64xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %r = linalg.matmul ins(%a, %w : tensor<16x8xf32>, tensor<8x64xf32>) outs(%f : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

// Weights computed by an elementwise generic used only by the matmul (the
// weight-only dequantization, here with a group scale per 4 rows of K):
// the generic writes the [N/32, K, 32] panels itself (n = 32j + l, the
// quantized weights viewed as [K, N/32, 32]); the [K, N] dequantized
// tensor is gone. The group scale's `k floordiv 4` is split off: loops
// (j, kg, kr, l) with k = 4kg + kr, the scale indexed by kg, so all maps
// are projected permutations and the generic is vectorized along l (16
// lanes: the same extsi/sitofp/mulf per element), written as
// [N/32, K/4, 4, 32] and collapsed to the panels.
// CHECK-LABEL: func.func @mm_dequant
// CHECK: %[[QE:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2, 3]] output_shape [2, 4, 2, 32] : tensor<8x64xi8> into tensor<2x4x2x32xi8>
// CHECK: %[[SE:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [2, 2, 32] : tensor<2x64xf32> into tensor<2x2x32xf32>
// CHECK: %[[G:.*]] = scf.forall (%[[PJ:.*]], %[[KG:.*]], %[[KR:.*]]) in (2, 2, 4)
// CHECK: tensor.extract_slice %[[QE]][%[[KG]], %[[KR]], %[[PJ]], 0] [1, 1, 1, 32]
// CHECK: tensor.extract_slice %[[SE]][%[[KG]], %[[PJ]], 0] [1, 1, 32]
// CHECK: arith.extsi %{{.*}} : vector<1x1x1x16xi8> to vector<1x1x1x16xi32>
// CHECK: arith.sitofp %{{.*}} : vector<1x1x1x16xi32> to vector<1x1x1x16xf32>
// CHECK: arith.mulf %{{.*}} : vector<1x1x1x16xf32>
// CHECK: %[[P:.*]] = tensor.collapse_shape %[[G]] {{\[}}[0], [1, 2], [3]] : tensor<2x2x4x32xf32> into tensor<2x8x32xf32>
// CHECK: scf.forall (%[[J:.*]], %{{.*}}) in (2, 2)
// CHECK: tensor.extract_slice %[[P]][%[[J]], 0, 0] [1, 8, 32] [1, 1, 1] : tensor<2x8x32xf32> to tensor<8x32xf32>
// CHECK: vector.contract
// CHECK-NOT: tensor<8x64xf32>
// CHECK-NOT: linalg.generic
#q = affine_map<(d0, d1) -> (d0, d1)>
#s = affine_map<(d0, d1) -> (d0 floordiv 4, d1)>
func.func @mm_dequant(%a: tensor<16x8xf32>, %q: tensor<8x64xi8>, %sc: tensor<2x64xf32>) -> tensor<16x64xf32> {
  %e0 = tensor.empty() : tensor<8x64xf32>
  %w = linalg.generic {indexing_maps = [#q, #s, #q], iterator_types = ["parallel", "parallel"]} ins(%q, %sc : tensor<8x64xi8>, tensor<2x64xf32>) outs(%e0 : tensor<8x64xf32>) {
  ^bb0(%x: i8, %y: f32, %o: f32):
    %i = arith.extsi %x : i8 to i32
    %f = arith.sitofp %i : i32 to f32
    %m = arith.mulf %f, %y : f32
    linalg.yield %m : f32
  } -> tensor<8x64xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %r = linalg.matmul ins(%a, %w : tensor<16x8xf32>, tensor<8x64xf32>) outs(%f : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

// Panels reused by enough row blocks: the K loop prefetches the next panel
// block. Default 64-column panels and 4x64 tiles (16 zmm accumulators, 4
// panel loads and 4 broadcasts per K step). Work items (panel j, group of
// 8 row blocks; at least 8 items), each an scf.for over K blocks (here
// one: the 64 x 64 panel is 16 KiB, within the 32 KiB L1 budget) and one
// over its 8 row blocks. The group's 8 x 16 K iterations share the next
// block's 256 lines: two prefetches per iteration, at flat offset
// (64 j + kb + 64) * 64 + 16 * line, clamped to the last line (8176).
// PF-LABEL: func.func @mm_prefetch
// PF: %[[BUF:.*]] = bufferization.to_buffer %{{.*}} read_only : tensor<2x64x64xf32> to memref<2x64x64xf32>
// PF: scf.forall (%[[J:.*]], %[[G:.*]]) in (2, 4)
// PF: tensor.extract_slice %{{.*}} [32, 64] [1, 1] : tensor<128x128xf32> to tensor<32x64xf32>
// PF: scf.for %[[II:.*]] = %c0 to %c8 step %c1 iter_args(%{{.*}}) -> (tensor<32x64xf32>)
// PF: %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<4x64xf32>, vector<4x64xf32>
// PF: scf.for %[[K:.*]] = {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<4x64xf32>)
// PF: arith.minui %{{.*}}, %c8176
// PF: memref.prefetch %[[BUF]][%{{.*}}, %{{.*}}, %{{.*}}], read, locality<3>, data : memref<2x64x64xf32>
// PF: memref.prefetch %[[BUF]]
// PF: vector.contract {{.*}} : vector<4x4xf32>, vector<4x64xf32> into vector<4x64xf32>
// PF: tensor.insert_slice {{.*}} : tensor<4x64xf32> into tensor<32x64xf32>
// With 32-column panels (first run): 8x32 tiles, 16 row blocks in groups
// of 8.
// CHECK-LABEL: func.func @mm_prefetch
// CHECK: bufferization.to_buffer %{{.*}} read_only : tensor<4x64x32xf32> to memref<4x64x32xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (4, 2)
// CHECK: memref.prefetch
// CHECK: vector.contract {{.*}} : vector<8x4xf32>, vector<4x32xf32> into vector<8x32xf32>
#qp = affine_map<(d0, d1) -> (d0, d1)>
#sp = affine_map<(d0, d1) -> (d1)>
func.func @mm_prefetch(%a: tensor<128x64xf32>, %q: tensor<64x128xi8>, %sc: tensor<128xf32>) -> tensor<128x128xf32> {
  %e0 = tensor.empty() : tensor<64x128xf32>
  %w = linalg.generic {indexing_maps = [#qp, #sp, #qp], iterator_types = ["parallel", "parallel"]} ins(%q, %sc : tensor<64x128xi8>, tensor<128xf32>) outs(%e0 : tensor<64x128xf32>) {
  ^bb0(%x: i8, %y: f32, %o: f32):
    %i = arith.extsi %x : i8 to i32
    %f = arith.sitofp %i : i32 to f32
    %m = arith.mulf %f, %y : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x128xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<128x128xf32>) -> tensor<128x128xf32>
  %r = linalg.matmul ins(%a, %w : tensor<128x64xf32>, tensor<64x128xf32>) outs(%f : tensor<128x128xf32>) -> tensor<128x128xf32>
  return %r : tensor<128x128xf32>
}

// -----

// An elementwise generic whose only use is the init of an int8 dot (the
// zero-point compensation) is left as is: qopt-lower-ukernels evaluates it
// in the microkernel's registers. The same generic feeding anything else
// is vectorized.
// CHECK-LABEL: func.func @dot_init
// CHECK-NOT: scf.forall
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK: linalg.generic
// CHECK-SAME: qopt.ukernel = "int8_dot"
// CHECK-LABEL: func.func @not_dot_init
// CHECK: scf.forall
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
#c = affine_map<(d0, d1) -> (d1)>
#i = affine_map<(d0, d1) -> (d0, d1)>
func.func @dot_init(%x: tensor<6x8xi8>, %w: tensor<4x2x16x4xi8>, %cs: tensor<64xi32>) -> tensor<6x64xi32> {
  %e = tensor.empty() : tensor<6x64xi32>
  %init = linalg.generic {indexing_maps = [#c, #i], iterator_types = ["parallel", "parallel"]}
      ins(%cs : tensor<64xi32>) outs(%e : tensor<6x64xi32>) {
  ^bb0(%ci: i32, %o: i32):
    %n = arith.subi %o, %ci : i32
    linalg.yield %n : i32
  } -> tensor<6x64xi32>
  %y = linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<6x8xi8>, tensor<4x2x16x4xi8>) outs(%init : tensor<6x64xi32>) attrs = {qopt.ukernel = "int8_dot"} {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  } -> tensor<6x64xi32>
  return %y : tensor<6x64xi32>
}
func.func @not_dot_init(%cs: tensor<64xi32>) -> tensor<6x64xi32> {
  %e = tensor.empty() : tensor<6x64xi32>
  %init = linalg.generic {indexing_maps = [#c, #i], iterator_types = ["parallel", "parallel"]}
      ins(%cs : tensor<64xi32>) outs(%e : tensor<6x64xi32>) {
  ^bb0(%ci: i32, %o: i32):
    %n = arith.subi %o, %ci : i32
    linalg.yield %n : i32
  } -> tensor<6x64xi32>
  return %init : tensor<6x64xi32>
}

// -----

// The int4 unpack generic of qopt-convert-qopt-to-linalg (marked
// qopt.unpack_int4): out[e] = nibble e % 2 of in[e / 2]. Its linalg.index
// keeps the generic vectorizer away; it becomes vector code, per 32 bytes
// one load, lo = (b << 4) >> 4 and hi = b >> 4 (the scalar body's i8
// operations), interleaved lo[0], hi[0], lo[1], ... by one vector.shuffle (which
// canonicalizes to vector.interleave).
// CHECK-LABEL: func.func @unpack_int4
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: %[[B:.*]] = vector.transfer_read %{{.*}} : tensor<128xi8>, vector<32xi8>
// CHECK: %[[L:.*]] = arith.shli %[[B]], %[[FOUR:.*]] : vector<32xi8>
// CHECK: %[[LO:.*]] = arith.shrsi %[[L]], %[[FOUR]] : vector<32xi8>
// CHECK: %[[HI:.*]] = arith.shrsi %[[B]], %[[FOUR]] : vector<32xi8>
// CHECK: vector.interleave %[[LO]], %[[HI]] : vector<32xi8> -> vector<64xi8>
// CHECK: vector.transfer_write %{{.*}} : vector<64xi8>, tensor<64xi8>
// CHECK-NOT: linalg.index
// CHECK-NOT: linalg.generic
#half = affine_map<(d0) -> (d0 floordiv 2)>
#id = affine_map<(d0) -> (d0)>
func.func @unpack_int4(%p: tensor<128xi8>) -> tensor<256xi8> {
  %c1 = arith.constant 1 : index
  %c1_i8 = arith.constant 1 : i8
  %c4_i8 = arith.constant 4 : i8
  %e = tensor.empty() : tensor<256xi8>
  %u = linalg.generic {indexing_maps = [#half, #id], iterator_types = ["parallel"]} ins(%p : tensor<128xi8>) outs(%e : tensor<256xi8>) attrs = {qopt.unpack_int4} {
  ^bb0(%in: i8, %out: i8):
    %i = linalg.index 0 : index
    %odd = arith.andi %i, %c1 : index
    %o8 = arith.index_cast %odd : index to i8
    %d = arith.subi %c1_i8, %o8 : i8
    %sh = arith.muli %d, %c4_i8 : i8
    %v = arith.shli %in, %sh : i8
    %r = arith.shrsi %v, %c4_i8 : i8
    linalg.yield %r : i8
  } -> tensor<256xi8>
  return %u : tensor<256xi8>
}

// -----

// An elementwise op on scores whose last dim is the run-time context: rows
// in 16-wide vector steps (a broadcast mask operand too), and the partial
// last step peeled off as a scalar loop.
// CHECK-LABEL: func.func @dyn_rows
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} : tensor<1x1x1x16xf32>, vector<1x1x1x16xf32>
// CHECK: arith.addf {{.*}} : vector<1x1x1x16xf32>
// CHECK: scf.for
// CHECK: linalg.generic
func.func @dyn_rows(%a: tensor<?x8x?x?xf32>, %mask: tensor<?x?x?xf32>, %o: tensor<?x8x?x?xf32>) -> tensor<?x8x?x?xf32> {
  %cst = arith.constant 0.17 : f32
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%a, %mask : tensor<?x8x?x?xf32>, tensor<?x?x?xf32>) outs(%o : tensor<?x8x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %cst : f32
    %s = arith.addf %m, %y : f32
    linalg.yield %s : f32
  } -> tensor<?x8x?x?xf32>
  return %r : tensor<?x8x?x?xf32>
}
