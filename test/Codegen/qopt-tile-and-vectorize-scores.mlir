// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-tile-and-vectorize,canonicalize))" | FileCheck %s

// Attention scores over a run-time query count and context (K read in
// place, a dot product per score): with at least 32 queries (prefill), K is
// transposed once and the scores run as 8x16 register tiles of outer
// products over a forall of the heads, the partial edges as serial dot
// products; with fewer (decode, also grouped-query decode's 8 query heads
// per KV head, where the transpose cost more than the tiles saved), per
// row 16 scores a step: each key row's
// two 16-lane products, then the 16 partial vectors summed across lanes at
// once (shuffles), the last T % 16 scores as a serial dot generic.
// CHECK-LABEL: func.func @scores
// CHECK: %[[M:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[MANY:.*]] = arith.cmpi sge, %[[M]], %c32
// CHECK: scf.if %[[MANY]]
// CHECK: linalg.transpose ins(%arg1 : tensor<1x8x?x32xf32>) outs(%{{.*}} : tensor<1x8x32x?xf32>) permutation = [0, 1, 3, 2]
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.contract
// CHECK-SAME: vector<8x4xf32>, vector<4x16xf32> into vector<8x16xf32>
// Edges: no nested forall.
// CHECK-NOT: scf.forall
// CHECK: vector.multi_reduction <add>, %{{.*}} [2] : vector<1x1x32xf32> to vector<1x1xf32>
// CHECK: scf.forall.in_parallel
// CHECK: } else {
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (8, %{{.*}})
// CHECK-COUNT-2: vector.transfer_read %arg0
// CHECK: scf.for
// CHECK-COUNT-16: vector.fma
// CHECK-COUNT-30: vector.shuffle
// CHECK: vector.transfer_write
// CHECK-NOT: scf.forall
// CHECK: vector.multi_reduction <add>, %{{.*}} [2] : vector<1x1x32xf32> to vector<1x1xf32>
#q = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#k = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#s = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
func.func @scores(%q: tensor<1x8x?x32xf32>, %k: tensor<1x8x?x32xf32>,
                  %init: tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32> {
  %r = linalg.generic {indexing_maps = [#q, #k, #s],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x8x?x32xf32>, tensor<1x8x?x32xf32>)
      outs(%init : tensor<1x8x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b fastmath<reassoc,contract> : f32
    %s = arith.addf %c, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  } -> tensor<1x8x?x?xf32>
  return %r : tensor<1x8x?x?xf32>
}

// A zero-filled init is filled tile by tile where the scores are computed,
// not over the whole run-time [b, h, m, t] up front (a scalar loop).
// CHECK-LABEL: func.func @scores_filled
// CHECK-NOT: linalg.fill
// CHECK: scf.if
// CHECK-NOT: linalg.fill {{.*}} tensor<8x16xf32>
// CHECK: vector.contract
// CHECK: } else {
// CHECK-NOT: vector.transfer_read %{{.*}} : tensor<1x?xf32>, vector<16xf32>
// CHECK: vector.transfer_write
func.func @scores_filled(%q: tensor<1x8x?x32xf32>, %k: tensor<1x8x?x32xf32>)
    -> tensor<1x8x?x?xf32> {
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %q, %c2 : tensor<1x8x?x32xf32>
  %t = tensor.dim %k, %c2 : tensor<1x8x?x32xf32>
  %e = tensor.empty(%m, %t) : tensor<1x8x?x?xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32>
  %r = linalg.generic {indexing_maps = [#q, #k, #s],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<1x8x?x32xf32>, tensor<1x8x?x32xf32>)
      outs(%init : tensor<1x8x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b fastmath<reassoc,contract> : f32
    %s = arith.addf %c, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  } -> tensor<1x8x?x?xf32>
  return %r : tensor<1x8x?x?xf32>
}

// p·v over a run-time query count and context: with at least 8 queries,
// 8 x 32 accumulator tiles (16 zmm) over a forall of the heads, one outer
// product per context position with the accumulator carried in registers
// (a vector iter_arg), the last M % 8 rows as a serial generic; with fewer
// (decode), the generic as it was.
// CHECK-LABEL: func.func @pv
// CHECK: %[[M:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[MANY:.*]] = arith.cmpi sge, %[[M]], %c8
// CHECK: scf.if %[[MANY]]
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<8x32xf32>)
// CHECK: vector.contract
// CHECK-SAME: vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK-NOT: scf.forall
// CHECK: scf.forall.in_parallel
// CHECK: } else {
// CHECK: scf.forall
// CHECK: scf.for {{.*}} -> (vector<1x1x1x32xf32>)
#pp = affine_map<(b, h, m, t, n) -> (b, h, m, t)>
#pv = affine_map<(b, h, m, t, n) -> (b, h, t, n)>
#po = affine_map<(b, h, m, t, n) -> (b, h, m, n)>
func.func @pv(%p: tensor<1x8x?x?xf32>, %v: tensor<1x8x?x32xf32>,
              %init: tensor<1x8x?x32xf32>) -> tensor<1x8x?x32xf32> {
  %r = linalg.generic {indexing_maps = [#pp, #pv, #po],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]}
      ins(%p, %v : tensor<1x8x?x?xf32>, tensor<1x8x?x32xf32>)
      outs(%init : tensor<1x8x?x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %x = arith.mulf %a, %b fastmath<reassoc,contract> : f32
    %s = arith.addf %c, %x fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  } -> tensor<1x8x?x32xf32>
  return %r : tensor<1x8x?x32xf32>
}

// An elementwise op over run-time rows whose static innermost dim is wider
// than a register block (SwiGLU's 768): tiled by 256 along it, vectorized.
// CHECK-LABEL: func.func @wide_rows
// CHECK: scf.forall
// CHECK: scf.for %{{.*}} = %c0 to %c768 step %c256
// CHECK: math.exp %{{.*}} : vector<1x1x256xf32>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @wide_rows(%x: tensor<?x?x768xf32>, %init: tensor<?x?x768xf32>) -> tensor<?x?x768xf32> {
  %r = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<?x?x768xf32>) outs(%init : tensor<?x?x768xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  } -> tensor<?x?x768xf32>
  return %r : tensor<?x?x768xf32>
}
