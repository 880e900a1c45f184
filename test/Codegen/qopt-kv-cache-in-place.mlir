// RUN: qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place,qopt-record-abi)" --split-input-file | FileCheck %s
// RUN: qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place{mode=copy})" --split-input-file | FileCheck %s --check-prefix=COPY
// RUN: not qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place{mode=inplace})" --split-input-file 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place)" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN

// An Optimum decoder layer: present = Concat(past, new) along the sequence
// axis. The past input becomes a cache of capacity `kv_capacity`: the new
// rows go in at T - S (T: attention_mask's length, S: the new tokens'),
// the reader sees rows [0, T), and the present output is gone.
// CHECK: qopt.abi = "qopt-abi 2\0Aentry dynamic\0A
// CHECK-SAME: input past_key_values.0.key 1 batch_sizex2xkv_capacityx4\0Aoutput out 1 ?x2x?x4\0A
// CHECK-SAME: cache past_key_values.0.key present.0.key 2 total_sequence_length sequence_length\0A
// CHECK-LABEL: func.func @main
// CHECK-SAME: qopt.dim_names = ["batch_size", "", "kv_capacity", ""]
// CHECK-SAME: qopt.kv_cache = {axis = 2 : i64, new = "sequence_length", present = "present.0.key", total = "total_sequence_length"}
// CHECK-SAME: -> (tensor<?x2x?x4xf32> {qopt.name = "out"})
// CHECK-DAG: %[[T:.*]] = tensor.dim %arg1, %c1
// CHECK-DAG: %[[S:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[P:.*]] = arith.subi %[[T]], %[[S]]
// CHECK: %[[U:.*]] = tensor.insert_slice %arg0 into %arg2[0, 0, %[[P]], 0]
// CHECK: %[[R:.*]] = tensor.extract_slice %[[U]][0, 0, 0, 0]
// CHECK: linalg.generic {{.*}} ins(%[[R]] :
// CHECK-NOT: tensor.empty

// COPY-LABEL: func.func @main
// COPY: tensor.empty
// COPY: return {{.*}}, {{.*}} : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
func.func @main(%new: tensor<?x2x?x4xf32> {qopt.name = "new", qopt.dim_names = ["batch_size", "", "sequence_length", ""]},
                %mask: tensor<?x?xi64> {qopt.name = "attention_mask", qopt.dim_names = ["batch_size", "total_sequence_length"]},
                %past: tensor<?x2x?x4xf32> {qopt.name = "past_key_values.0.key", qopt.dim_names = ["batch_size", "", "past_sequence_length", ""]})
    -> (tensor<?x2x?x4xf32> {qopt.name = "out"},
        tensor<?x2x?x4xf32> {qopt.name = "present.0.key", qopt.dim_names = ["batch_size", "", "total_sequence_length", ""]}) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %new, %c0 : tensor<?x2x?x4xf32>
  %s = tensor.dim %new, %c2 : tensor<?x2x?x4xf32>
  %p = tensor.dim %past, %c2 : tensor<?x2x?x4xf32>
  %t = arith.addi %p, %s : index
  %e = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %a = tensor.insert_slice %past into %e[0, 0, 0, 0] [%b, 2, %p, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %present = tensor.insert_slice %new into %a[0, 0, %p, 0] [%b, 2, %s, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %o = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %neg = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%present : tensor<?x2x?x4xf32>) outs(%o : tensor<?x2x?x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<?x2x?x4xf32>
  return %neg, %present : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}

// -----

// A past input whose present is not a concatenation: auto leaves the model
// as it is, inplace says why.
// CHECK-LABEL: func.func @main
// CHECK: return %arg0 : tensor<1x2x?x4xf32>
// WARN: warning: KV caches stay inputs/outputs (not in place): output 'present.0.key' is not input
// ERR: error: --kv-cache=inplace: output 'present.0.key' is not input 'past_key_values.0.key' concatenated with the new tokens along a dynamic axis
func.func @main(%past: tensor<1x2x?x4xf32> {qopt.name = "past_key_values.0.key"})
    -> (tensor<1x2x?x4xf32> {qopt.name = "present.0.key"}) {
  return %past : tensor<1x2x?x4xf32>
}
