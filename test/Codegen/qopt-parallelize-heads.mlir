// RUN: qopt-opt %s --pass-pipeline='builtin.module(func.func(qopt-parallelize-heads))' | FileCheck %s

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bc = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#row = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>

// Attention over 2 heads: Q/K/V [1, L=4, H=2, D=8] -> per-head transposes,
// QK^T, mask (broadcast constant), row max (init: a shared fill), PV,
// transpose back. All of it becomes one loop over the heads.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: tensor<1x4x2x8xf32>, %[[K:[a-z0-9_]+]]: tensor<1x4x2x8xf32>, %[[V:[a-z0-9_]+]]: tensor<1x4x2x8xf32>
// CHECK: %[[R:.*]] = scf.forall (%[[H:[a-z0-9_]+]]) in (2) shared_outs(%[[O:[a-z0-9_]+]] = %{{.*}})
// CHECK:   tensor.extract_slice %[[Q]][0, 0, %[[H]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<1x4x2x8xf32> to tensor<1x4x1x8xf32>
// CHECK:   linalg.transpose ins(%{{.*}} : tensor<1x4x1x8xf32>) outs(%{{.*}} : tensor<1x1x4x8xf32>)
// CHECK:   qopt.matmul {{.*}} : (tensor<1x1x4x8xf32>, tensor<1x1x8x4xf32>) -> tensor<1x1x4x4xf32>
// The mask is used whole (it has no head dim).
// CHECK:   linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x4x4xf32>, tensor<4x4xf32>)
// CHECK:   %[[E:.*]] = tensor.empty() : tensor<1x1x4xf32>
// CHECK:   linalg.fill {{.*}} outs(%[[E]] : tensor<1x1x4xf32>)
// CHECK:   qopt.matmul {{.*}} : (tensor<1x1x4x4xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
// CHECK:   %[[T:[a-z0-9_]+]] = linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %[[T]] into %[[O]][0, 0, %[[H]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<1x4x1x8xf32> into tensor<1x4x2x8xf32>
// CHECK: tensor.collapse_shape %[[R]]
// CHECK-NOT: qopt.matmul
func.func @attention(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>,
                     %v: tensor<1x4x2x8xf32>) -> tensor<4x16xf32> {
  %mask = arith.constant dense<1.0> : tensor<4x4xf32>
  %ninf = arith.constant -3.0e38 : f32
  %e = tensor.empty() : tensor<1x2x4x8xf32>
  %qt = linalg.transpose ins(%q : tensor<1x4x2x8xf32>) outs(%e : tensor<1x2x4x8xf32>) permutation = [0, 2, 1, 3]
  %kt = linalg.transpose ins(%k : tensor<1x4x2x8xf32>) outs(%e : tensor<1x2x4x8xf32>) permutation = [0, 2, 1, 3]
  %vt = linalg.transpose ins(%v : tensor<1x4x2x8xf32>) outs(%e : tensor<1x2x4x8xf32>) permutation = [0, 2, 1, 3]
  %ekt = tensor.empty() : tensor<1x2x8x4xf32>
  %ktt = linalg.transpose ins(%kt : tensor<1x2x4x8xf32>) outs(%ekt : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %s = qopt.matmul %qt, %ktt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %es = tensor.empty() : tensor<1x2x4x4xf32>
  %sm = linalg.generic {indexing_maps = [#id4, #bc, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s, %mask : tensor<1x2x4x4xf32>, tensor<4x4xf32>) outs(%es : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %er = tensor.empty() : tensor<1x2x4xf32>
  %fill = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
  %mx = linalg.generic {indexing_maps = [#id4, #row], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%sm : tensor<1x2x4x4xf32>) outs(%fill : tensor<1x2x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4xf32>
  %p = linalg.generic {indexing_maps = [#id4, #row, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sm, %mx : tensor<1x2x4x4xf32>, tensor<1x2x4xf32>) outs(%es : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %o = qopt.matmul %p, %vt : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %eo = tensor.empty() : tensor<1x4x2x8xf32>
  %ot = linalg.transpose ins(%o : tensor<1x2x4x8xf32>) outs(%eo : tensor<1x4x2x8xf32>) permutation = [0, 2, 1, 3]
  %c = tensor.collapse_shape %ot [[0, 1], [2, 3]] : tensor<1x4x2x8xf32> into tensor<4x16xf32>
  return %c : tensor<4x16xf32>
}

// A weight matmul (constant operand) is no seed; an op reading a score
// before the chain ends (here: returned scores used by an op placed between
// QK^T and PV) leaves the chain as it is.
// CHECK-LABEL: func.func @not_outlined
// CHECK-NOT: scf.forall
// CHECK: return
func.func @not_outlined(%x: tensor<1x2x4x8xf32>, %vt: tensor<1x2x4x8xf32>)
    -> (tensor<1x2x4x8xf32>, tensor<8x4xf32>, tensor<1x2x4x8xf32>) {
  %w = arith.constant dense<1.0> : tensor<1x2x8x8xf32>
  %y = qopt.matmul %x, %w : (tensor<1x2x4x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x4x8xf32>
  %ekt = tensor.empty() : tensor<1x2x8x4xf32>
  %xt = linalg.transpose ins(%x : tensor<1x2x4x8xf32>) outs(%ekt : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %s = qopt.matmul %x, %xt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %es = tensor.empty() : tensor<1x2x4x4xf32>
  %neg = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x4x4xf32>) outs(%es : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.negf %a : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %cs = tensor.collapse_shape %s [[0, 1, 2], [3]] : tensor<1x2x4x4xf32> into tensor<8x4xf32>
  %o = qopt.matmul %neg, %vt : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %y, %cs, %o : tensor<1x2x4x8xf32>, tensor<8x4xf32>, tensor<1x2x4x8xf32>
}
