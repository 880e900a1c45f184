// RUN: qopt-opt %s --qopt-lower-ukernels=target=avx512 --split-input-file | FileCheck %s
// RUN: qopt-opt %s --qopt-lower-ukernels=target=x86-64 --split-input-file | FileCheck %s --check-prefix=GENERIC
// RUN: qopt-opt %s --qopt-lower-ukernels=target=avx512 --split-input-file | qopt-opt --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=BLOCK
// RUN: qopt-opt %s --qopt-lower-ukernels=target=avx2 --split-input-file | FileCheck %s --check-prefix=AVX2
// RUN: qopt-opt %s --qopt-lower-ukernels=target=avx512-amx --split-input-file | qopt-opt --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=AMX

// M=7, N=80, K=8 on AVX-512 (6 x 4 zmm tiles): an scf.parallel over the
// 64-column weight panels and M blocks, in it the loop over K blocks (one
// here) and in that the loop over the 6-row tiles, then the 1-row
// remainder tile of the last M block (same panel, while it is in cache);
// a second scf.parallel for the 16-column N remainder. Each tile loads its
// accumulators from the output, the K loop carries them and issues
// vpdpbusd, the epilogue stores them.
// CHECK-LABEL: func.func @k
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : memref<5x2x16x4xi8> into memref<5x2x64xi8>
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.load %arg2{{.*}} : memref<7x80xi32>, vector<16xi32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>
// CHECK: vector.load {{.*}} : memref<5x2x64xi8>, vector<64xi8>
// CHECK: vector.load {{.*}} : memref<7x8xi8>, vector<4xi8>
// CHECK: vector.bitcast {{.*}} : vector<4xi8> to vector<1xi32>
// CHECK: vector.broadcast {{.*}} : i32 to vector<16xi32>
// CHECK-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"({{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK: vector.store {{.*}}, %arg2{{.*}} : memref<7x80xi32>, vector<16xi32>
// CHECK: scf.if
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: scf.parallel
// CHECK-NOT: scf.parallel
// CHECK-NOT: linalg.generic
// GENERIC-LABEL: func.func @k
// GENERIC: linalg.generic
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
func.func @k(%x: memref<7x8xi8>, %w: memref<5x2x16x4xi8>, %y: memref<7x80xi32>) {
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<7x8xi8>, memref<5x2x16x4xi8>) outs(%y : memref<7x80xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A zero fill right before: the accumulators start at zero, the fill goes.
// s8 activations (xor 0x80 in the body): the broadcast i32 is flipped.
// CHECK-LABEL: func.func @zero_signed
// CHECK-NOT: linalg.fill
// CHECK: scf.for
// CHECK: arith.xori %{{.*}}, %c-2139062144_i32 : i32
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// GENERIC-LABEL: func.func @zero_signed
// GENERIC: linalg.fill
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
func.func @zero_signed(%x: memref<6x4xi8>, %w: memref<4x1x16x4xi8>, %y: memref<6x64xi32>) {
  %c0 = arith.constant 0 : i32
  %f = arith.constant -128 : i8
  linalg.fill ins(%c0 : i32) outs(%y : memref<6x64xi32>)
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<6x4xi8>, memref<4x1x16x4xi8>) outs(%y : memref<6x64xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %u = arith.xori %in, %f : i8
    %0 = arith.extui %u : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// Batched: the batch is the outermost parallel dim; each tile works on
// rank-reduced subviews of its batch.
// CHECK-LABEL: func.func @batched
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0], [1], [2], [3, 4]] : memref<2x1x1x16x4xi8> into memref<2x1x1x64xi8>
// CHECK: scf.parallel (%[[B:.*]], %{{.*}}, %{{.*}}) =
// CHECK: memref.subview %arg0[%[[B]], 0, 0] [1, 3, 4] [1, 1, 1] : memref<2x3x4xi8> to memref<3x4xi8, strided<[4, 1], offset: ?>>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// GENERIC-LABEL: func.func @batched
// GENERIC: linalg.generic
#a3 = affine_map<(b, d0, d1, d2, d3, d4) -> (b, d0, d3 * 4 + d4)>
#w3 = affine_map<(b, d0, d1, d2, d3, d4) -> (b, d1, d3, d2, d4)>
#o3 = affine_map<(b, d0, d1, d2, d3, d4) -> (b, d0, d1 * 16 + d2)>
func.func @batched(%x: memref<2x3x4xi8>, %w: memref<2x1x1x16x4xi8>, %y: memref<2x3x16xi32>) {
  linalg.generic {indexing_maps = [#a3, #w3, #o3], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x3x4xi8>, memref<2x1x1x16x4xi8>) outs(%y : memref<2x3x16xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// The grouped int4 pair of qopt-pack-qmatmul (M=5, K=16 in 2 groups of 8,
// N=16) becomes one kernel writing y: per tile the f32 y and one group's
// i32 sums in registers; per group the sums start at -za[m] * cs[g], each
// packed weight vector gives two K-quads (low nibbles, high nibbles, -8),
// vpdpbusd, then y += (f32(sum) * sx[m]) * sw[g]. The [G, M, N] i32 buffer,
// its fill and dealloc go. cs and sw are column panels [N/16, G, 16]. Rows 0-3: a 4-row tile; row 4: a 1-row tile.
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: memref.alloc
// CHECK: memref.collapse_shape %arg0 {{\[\[}}0], [1, 2, 3, 4]] : memref<5x2x1x2x4xi8> into memref<5x16xi8>
// CHECK: memref.collapse_shape %arg1 {{\[\[}}0], [1, 2], [3, 4]] : memref<1x2x1x16x4xi8> into memref<1x2x64xi8>
// CHECK: scf.parallel
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.load %arg3{{.*}} : memref<1x2x16xi32>, vector<16xi32>
// CHECK: arith.muli {{.*}} : vector<16xi32>
// CHECK: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: vector.load {{.*}} : memref<1x2x64xi8>, vector<64xi8>
// CHECK: arith.andi
// CHECK: arith.shrui
// CHECK-COUNT-8: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: vector.store {{.*}}, %arg6{{.*}} : memref<5x16xf32>, vector<16xf32>
// CHECK: scf.parallel
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.dealloc
// GENERIC-LABEL: func.func @grouped
// GENERIC: linalg.generic
#a = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d0, d4, d5, d6)>
#w = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d2, d0, d4, d3, d6)>
#o = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2 * 16 + d3)>
#e0 = affine_map<(d0, d1, d2) -> (d2, d0, d1)>
#e1 = affine_map<(d0, d1, d2) -> (d0)>
#e2 = affine_map<(d0, d1, d2) -> (d1 floordiv 16, d2, d1 mod 16)>
#e3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @grouped(%x: memref<5x2x1x2x4xi8>, %w: memref<1x2x1x16x4xi8>, %zx: memref<5xi8>, %cs: memref<1x2x16xi32>,
                   %sx: memref<5xf32>, %sw: memref<1x2x16xf32>, %y: memref<5x16xf32>) {
  %c0 = arith.constant 0 : i32
  %acc = memref.alloc() : memref<2x5x16xi32>
  linalg.fill ins(%c0 : i32) outs(%acc : memref<2x5x16xi32>)
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<5x2x1x2x4xi8>, memref<1x2x1x16x4xi8>) outs(%acc : memref<2x5x16xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %h = linalg.index 5 : index
    %z = arith.constant 0 : index
    %hi = arith.cmpi ne, %h, %z : index
    %c15 = arith.constant 15 : i8
    %c4 = arith.constant 4 : i8
    %c8 = arith.constant 8 : i8
    %lo = arith.andi %wi, %c15 : i8
    %up = arith.shrui %wi, %c4 : i8
    %n = arith.select %hi, %up, %lo : i8
    %v = arith.subi %n, %c8 : i8
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %v : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#e0, #e1, #e2, #e1, #e2, #e3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%acc, %zx, %cs, %sx, %sw : memref<2x5x16xi32>, memref<5xi8>, memref<1x2x16xi32>, memref<5xf32>, memref<1x2x16xf32>) outs(%y : memref<5x16xf32>) {
  ^bb0(%i: i32, %za: i8, %c: i32, %s1: f32, %s2: f32, %o: f32):
    %0 = arith.extui %za : i8 to i32
    %1 = arith.muli %0, %c : i32
    %2 = arith.subi %i, %1 : i32
    %3 = arith.sitofp %2 : i32 to f32
    %4 = arith.mulf %3, %s1 : f32
    %5 = arith.mulf %4, %s2 : f32
    %6 = arith.addf %o, %5 : f32
    linalg.yield %6 : f32
  }
  memref.dealloc %acc : memref<2x5x16xi32>
  return
}
// -----

// Cache blocking: M=300, K=4096, N=64 on AVX-512. A K block keeps one
// tile's 6 activation rows in half of L1 (6 x 2048 bytes) and the panel's
// block in a quarter of L2: K/4 = 1024 groups in 2 blocks of 512, the outer
// scf.for. M blocks hold at most half of L2 of activation rows: 50 row
// tiles in 2 balanced parallel blocks of 25 (the second thread's share).
// The output was zero-filled: the first K block starts from zero, the
// later ones from the partial sums stored in the output (exact: i32).
// BLOCK-LABEL: func.func @blocked
// BLOCK-NOT: linalg.fill
// BLOCK-DAG: %[[C25:.*]] = arith.constant 25 : index
// BLOCK-DAG: %[[C512:.*]] = arith.constant 512 : index
// BLOCK-DAG: %[[C1024:.*]] = arith.constant 1024 : index
// BLOCK: scf.parallel (%[[MB:.*]]) = (%c0) to (%c2)
// BLOCK: %[[T0:.*]] = arith.muli %[[MB]], %[[C25]]
// BLOCK: scf.for %[[KB:.*]] = %c0 to %[[C1024]] step %[[C512]]
// BLOCK: %[[FIRST:.*]] = arith.cmpi eq, %[[KB]], %c0
// BLOCK: scf.for %{{.*}} = %[[T0]] to %{{.*}} step %c1
// BLOCK: scf.if %[[FIRST]] -> (vector<16xi32>
// BLOCK: scf.for %{{.*}} = %[[KB]] to %{{.*}} step %c1 iter_args(
// BLOCK-COUNT-24: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// BLOCK-NOT: scf.parallel
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
func.func @blocked(%x: memref<300x4096xi8>, %w: memref<4x1024x16x4xi8>, %y: memref<300x64xi32>) {
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%y : memref<300x64xi32>)
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<300x4096xi8>, memref<4x1024x16x4xi8>) outs(%y : memref<300x64xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// The zero-point compensation generic right before (out[m, n] =
// -(zx[m] + 0) * colsum[n], qopt-pack-qmatmul's init): the tiles evaluate it
// in registers (column vector loads, row broadcasts, the body on vectors)
// instead of loading an M x N pass of it from memory; the generic goes.
// CHECK-LABEL: func.func @init
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel
// CHECK: memref.load %arg3[{{.*}}] : memref<7xi8>
// CHECK: vector.broadcast {{.*}} : i8 to vector<16xi8>
// CHECK: vector.load %arg4[{{.*}}] : memref<64xi32>, vector<16xi32>
// CHECK: arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.muli {{.*}} : vector<16xi32>
// CHECK: arith.subi {{.*}} : vector<16xi32>
// CHECK: scf.for {{.*}} iter_args(
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: linalg.generic
// GENERIC-LABEL: func.func @init
// GENERIC-COUNT-2: linalg.generic
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
#r = affine_map<(d0, d1) -> (d0)>
#c = affine_map<(d0, d1) -> (d1)>
#i = affine_map<(d0, d1) -> (d0, d1)>
func.func @init(%x: memref<7x8xi8>, %w: memref<4x2x16x4xi8>, %y: memref<7x64xi32>, %zx: memref<7xi8>, %cs: memref<64xi32>) {
  %z = arith.constant 0 : i32
  linalg.generic {indexing_maps = [#r, #c, #i], iterator_types = ["parallel", "parallel"]}
      ins(%zx, %cs : memref<7xi8>, memref<64xi32>) outs(%y : memref<7x64xi32>) {
  ^bb0(%zi: i8, %ci: i32, %o: i32):
    %e = arith.extui %zi : i8 to i32
    %p = arith.muli %e, %ci : i32
    %n = arith.subi %z, %p : i32
    linalg.yield %n : i32
  }
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<7x8xi8>, memref<4x2x16x4xi8>) outs(%y : memref<7x64xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// The dequantization reading the finished output (its next reader; the
// output is then overwritten by a fill): applied to the accumulators in
// the kernel, which stores f32 vectors to its buffer (allocated after the
// kernel: the alloc moves up) instead of the i32 output. The epilogue's
// body runs on 16-lane vectors: sitofp, the row scale broadcast, the
// column scale loaded.
// CHECK-LABEL: func.func @epilogue
// CHECK: %[[D:.*]] = memref.alloc() : memref<6x64xf32>
// CHECK: scf.parallel
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.mulf %{{.*}} : vector<16xf32>
// CHECK: vector.store %{{.*}}, %[[D]][%{{.*}}, %{{.*}}] : memref<6x64xf32>, vector<16xf32>
// CHECK-NOT: vector.store {{.*}} : memref<6x64xi32>
// CHECK-NOT: linalg.generic
// CHECK: linalg.fill
// GENERIC-LABEL: func.func @epilogue
// GENERIC-COUNT-2: linalg.generic
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @epilogue(%x: memref<6x8xi8>, %w: memref<4x2x16x4xi8>, %sx: memref<6xf32>, %sw: memref<64xf32>) -> memref<6x64xf32> {
  %y = memref.alloc() : memref<6x64xi32>
  %c0 = arith.constant 0 : i32
  linalg.fill ins(%c0 : i32) outs(%y : memref<6x64xi32>)
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<6x8xi8>, memref<4x2x16x4xi8>) outs(%y : memref<6x64xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  %d = memref.alloc() : memref<6x64xf32>
  linalg.generic {indexing_maps = [#id, #row, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %sx, %sw : memref<6x64xi32>, memref<6xf32>, memref<64xf32>) outs(%d : memref<6x64xf32>) {
  ^bb0(%i: i32, %s: f32, %t: f32, %o: f32):
    %0 = arith.sitofp %i : i32 to f32
    %1 = arith.mulf %0, %s : f32
    %2 = arith.mulf %1, %t : f32
    linalg.yield %2 : f32
  }
  linalg.fill ins(%c0 : i32) outs(%y : memref<6x64xi32>)
  return %d : memref<6x64xf32>
}

// -----

// Panels of the whole register tile ([N/64, K/4, 64, 4], N a multiple of
// 64): a K step's 4 weight vectors are one contiguous 256-byte stream, read
// from panel n0/64 at offsets 0, 64, 128 and 192.
// BLOCK-LABEL: func.func @panel
// BLOCK: memref.collapse_shape %arg1 {{\[\[}}0], [1], [2, 3]] : memref<2x2x64x4xi8> into memref<2x2x256xi8>
// BLOCK: %[[P:.*]] = arith.divui %{{.*}}, %c64 : index
// BLOCK: scf.for %[[KB:.*]] = %c0 to %c2
// BLOCK-NEXT: vector.load %collapse_shape[%[[P]], %[[KB]], %c0] : memref<2x2x256xi8>, vector<64xi8>
// BLOCK-NEXT: vector.load %collapse_shape[%[[P]], %[[KB]], %c64] : memref<2x2x256xi8>, vector<64xi8>
// BLOCK-NEXT: vector.load %collapse_shape[%[[P]], %[[KB]], %c128] : memref<2x2x256xi8>, vector<64xi8>
// BLOCK-NEXT: vector.load %collapse_shape[%[[P]], %[[KB]], %c192] : memref<2x2x256xi8>, vector<64xi8>
// BLOCK-COUNT-24: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 64 + d2)>
func.func @panel(%x: memref<7x8xi8>, %w: memref<2x2x64x4xi8>, %y: memref<7x128xi32>) {
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<7x8xi8>, memref<2x2x64x4xi8>) outs(%y : memref<7x128xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// AVX2 (vpmaddwd, 2-byte K groups, panels of the 6x2 ymm tile's 16
// columns): s8 activations are sign-extended to i16 once into a new buffer
// (a vectorized pass, 16 per step); the K loop sign-extends each 16-byte
// weight load, broadcasts an i16 pair per row, and adds vpmaddwd's exact
// i32 pair sums to the accumulators.
// AVX2-LABEL: func.func @avx2_wd
// AVX2: %[[A16:.*]] = memref.alloc() {alignment = 64 : i64} : memref<7x8xi16>
// AVX2: scf.parallel
// AVX2: vector.load %arg0{{.*}} : memref<7x8xi8>, vector<8xi8>
// AVX2-NEXT: arith.extsi {{.*}} : vector<8xi8> to vector<8xi16>
// AVX2: scf.for {{.*}} iter_args
// AVX2: vector.load {{.*}} : memref<1x4x32xi8>, vector<16xi8>
// AVX2-NEXT: arith.extsi {{.*}} : vector<16xi8> to vector<16xi16>
// AVX2: vector.load %[[A16]]{{.*}} : memref<7x8xi16>, vector<2xi16>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"({{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2-NEXT: arith.addi {{.*}} : vector<8xi32>
// AVX2: memref.dealloc %[[A16]]
// AVX2-NOT: linalg.generic
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 2 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 16 + d2)>
func.func @avx2_wd(%x: memref<7x8xi8>, %w: memref<1x4x16x2xi8>, %y: memref<7x16xi32>) {
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<7x8xi8>, memref<1x4x16x2xi8>) outs(%y : memref<7x16xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extsi %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// avx512-amx, u8 activations, M a multiple of 32, K of 64: AMX tiles. Per
// unrolled K block (here all of K=128) the 32-column blocks of the group
// in turn (a loop over the 2 of N=64; the single-item parallel loop folds
// away), each a 2x2 grid of 16x16 i32 accumulators loaded from and stored
// to the output; per 64-byte K step two 16x64 activation tiles (row
// stride K) and two weight tiles from the VNNI panel (16 K quads x 16
// columns), then four tdpbusd (u8 x s8).
// AMX-LABEL: func.func @amx
// AMX: scf.for %{{.*}} = %c0 to %c2 step %c1
// AMX-COUNT-4: amx.tile_load %arg2{{.*}} : memref<32x64xi32> into !amx.tile<16x16xi32>
// AMX: amx.tile_load %arg0[%c0, %c0] : memref<32x128xi8> into !amx.tile<16x64xi8>
// AMX-NEXT: amx.tile_load %arg0[%c16, %c0] : memref<32x128xi8> into !amx.tile<16x64xi8>
// AMX: amx.tile_load %collapse_shape{{.*}} : memref<1x32x256xi8> into !amx.tile<16x64xi8>
// AMX: amx.tile_load %collapse_shape{{.*}} : memref<1x32x256xi8> into !amx.tile<16x64xi8>
// AMX-COUNT-4: amx.tile_muli %{{.*}} zext, %{{.*}}, %{{.*}} : !amx.tile<16x64xi8>, !amx.tile<16x64xi8>, !amx.tile<16x16xi32>
// AMX: amx.tile_load %arg0[%c0, %c64]
// AMX-COUNT-4: amx.tile_muli
// AMX-COUNT-4: amx.tile_store %arg2
// AMX-NOT: llvm.call_intrinsic
// AMX-NOT: linalg.generic
// AVX2 (2-byte K groups) does not match this 4-byte layout.
// AVX2-LABEL: func.func @amx
// AVX2: linalg.generic
#a = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3 * 4 + d4)>
#w = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 64 + d2)>
func.func @amx(%x: memref<32x128xi8>, %w: memref<1x32x64x4xi8>, %y: memref<32x64xi32>) {
  linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<32x128xi8>, memref<1x32x64x4xi8>) outs(%y : memref<32x64xi32>) {
  ^bb0(%in: i8, %wi: i8, %out: i32):
    %0 = arith.extui %in : i8 to i32
    %1 = arith.extsi %wi : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %out, %2 : i32
    linalg.yield %3 : i32
  }
  return
}
