// f32 -> bf16 (round to nearest even) and bf16 -> f32 and bf16 arithmetic:
// no compiler-rt calls (__truncsfbf2) may be left for the JIT / the .so.
#id = affine_map<(d0) -> (d0)>
func.func @main(%x: tensor<6xf32> {qopt.name = "x"}, %h: tensor<6xbf16> {qopt.name = "h"})
    -> (tensor<6xbf16> {qopt.name = "t"}, tensor<6xf32> {qopt.name = "e"}) {
  %e0 = tensor.empty() : tensor<6xbf16>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<6xf32>) outs(%e0 : tensor<6xbf16>) {
  ^bb0(%a: f32, %o: bf16):
    %r = arith.truncf %a : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<6xbf16>
  %e1 = tensor.empty() : tensor<6xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%h : tensor<6xbf16>) outs(%e1 : tensor<6xf32>) {
  ^bb0(%a: bf16, %o: f32):
    %s = arith.addf %a, %a : bf16
    %r = arith.extf %s : bf16 to f32
    linalg.yield %r : f32
  } -> tensor<6xf32>
  return %t, %e : tensor<6xbf16>, tensor<6xf32>
}
