// A model with dynamic dims (docs/abi.md, "Dynamic entry"): x and y share
// the named dim n (at most 64), past has a dynamic past_len that may be 0.
// Results: a computed tensor, an input returned as is, a constant weight
// returned as is (both copied into buffers the caller owns), and past * w.
#map = affine_map<(d0, d1) -> (d0, d1)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#mapw = affine_map<(d0, d1, d2, d3) -> (d3)>
module attributes {qopt.dim_max = {n = 64 : i64}} {
func.func @main(%x: tensor<?x4xf32> {qopt.name = "x", qopt.dim_names = ["n", ""]},
                %y: tensor<?x4xf32> {qopt.name = "y", qopt.dim_names = ["n", ""]},
                %past: tensor<1x2x?x3xf32> {qopt.name = "past", qopt.dim_names = ["", "", "past_len", ""]})
    -> (tensor<?x4xf32> {qopt.name = "sum"}, tensor<?x4xf32> {qopt.name = "x_out"},
        tensor<512xf32> {qopt.name = "w"}, tensor<1x2x?x3xf32> {qopt.name = "scaled"}) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %s = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<?x4xf32>
  // 2 KiB: goes to the weights file.
  %w = arith.constant dense<0.5> : tensor<512xf32>
  %ws = tensor.extract_slice %w[0] [3] [1] : tensor<512xf32> to tensor<3xf32>
  %p = tensor.dim %past, %c2 : tensor<1x2x?x3xf32>
  %e2 = tensor.empty(%p) : tensor<1x2x?x3xf32>
  %sc = linalg.generic {indexing_maps = [#map4, #mapw, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%past, %ws : tensor<1x2x?x3xf32>, tensor<3xf32>) outs(%e2 : tensor<1x2x?x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x?x3xf32>
  return %s, %x, %w, %sc : tensor<?x4xf32>, tensor<?x4xf32>, tensor<512xf32>, tensor<1x2x?x3xf32>
}
}
