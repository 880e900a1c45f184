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

// expected-error @+1 {{only static-shaped tensors are supported}}
func.func @main(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %a : tensor<?x4xf32>
}
