// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-tile-and-vectorize,canonicalize))" | FileCheck %s

// Attention scores over a run-time query count and context (K read in
// place, a dot product per score): with at least 8 queries (prefill), K is
// transposed once and the scores run as 8x16 register tiles of outer
// products over a forall of the heads, the partial edges as serial dot
// products; with fewer (decode), per row 16 scores a step: each key row's
// two 16-lane products, then the 16 partial vectors summed across lanes at
// once (shuffles), the last T % 16 scores as a serial dot generic.
// CHECK-LABEL: func.func @scores
// CHECK: %[[M:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[MANY:.*]] = arith.cmpi sge, %[[M]], %c8
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
