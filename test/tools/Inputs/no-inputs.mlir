// A model without inputs: its output is a constant.
func.func @main() -> (tensor<2x3xf32> {qopt.name = "y"}) {
  %c = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}
