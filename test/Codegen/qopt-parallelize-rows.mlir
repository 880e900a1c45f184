// RUN: qopt-opt %s --pass-pipeline='builtin.module(func.func(qopt-parallelize-rows))' | FileCheck %s
// RUN: qopt-opt %s --pass-pipeline='builtin.module(func.func(qopt-parallelize-rows{min-rows=64}))' | FileCheck %s --check-prefix=FEW

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0)>
#col2 = affine_map<(d0, d1) -> (d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
#c3 = affine_map<(d0, d1, d2) -> (d2)>

// Residual add + RMSNorm-like scaling on [1, 32, 16], then a per-row max
// and a scaling on [32, 16] feeding a microkernel (qopt.ukernel) whose
// accumulator init is computed from the row max. The chain (add, sum of
// squares, scale, collapse, max, divide) becomes one loop over 8 blocks of
// 4 rows; the init generic and the microkernel stay outside.
// CHECK-LABEL: func.func @block
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<1x32x16xf32>, %[[Y:[a-z0-9_]+]]: tensor<32x16xf32>
// CHECK: %[[R:[0-9]+]]:2 = scf.forall (%[[I:[a-z0-9_]+]]) in (8) shared_outs(
// CHECK:   %[[OFF:.*]] = arith.muli %[[I]], %c4
// CHECK-DAG: tensor.extract_slice %[[X]][0, %[[OFF]], 0] [1, 4, 16] [1, 1, 1] : tensor<1x32x16xf32> to tensor<1x4x16xf32>
// CHECK-DAG: tensor.extract_slice %[[Y]][%[[OFF]], 0] [4, 16] [1, 1] : tensor<32x16xf32> to tensor<4x16xf32>
// CHECK-DAG: tensor.expand_shape {{.*}} output_shape [1, 4, 16] : tensor<4x16xf32> into tensor<1x4x16xf32>
// CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<1x4xf32>)
// CHECK:   tensor.collapse_shape {{.*}} : tensor<1x4x16xf32> into tensor<4x16xf32>
// CHECK:   linalg.generic {{.*}} outs(%{{.*}} : tensor<4xf32>)
// CHECK:   scf.forall.in_parallel
// CHECK-DAG: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[OFF]]] [4] [1] : tensor<4xf32> into tensor<32xf32>
// CHECK-DAG: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[OFF]], 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<32x16xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[R]]#0 : tensor<32xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[R]]#1, %{{.*}}) outs(%[[INIT]] : tensor<32x16xf32>) attrs = {qopt.ukernel = "test"}
// Fewer rows than min-rows: nothing changes.
// FEW-LABEL: func.func @block
// FEW-NOT: scf.forall
func.func @block(%x: tensor<1x32x16xf32>, %y: tensor<32x16xf32>,
                 %g: tensor<16xf32>, %w: tensor<16x16xf32>) -> tensor<32x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<1x32x16xf32>
  %y3 = tensor.expand_shape %y [[0, 1], [2]] output_shape [1, 32, 16] : tensor<32x16xf32> into tensor<1x32x16xf32>
  %h = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %y3 : tensor<1x32x16xf32>, tensor<1x32x16xf32>) outs(%e3 : tensor<1x32x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x32x16xf32>
  %er = tensor.empty() : tensor<1x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%er : tensor<1x32xf32>) -> tensor<1x32xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #row3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h : tensor<1x32x16xf32>) outs(%f : tensor<1x32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    %r = arith.addf %o, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x32xf32>
  %n = linalg.generic {indexing_maps = [#id3, #row3, #c3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%h, %ss, %g : tensor<1x32x16xf32>, tensor<1x32xf32>, tensor<16xf32>) outs(%e3 : tensor<1x32x16xf32>) {
  ^bb0(%a: f32, %s: f32, %gg: f32, %o: f32):
    %q = math.rsqrt %s : f32
    %m = arith.mulf %a, %q : f32
    %r = arith.mulf %m, %gg : f32
    linalg.yield %r : f32
  } -> tensor<1x32x16xf32>
  %n2 = tensor.collapse_shape %n [[0, 1], [2]] : tensor<1x32x16xf32> into tensor<32x16xf32>
  %e1 = tensor.empty() : tensor<32xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<32xf32>) -> tensor<32xf32>
  %mx = linalg.generic {indexing_maps = [#id2, #row2], iterator_types = ["parallel", "reduction"]}
      ins(%n2 : tensor<32x16xf32>) outs(%f1 : tensor<32xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<32xf32>
  %e2 = tensor.empty() : tensor<32x16xf32>
  %sc = linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%n2, %mx : tensor<32x16xf32>, tensor<32xf32>) outs(%e2 : tensor<32x16xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %r = arith.divf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<32x16xf32>
  %init = linalg.generic {indexing_maps = [#row2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%mx : tensor<32xf32>) outs(%e2 : tensor<32x16xf32>) {
  ^bb0(%m: f32, %o: f32):
    linalg.yield %m : f32
  } -> tensor<32x16xf32>
  %mm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%sc, %w : tensor<32x16xf32>, tensor<16x16xf32>) outs(%init : tensor<32x16xf32>) attrs = {qopt.ukernel = "test"} {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %o, %m : f32
    linalg.yield %r : f32
  } -> tensor<32x16xf32>
  return %mm : tensor<32x16xf32>
}
