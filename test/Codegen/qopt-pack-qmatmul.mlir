// RUN: qopt-opt %s --qopt-pack-qmatmul=target=avx512 --split-input-file --mlir-print-elementsattrs-with-hex-if-larger=-1 | FileCheck %s
// RUN: qopt-opt %s --qopt-pack-qmatmul=target=x86-64 --split-input-file | FileCheck %s --check-prefix=GENERIC
// RUN: qopt-opt %s --qopt-pack-qmatmul=target=neon --split-input-file --mlir-print-elementsattrs-with-hex-if-larger=-1 | FileCheck %s --check-prefix=NEON

// A constant s8 weight [K=4, N=16] is packed to [N/16, K/4, 16, 4]: lane l
// of a zmm holds W[0..3][l] (the VNNI 4-byte K interleave). The accumulators
// start at -za[m] * colsum[n] (colsum = 4n + 96, a constant), then the dot
// generic adds u8(a) * s8(w).
// CHECK-LABEL: func.func @pack
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}0, 16, 32, 48], [1, 17, 33, 49], [2, 18, 34, 50]{{.*}}> : tensor<1x1x16x4xi8>
// CHECK-DAG: %[[CS:.*]] = arith.constant dense<[96, 100, 104, 108, {{.*}}, 156]> : tensor<16xi32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%arg1, %[[CS]] : tensor<3xi8>, tensor<16xi32>)
// CHECK:   arith.extui
// CHECK:   arith.muli
// CHECK:   arith.subi
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK-SAME: ins(%arg0, %[[W]] : tensor<3x4xi8>, tensor<1x1x16x4xi8>) outs(%[[INIT]] : tensor<3x16xi32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.extui
// CHECK-NEXT: arith.extsi
// CHECK-NEXT: arith.muli
// CHECK-NEXT: arith.addi
// CHECK-NOT: qopt.qmatmul
// GENERIC-LABEL: func.func @pack
// GENERIC: qopt.qmatmul
// NEON (sdot: s8 x s8, 4 i32 lanes, 2 vectors per tile row): panels of
// the tile's 8 columns, [N/8, K/4, 8, 4]; u8 activations are flipped to s8
// (a - 128), so the init is -(za - 128) * colsum.
// NEON-LABEL: func.func @pack
// NEON-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}0, 16, 32, 48], [1, 17, 33, 49], [2, 18, 34, 50], [3, 19, 35, 51], [4, 20, 36, 52]{{.*}}[7, 23, 39, 55]]], {{\[\[\[}}8, 24, 40, 56]{{.*}}> : tensor<2x1x8x4xi8>
// NEON: linalg.generic
// NEON:   arith.extui
// NEON:   arith.constant -128 : i32
// NEON:   arith.addi
// NEON:   arith.muli
// NEON:   arith.subi
// NEON: linalg.generic
// NEON-SAME: ins(%arg0, %[[W]] : tensor<3x4xi8>, tensor<2x1x8x4xi8>)
// NEON-NEXT: ^bb0
// NEON-NEXT: arith.constant -128 : i8
// NEON-NEXT: arith.xori
// NEON-NEXT: arith.extsi
// NEON-NEXT: arith.extsi
// NEON-NEXT: arith.muli
func.func @pack(%x: tensor<3x4xi8>, %zx: tensor<3xi8>) -> tensor<3x16xi32> {
  %w = arith.constant dense<[[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],[16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31],[32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47],[48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63]]> : tensor<4x16xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 {lhs_unsigned} : (tensor<3x4xi8>, tensor<4x16xi8>, tensor<3xi8>, tensor<i8>) -> tensor<3x16xi32>
  return %y : tensor<3x16xi32>
}

// -----

// s8 activations: flipped to u8 (xor 0x80) in the dot, +128 in the
// compensation.
// CHECK-LABEL: func.func @signed
// CHECK: linalg.generic
// CHECK: arith.extsi
// CHECK: arith.addi {{.*}}, %c128_i32
// CHECK: linalg.generic
// CHECK: arith.xori %{{.*}}, %c-128_i8 : i8
// CHECK-NEXT: arith.extui
func.func @signed(%x: tensor<2x3x4xi8>, %zx: tensor<i8>) -> tensor<2x3x16xi32> {
  %w = arith.constant dense<3> : tensor<4x16xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 : (tensor<2x3x4xi8>, tensor<4x16xi8>, tensor<i8>, tensor<i8>) -> tensor<2x3x16xi32>
  return %y : tensor<2x3x16xi32>
}

// -----

// Batched (the grouped int4 path: one weight matrix per group): packed per
// batch, per-batch column sums, a sixth (batch) loop.
// CHECK-LABEL: func.func @batched
// CHECK-DAG: arith.constant dense<{{.*}}> : tensor<2x1x1x16x4xi8>
// CHECK-DAG: arith.constant dense<{{\[\[}}4, {{.*}}], [8, {{.*}}]]> : tensor<2x16xi32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK-SAME: tensor<2x3x4xi8>, tensor<2x1x1x16x4xi8>) outs({{.*}} : tensor<2x3x16xi32>)
func.func @batched(%x: tensor<2x3x4xi8>, %zx: tensor<3xi8>) -> tensor<2x3x16xi32> {
  %w = arith.constant dense<[[[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]], [[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]]]> : tensor<2x4x16xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 {lhs_unsigned} : (tensor<2x3x4xi8>, tensor<2x4x16xi8>, tensor<3xi8>, tensor<i8>) -> tensor<2x3x16xi32>
  return %y : tensor<2x3x16xi32>
}

// -----

// Left to the portable path: a non-zero weight zero point, N not a multiple
// of the 16 lanes, a non-constant weight.
// CHECK-LABEL: func.func @unpacked
// CHECK-COUNT-3: qopt.qmatmul
func.func @unpacked(%x: tensor<3x4xi8>, %zx: tensor<i8>, %v: tensor<4x16xi8>) -> (tensor<3x16xi32>, tensor<3x8xi32>, tensor<3x16xi32>) {
  %w = arith.constant dense<1> : tensor<4x16xi8>
  %w8 = arith.constant dense<1> : tensor<4x8xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %z1 = arith.constant dense<1> : tensor<i8>
  %a = qopt.qmatmul %x, %w, %zx, %z1 : (tensor<3x4xi8>, tensor<4x16xi8>, tensor<i8>, tensor<i8>) -> tensor<3x16xi32>
  %b = qopt.qmatmul %x, %w8, %zx, %z0 : (tensor<3x4xi8>, tensor<4x8xi8>, tensor<i8>, tensor<i8>) -> tensor<3x8xi32>
  %c = qopt.qmatmul %x, %v, %zx, %z0 : (tensor<3x4xi8>, tensor<4x16xi8>, tensor<i8>, tensor<i8>) -> tensor<3x16xi32>
  return %a, %b, %c : tensor<3x16xi32>, tensor<3x8xi32>, tensor<3x16xi32>
}

// -----

// The grouped w4a8 matmul (qopt-quantize-dynamic: per group an i32 qmatmul
// of the activations' K slice, then y = sum_g (f32(acc) * sx) * sw[g]) with
// int4-range weights on AVX-512: the weights go two nibbles per byte (+8
// bias: 1 -> 0x99 = -103) into [N/16, G, gs/8, 16, 4], the per-group column
// sums (8) into the epilogue's compensation, they and the group scales as
// column panels [N/16, G, 16]; an int4 dot generic over the
// [M, K] activations (no transpose) and the epilogue generic replace the
// qmatmul and its epilogue. On NEON (sdot, s8 x s8) the panels are 4
// columns wide, the dot flips the u8 activations to s8 (xori, extsi) and
// the compensation takes the -128 back out. Targets without an int4 dot
// keep the qmatmul.
// CHECK-LABEL: func.func @grouped
// CHECK-DAG: %[[W:.*]] = arith.constant dense<-103> : tensor<1x2x1x16x4xi8>
// CHECK-DAG: %[[CS:.*]] = arith.constant dense<8> : tensor<1x2x16xi32>
// CHECK-DAG: %[[SW:.*]] = arith.constant dense<5.000000e-01> : tensor<1x2x16xf32>
// CHECK: %[[X:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1, 2, 3, 4]] output_shape [2, 2, 1, 2, 4]
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<2x2x1x2x4xi8>, tensor<1x2x1x16x4xi8>)
// CHECK-SAME: qopt.ukernel = "int4_grouped_dot"
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[ACC]], %arg1, %[[CS]], %arg2, %[[SW]] : tensor<2x2x16xi32>, tensor<2xi8>, tensor<1x2x16xi32>, tensor<2xf32>, tensor<1x2x16xf32>)
// CHECK-SAME: qopt.ukernel = "int4_grouped_epilogue"
// CHECK-NOT: qopt.qmatmul
// GENERIC-LABEL: func.func @grouped
// GENERIC: qopt.qmatmul
// NEON-LABEL: func.func @grouped
// NEON-DAG: %[[W:.*]] = arith.constant dense<-103> : tensor<4x2x1x4x4xi8>
// NEON-DAG: %[[CS:.*]] = arith.constant dense<8> : tensor<4x2x4xi32>
// NEON: linalg.generic
// NEON-SAME: ins(%{{.*}}, %[[W]] : tensor<2x2x1x2x4xi8>, tensor<4x2x1x4x4xi8>)
// NEON-SAME: qopt.ukernel = "int4_grouped_dot"
// NEON: arith.xori %{{.*}}, %c-128_i8
// NEON-NEXT: arith.extsi
// NEON: linalg.generic
// NEON-SAME: ins(%{{.*}}, %arg1, %[[CS]], %arg2, %{{.*}} : tensor<2x2x16xi32>, tensor<2xi8>, tensor<4x2x4xi32>, tensor<2xf32>, tensor<4x2x4xf32>)
// NEON-SAME: qopt.ukernel = "int4_grouped_epilogue"
// NEON: arith.extui
// NEON-NEXT: arith.constant -128 : i32
// NEON-NEXT: arith.addi
// NEON-NOT: qopt.qmatmul
func.func @grouped(%x: tensor<2x16xi8>, %zx: tensor<2xi8>, %sx: tensor<2xf32>) -> tensor<2x16xf32> {
  %w = arith.constant dense<1> : tensor<2x8x16xi8>
  %sw = arith.constant dense<0.5> : tensor<2x16xf32>
  %z0 = arith.constant dense<0> : tensor<i8>
  %f0 = arith.constant 0.0 : f32
  %e = tensor.expand_shape %x [[0], [1, 2]] output_shape [2, 2, 8] : tensor<2x16xi8> into tensor<2x2x8xi8>
  %t0 = tensor.empty() : tensor<2x2x8xi8>
  %t = linalg.transpose ins(%e : tensor<2x2x8xi8>) outs(%t0 : tensor<2x2x8xi8>) permutation = [1, 0, 2]
  %acc = qopt.qmatmul %t, %w, %zx, %z0 {lhs_unsigned} : (tensor<2x2x8xi8>, tensor<2x8x16xi8>, tensor<2xi8>, tensor<i8>) -> tensor<2x2x16xi32>
  %y0 = tensor.empty() : tensor<2x16xf32>
  %y1 = linalg.fill ins(%f0 : f32) outs(%y0 : tensor<2x16xf32>) -> tensor<2x16xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0, d1)>, affine_map<(d0, d1, d2) -> (d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%acc, %sx, %sw : tensor<2x2x16xi32>, tensor<2xf32>, tensor<2x16xf32>) outs(%y1 : tensor<2x16xf32>) {
  ^bb0(%i: i32, %a1: f32, %a2: f32, %o: f32):
    %c = arith.sitofp %i : i32 to f32
    %p = arith.mulf %c, %a1 : f32
    %q = arith.mulf %p, %a2 : f32
    %r = arith.addf %o, %q : f32
    linalg.yield %r : f32
  } -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// int4 weights stored two per byte (qopt.unpack_int4 of a constant, as the
// w4a8 quantizer without groups emits them; 0x11: every value 1) are packed
// the same way.
// CHECK-LABEL: func.func @int4_storage
// CHECK-DAG: arith.constant dense<1> : tensor<1x1x16x4xi8>
// CHECK-DAG: arith.constant dense<4> : tensor<16xi32>
// CHECK-NOT: qopt.qmatmul
// GENERIC-LABEL: func.func @int4_storage
// GENERIC: qopt.qmatmul
func.func @int4_storage(%x: tensor<3x4xi8>, %zx: tensor<3xi8>) -> tensor<3x16xi32> {
  %p = arith.constant dense<17> : tensor<32xi8>
  %w = qopt.unpack_int4 %p : tensor<32xi8> -> tensor<4x16xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 {lhs_unsigned} : (tensor<3x4xi8>, tensor<4x16xi8>, tensor<3xi8>, tensor<i8>) -> tensor<3x16xi32>
  return %y : tensor<3x16xi32>
}

// -----

// N a multiple of the AVX-512 register tile's 64 columns: one panel holds
// all 4 vectors of a K step contiguously, [N/64, K/4, 64, 4] (lane l of
// the panel: W[4k1 .. 4k1+3][64 n1 + l]); the dot indexes n1 * 64 + l.
// W[k][n] = i8(128k + n). (The maps print above the function.)
// CHECK: #[[O:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 64 + d2)>
// CHECK-LABEL: func.func @panel64
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}0, -128, 0, -128], [1, -127, 1, -127]{{.*}}[63, -65, 63, -65]]], {{\[\[\[}}64, -64, 64, -64]{{.*}}> : tensor<2x1x64x4xi8>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[O]]],
// CHECK-SAME: ins(%arg0, %[[W]] : tensor<3x4xi8>, tensor<2x1x64x4xi8>) outs(%{{.*}} : tensor<3x128xi32>)
// NEON-LABEL: func.func @panel64
// NEON: tensor<16x1x8x4xi8>
func.func @panel64(%x: tensor<3x4xi8>, %zx: tensor<3xi8>) -> tensor<3x128xi32> {
  %w = arith.constant dense<[[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127],[-128,-127,-126,-125,-124,-123,-122,-121,-120,-119,-118,-117,-116,-115,-114,-113,-112,-111,-110,-109,-108,-107,-106,-105,-104,-103,-102,-101,-100,-99,-98,-97,-96,-95,-94,-93,-92,-91,-90,-89,-88,-87,-86,-85,-84,-83,-82,-81,-80,-79,-78,-77,-76,-75,-74,-73,-72,-71,-70,-69,-68,-67,-66,-65,-64,-63,-62,-61,-60,-59,-58,-57,-56,-55,-54,-53,-52,-51,-50,-49,-48,-47,-46,-45,-44,-43,-42,-41,-40,-39,-38,-37,-36,-35,-34,-33,-32,-31,-30,-29,-28,-27,-26,-25,-24,-23,-22,-21,-20,-19,-18,-17,-16,-15,-14,-13,-12,-11,-10,-9,-8,-7,-6,-5,-4,-3,-2,-1],[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127],[-128,-127,-126,-125,-124,-123,-122,-121,-120,-119,-118,-117,-116,-115,-114,-113,-112,-111,-110,-109,-108,-107,-106,-105,-104,-103,-102,-101,-100,-99,-98,-97,-96,-95,-94,-93,-92,-91,-90,-89,-88,-87,-86,-85,-84,-83,-82,-81,-80,-79,-78,-77,-76,-75,-74,-73,-72,-71,-70,-69,-68,-67,-66,-65,-64,-63,-62,-61,-60,-59,-58,-57,-56,-55,-54,-53,-52,-51,-50,-49,-48,-47,-46,-45,-44,-43,-42,-41,-40,-39,-38,-37,-36,-35,-34,-33,-32,-31,-30,-29,-28,-27,-26,-25,-24,-23,-22,-21,-20,-19,-18,-17,-16,-15,-14,-13,-12,-11,-10,-9,-8,-7,-6,-5,-4,-3,-2,-1]]> : tensor<4x128xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 {lhs_unsigned} : (tensor<3x4xi8>, tensor<4x128xi8>, tensor<3xi8>, tensor<i8>) -> tensor<3x128xi32>
  return %y : tensor<3x128xi32>
}
