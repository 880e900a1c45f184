// RUN: qopt-opt %s --split-input-file --qopt-fold-repeat-kv --canonicalize --cse | FileCheck %s

// Grouped-query attention as convert-onnx-to-qopt writes an Optimum export
// (2 KV heads, each repeated 4 times: Unsqueeze + Expand = a broadcast
// generic, Reshape on run-time dims = collapse to 1-D + tensor.reshape): QK^T
// and PV read the 2 heads; the queries / probabilities are viewed as
// [b, 2, 4*s, *] and the products viewed back; no broadcast is left.
// CHECK-LABEL: func.func @gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<?x8x?x8xf32>, %[[K:.*]]: tensor<?x2x?x8xf32>, %[[V:.*]]: tensor<?x2x?x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[KT:.*]] = linalg.transpose ins(%[[K]] : tensor<?x2x?x8xf32>) outs(%{{.*}} : tensor<?x2x8x?xf32>) permutation = [0, 1, 3, 2]
// CHECK: %[[QE:.*]] = tensor.expand_shape %[[Q]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [%{{.*}}, 2, 4, %{{.*}}, 8] : tensor<?x8x?x8xf32> into tensor<?x2x4x?x8xf32>
// CHECK: %[[QG:.*]] = tensor.collapse_shape %[[QE]] {{\[\[}}0], [1], [2, 3], [4]] : tensor<?x2x4x?x8xf32> into tensor<?x2x?x8xf32>
// CHECK: %[[S:.*]] = qopt.matmul %[[QG]], %[[KT]] {qopt.layer = "qk"} : (tensor<?x2x?x8xf32>, tensor<?x2x8x?xf32>) -> tensor<?x2x?x?xf32>
// (The scores' view back and PV's regrouping cancel.)
// CHECK: %[[O:.*]] = qopt.matmul %[[S]], %[[V]] {qopt.layer = "av"} : (tensor<?x2x?x?xf32>, tensor<?x2x?x8xf32>) -> tensor<?x2x?x8xf32>
// CHECK: %[[OE:.*]] = tensor.expand_shape %[[O]] {{\[\[}}0], [1], [2, 3], [4]] {{.*}} : tensor<?x2x?x8xf32> into tensor<?x2x4x?x8xf32>
// CHECK: %[[OC:.*]] = tensor.collapse_shape %[[OE]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<?x2x4x?x8xf32> into tensor<?x8x?x8xf32>
// CHECK: return %[[OC]]
#bcast = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @gqa(%q: tensor<?x8x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<?x8x?x8xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %b = tensor.dim %k, %c0 : tensor<?x2x?x8xf32>
  %t = tensor.dim %k, %c2 : tensor<?x2x?x8xf32>
  %e = tensor.empty(%b, %t) : tensor<?x2x4x?x8xf32>
  %shape = tensor.from_elements %b, %c8, %t, %c8 : tensor<4xindex>
  %kr5 = linalg.generic {indexing_maps = [#bcast, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<?x2x?x8xf32>) outs(%e : tensor<?x2x4x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x2x4x?x8xf32>
  %kf = tensor.collapse_shape %kr5 [[0, 1, 2, 3, 4]] : tensor<?x2x4x?x8xf32> into tensor<?xf32>
  %kr = tensor.reshape %kf(%shape) : (tensor<?xf32>, tensor<4xindex>) -> tensor<?x8x?x8xf32>
  %vr5 = linalg.generic {indexing_maps = [#bcast, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<?x2x?x8xf32>) outs(%e : tensor<?x2x4x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x2x4x?x8xf32>
  %vf = tensor.collapse_shape %vr5 [[0, 1, 2, 3, 4]] : tensor<?x2x4x?x8xf32> into tensor<?xf32>
  %vr = tensor.reshape %vf(%shape) : (tensor<?xf32>, tensor<4xindex>) -> tensor<?x8x?x8xf32>
  %et = tensor.empty(%b, %t) : tensor<?x8x8x?xf32>
  %kt = linalg.transpose ins(%kr : tensor<?x8x?x8xf32>) outs(%et : tensor<?x8x8x?xf32>) permutation = [0, 1, 3, 2]
  %s = qopt.matmul %q, %kt {qopt.layer = "qk"} : (tensor<?x8x?x8xf32>, tensor<?x8x8x?xf32>) -> tensor<?x8x?x?xf32>
  %o = qopt.matmul %s, %vr {qopt.layer = "av"} : (tensor<?x8x?x?xf32>, tensor<?x8x?x8xf32>) -> tensor<?x8x?x8xf32>
  return %o : tensor<?x8x?x8xf32>
}

// -----

// Not a repeat of each head (the broadcast's new dim is outer: heads
// interleaved, h = r*G + g): left alone.
// CHECK-LABEL: func.func @interleaved
// CHECK: linalg.generic
// CHECK: qopt.matmul %arg0, %{{.*}} : (tensor<?x8x?x?xf32>, tensor<?x8x?x8xf32>)
#outer = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d3, d4)>
#id5b = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @interleaved(%p: tensor<?x8x?x?xf32>, %v: tensor<?x2x?x8xf32>) -> tensor<?x8x?x8xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %b = tensor.dim %v, %c0 : tensor<?x2x?x8xf32>
  %t = tensor.dim %v, %c2 : tensor<?x2x?x8xf32>
  %e = tensor.empty(%b, %t) : tensor<?x4x2x?x8xf32>
  %shape = tensor.from_elements %b, %c8, %t, %c8 : tensor<4xindex>
  %r5 = linalg.generic {indexing_maps = [#outer, #id5b], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<?x2x?x8xf32>) outs(%e : tensor<?x4x2x?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<?x4x2x?x8xf32>
  %f = tensor.collapse_shape %r5 [[0, 1, 2, 3, 4]] : tensor<?x4x2x?x8xf32> into tensor<?xf32>
  %r = tensor.reshape %f(%shape) : (tensor<?xf32>, tensor<4xindex>) -> tensor<?x8x?x8xf32>
  %o = qopt.matmul %p, %r : (tensor<?x8x?x?xf32>, tensor<?x8x?x8xf32>) -> tensor<?x8x?x8xf32>
  return %o : tensor<?x8x?x8xf32>
}
