// RUN: qopt-opt %s --qopt-record-abi --split-input-file --verify-diagnostics | FileCheck %s

// CHECK: module attributes {qopt.abi = "qopt-abi 1\0Ainput ids 7 1x128\0Ainput mask%3A0 9 1x128\0Ainput input2 1 scalar\0Aoutput logits 1 1x128x256\0Aweights 0\0A", qopt.entry_func = "main"}
func.func @main(%a: tensor<1x128xi64> {qopt.name = "ids", qopt.dtype = 7 : i32},
                %b: tensor<1x128xi1> {qopt.name = "mask:0", qopt.dtype = 9 : i32},
                %c: tensor<f32>)
    -> (tensor<1x128x256xf32> {qopt.name = "logits", qopt.dtype = 1 : i32}) {
  %e = tensor.empty() : tensor<1x128x256xf32>
  return %e : tensor<1x128x256xf32>
}

// -----

// Dynamic dims: version 2, `?` for unnamed, names percent-encoded (also `x`
// and a leading digit), a `dim` line per named dim with its --dim-max
// bound (0: none), `entry dynamic`. A result returned twice is copied.

// CHECK-LABEL: module attributes {qopt.abi = "qopt-abi 2\0Aentry dynamic\0Ainput input_ids 7 batch_sizex%78len\0Ainput past 1 batch_sizex8xpast%20lenx32\0Ainput mask 9 ?x%33d\0Aoutput logits 1 batch_sizex%78lenx256\0Aoutput out1 1 ?x8x?x32\0Aoutput out2 1 ?x8x?x32\0Adim batch_size 0\0Adim %78len 4096\0Adim past%20len 0\0Adim %33d 0\0Aweights 0\0A", qopt.dim_max = {{.*}}, qopt.entry_func = "main"}
// CHECK: %[[C:.*]] = bufferization.alloc_tensor() copy(%{{.*}}) : tensor<?x8x?x32xf32>
// CHECK: return %{{.*}}, %[[P:.*]], %[[C]] :
module attributes {qopt.dim_max = {xlen = 4096 : i64}} {
func.func @main(%ids: tensor<?x?xi64> {qopt.name = "input_ids", qopt.dim_names = ["batch_size", "xlen"]},
                %past: tensor<?x8x?x32xf32> {qopt.name = "past", qopt.dim_names = ["batch_size", "", "past len", ""]},
                %mask: tensor<?x?xi1> {qopt.name = "mask", qopt.dim_names = ["", "3d"]})
    -> (tensor<?x?x256xf32> {qopt.name = "logits", qopt.dim_names = ["batch_size", "xlen", ""]},
        tensor<?x8x?x32xf32> {qopt.name = "out1"}, tensor<?x8x?x32xf32> {qopt.name = "out2"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %s = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %e = tensor.empty(%b, %s) : tensor<?x?x256xf32>
  return %e, %past, %past : tensor<?x?x256xf32>, tensor<?x8x?x32xf32>, tensor<?x8x?x32xf32>
}
}

// -----

// A static entry keeps version 1 (names of static dims are not recorded).
// CHECK-LABEL: qopt.abi = "qopt-abi 1\0Ainput x 1 2x4\0Aoutput output0 1 2x4\0Aweights 0\0A"
func.func @main(%a: tensor<2x4xf32> {qopt.name = "x", qopt.dim_names = ["n", ""]}) -> tensor<2x4xf32> {
  return %a : tensor<2x4xf32>
}

// -----

// expected-error @+1 {{only ranked tensors are supported}}
func.func @main(%a: tensor<*xf32>) -> tensor<*xf32> {
  return %a : tensor<*xf32>
}

// -----

// expected-error @+1 {{qopt.dim_names has 1 entries for rank 2}}
func.func @main(%a: tensor<?x4xf32> {qopt.dim_names = ["n"]}) -> tensor<?x4xf32> {
  return %a : tensor<?x4xf32>
}

// -----

// expected-error @+1 {{qopt.dim_max of 'n' must be a positive integer}}
module attributes {qopt.dim_max = {n = 0 : i64}} {
func.func @main(%a: tensor<?x4xf32> {qopt.dim_names = ["n", ""]}) -> tensor<?x4xf32> {
  return %a : tensor<?x4xf32>
}
}
