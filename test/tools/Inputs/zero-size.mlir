// Zero-element tensors (a zero dim that is not the outermost one makes
// upstream use memref descriptors instead of bare pointers) next to ordinary
// ones.
func.func @main(%x: tensor<3x0x5xf32> {qopt.name = "x"}, %a: tensor<4xf32> {qopt.name = "a"})
    -> (tensor<3x0x5xf32> {qopt.name = "y"}, tensor<4xf32> {qopt.name = "b"}) {
  %e = tensor.empty() : tensor<3x0x5xf32>
  %y = linalg.add ins(%x, %x : tensor<3x0x5xf32>, tensor<3x0x5xf32>) outs(%e : tensor<3x0x5xf32>) -> tensor<3x0x5xf32>
  %e2 = tensor.empty() : tensor<4xf32>
  %b = linalg.add ins(%a, %a : tensor<4xf32>, tensor<4xf32>) outs(%e2 : tensor<4xf32>) -> tensor<4xf32>
  return %y, %b : tensor<3x0x5xf32>, tensor<4xf32>
}
