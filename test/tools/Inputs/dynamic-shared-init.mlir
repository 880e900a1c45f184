// Three matmuls per row share one zero-filled init and are inserted into
// three shared_outs of an scf.forall (the shape qopt-specialize-dynamic-rows
// gives q/k/v). Without qopt-split-fill-inits, bufferization returned q for v.
func.func @main(%x: tensor<?x4xf32> {qopt.name = "x", qopt.dim_names = ["n", ""]})
    -> (tensor<?x4xf32> {qopt.name = "q"}, tensor<?x4xf32> {qopt.name = "k"}, tensor<?x4xf32> {qopt.name = "v"}) {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  %w1 = arith.constant dense<1.0> : tensor<4x4xf32>
  %w2 = arith.constant dense<2.0> : tensor<4x4xf32>
  %w3 = arith.constant dense<3.0> : tensor<4x4xf32>
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %r:3 = scf.forall (%i) in (%n) shared_outs(%o1 = %e, %o2 = %e, %o3 = %e) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
    %xs = tensor.extract_slice %x[%i, 0] [1, 4] [1, 1] : tensor<?x4xf32> to tensor<1x4xf32>
    %t = tensor.empty() : tensor<1x4xf32>
    %f = linalg.fill ins(%z : f32) outs(%t : tensor<1x4xf32>) -> tensor<1x4xf32>
    %q = linalg.matmul ins(%xs, %w1 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
    %k = linalg.matmul ins(%xs, %w2 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
    %v = linalg.matmul ins(%xs, %w3 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %q into %o1[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
      tensor.parallel_insert_slice %k into %o2[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
      tensor.parallel_insert_slice %v into %o3[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<?x4xf32>
    }
  }
  return %r#0, %r#1, %r#2 : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}
