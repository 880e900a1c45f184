// RUN: qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place,qopt-record-abi)" --split-input-file | FileCheck %s
// RUN: qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place{mode=copy})" --split-input-file | FileCheck %s --check-prefix=COPY
// RUN: not qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place{mode=inplace})" --split-input-file 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place)" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN
// RUN: not qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place{mode=int8},qopt-record-abi)" --split-input-file 2>/dev/null | FileCheck %s --check-prefix=INT8
// RUN: not qopt-opt %s --pass-pipeline="builtin.module(qopt-kv-cache-in-place{mode=int8})" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR8

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

// int8: the cache is i8, a scale cache [.., kv_capacity, 1] follows the
// inputs; the new rows are quantized per row (max|x| / 127, 0 -> 1,
// roundeven, saturated) into both, and the reader takes the i8 prefix and
// its scales (the dequantization fused into it).
// INT8: qopt.abi = "qopt-abi 2\0Aentry dynamic\0A
// INT8-SAME: input past_key_values.0.key 3 batch_sizex2xkv_capacityx4\0Ainput past_key_values.0.key.scale 1 batch_sizex2xkv_capacityx1\0Aoutput out 1 ?x2x?x4\0A
// INT8-SAME: cache past_key_values.0.key present.0.key 2 total_sequence_length sequence_length\0Acache past_key_values.0.key.scale present.0.key 2 total_sequence_length sequence_length\0A
// INT8-LABEL: func.func @main
// INT8-SAME: %arg2: tensor<?x2x?x4xi8> {qopt.dim_names = ["batch_size", "", "kv_capacity", ""]
// INT8-SAME: %arg3: tensor<?x2x?x1xf32> {qopt.dim_names = ["batch_size", "", "kv_capacity", ""], qopt.kv_cache = {axis = 2 : i64, new = "sequence_length", present = "present.0.key", total = "total_sequence_length"}, qopt.name = "past_key_values.0.key.scale"}
// INT8: %[[AMAX:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%arg0 : tensor<?x2x?x4xf32>)
// INT8: math.absf
// INT8: arith.maximumf
// INT8: %[[S:.*]] = linalg.generic {{.*}} ins(%[[AMAX]] : tensor<?x2x?xf32>) outs({{.*}} : tensor<?x2x?x1xf32>)
// INT8: arith.divf %{{.*}}, %cst
// INT8: arith.cmpf oeq
// INT8: arith.select
// INT8: %[[Q:.*]] = linalg.generic {{.*}} ins(%arg0, %[[S]] : tensor<?x2x?x4xf32>, tensor<?x2x?x1xf32>) outs({{.*}} : tensor<?x2x?x4xi8>)
// INT8: arith.divf
// INT8: math.roundeven
// INT8: arith.maxnumf
// INT8: arith.minnumf
// INT8: arith.fptosi
// INT8: arith.trunci
// INT8: %[[UQ:.*]] = tensor.insert_slice %[[Q]] into %arg2[0, 0, %[[P:.*]], 0]
// INT8: %[[US:.*]] = tensor.insert_slice %[[S]] into %arg3[0, 0, %[[P]], 0]
// INT8: %[[RQ:.*]] = tensor.extract_slice %[[UQ]][0, 0, 0, 0]
// INT8: %[[RS:.*]] = tensor.extract_slice %[[US]][0, 0, 0, 0] [%{{.*}}, 2, %{{.*}}, 1]
// INT8: linalg.generic {{.*}} ins(%[[RQ]], %[[RS]] : tensor<?x2x?x4xi8>, tensor<?x2x?x1xf32>)
// INT8-NEXT: ^bb0(%[[QE:.*]]: i8, %[[SE:.*]]: f32,
// INT8-NEXT: %[[F:.*]] = arith.sitofp %[[QE]] : i8 to f32
// INT8-NEXT: %[[D:.*]] = arith.mulf %[[F]], %[[SE]]
// INT8-NEXT: arith.negf %[[D]]
// INT8-NOT: qopt.kv_dequant
// INT8: return {{.*}} : tensor<?x2x?x4xf32>

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
// ERR8: error: --kv-cache=int8: output 'present.0.key' is not input 'past_key_values.0.key' concatenated with the new tokens along a dynamic axis
func.func @main(%past: tensor<1x2x?x4xf32> {qopt.name = "past_key_values.0.key"})
    -> (tensor<1x2x?x4xf32> {qopt.name = "present.0.key"}) {
  return %past : tensor<1x2x?x4xf32>
}

// -----

// int8: attention's QK^T contraction reads the int8 keys and their scales
// (the dequantization fused into the reduction).
// INT8-LABEL: func.func @main
// INT8: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%arg0, %{{.*}}, %{{.*}} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xi8>, tensor<1x2x?x1xf32>)
// INT8-NEXT: ^bb0(%[[QV:.*]]: f32, %[[KQ:.*]]: i8, %[[KS:.*]]: f32, %[[ACC:.*]]: f32):
// INT8-NEXT: %[[KF:.*]] = arith.sitofp %[[KQ]] : i8 to f32
// INT8-NEXT: %[[K:.*]] = arith.mulf %[[KF]], %[[KS]]
// INT8-NEXT: %[[M:.*]] = arith.mulf %[[QV]], %[[K]]
// INT8-NEXT: arith.addf %[[ACC]], %[[M]]
#qk_q = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#qk_k = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#qk_o = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
func.func @main(%q: tensor<1x2x?x4xf32> {qopt.name = "q", qopt.dim_names = ["", "", "sequence_length", ""]},
                %mask: tensor<1x?xi64> {qopt.name = "attention_mask", qopt.dim_names = ["", "total_sequence_length"]},
                %past: tensor<1x2x?x4xf32> {qopt.name = "past_key_values.0.key", qopt.dim_names = ["", "", "past_sequence_length", ""]})
    -> (tensor<1x2x?x?xf32> {qopt.name = "scores"},
        tensor<1x2x?x4xf32> {qopt.name = "present.0.key", qopt.dim_names = ["", "", "total_sequence_length", ""]}) {
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %s = tensor.dim %q, %c2 : tensor<1x2x?x4xf32>
  %p = tensor.dim %past, %c2 : tensor<1x2x?x4xf32>
  %t = arith.addi %p, %s : index
  %e = tensor.empty(%t) : tensor<1x2x?x4xf32>
  %a = tensor.insert_slice %past into %e[0, 0, 0, 0] [1, 2, %p, 4] [1, 1, 1, 1] : tensor<1x2x?x4xf32> into tensor<1x2x?x4xf32>
  %present = tensor.insert_slice %q into %a[0, 0, %p, 0] [1, 2, %s, 4] [1, 1, 1, 1] : tensor<1x2x?x4xf32> into tensor<1x2x?x4xf32>
  %o = tensor.empty(%s, %t) : tensor<1x2x?x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%o : tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %sc = linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %present : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) outs(%z : tensor<1x2x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x?x?xf32>
  return %sc, %present : tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32>
}

// -----

// int8: another reader of the past sees the dequantized past prefix
// [0, total - new) of the int8 cache and its scales.
// INT8-LABEL: func.func @main
// INT8: %[[P:.*]] = arith.subi
// INT8: %[[PQ:.*]] = tensor.extract_slice %arg2[0, 0, 0, 0] [1, 2, %[[P]], 4] [1, 1, 1, 1] : tensor<1x2x?x4xi8> to tensor<1x2x?x4xi8>
// INT8: %[[PS:.*]] = tensor.extract_slice %arg3[0, 0, 0, 0] [1, 2, %[[P]], 1] [1, 1, 1, 1] : tensor<1x2x?x1xf32> to tensor<1x2x?x1xf32>
// INT8: linalg.generic {{.*}} ins(%[[PQ]], %[[PS]] : tensor<1x2x?x4xi8>, tensor<1x2x?x1xf32>)
// INT8-NEXT: ^bb0(%[[Q0:.*]]: i8, %[[S0:.*]]: f32,
// INT8-NEXT: %[[F0:.*]] = arith.sitofp %[[Q0]] : i8 to f32
// INT8-NEXT: %[[D0:.*]] = arith.mulf %[[F0]], %[[S0]]
// INT8-NEXT: arith.negf %[[D0]]
func.func @main(%new: tensor<1x2x?x4xf32> {qopt.name = "new", qopt.dim_names = ["", "", "sequence_length", ""]},
                %mask: tensor<1x?xi64> {qopt.name = "attention_mask", qopt.dim_names = ["", "total_sequence_length"]},
                %past: tensor<1x2x?x4xf32> {qopt.name = "past_key_values.0.key", qopt.dim_names = ["", "", "past_sequence_length", ""]})
    -> (tensor<1x2x?x4xf32> {qopt.name = "neg_past"},
        tensor<1x2x?x4xf32> {qopt.name = "present.0.key", qopt.dim_names = ["", "", "total_sequence_length", ""]}) {
  %c2 = arith.constant 2 : index
  %s = tensor.dim %new, %c2 : tensor<1x2x?x4xf32>
  %p = tensor.dim %past, %c2 : tensor<1x2x?x4xf32>
  %t = arith.addi %p, %s : index
  %e = tensor.empty(%t) : tensor<1x2x?x4xf32>
  %a = tensor.insert_slice %past into %e[0, 0, 0, 0] [1, 2, %p, 4] [1, 1, 1, 1] : tensor<1x2x?x4xf32> into tensor<1x2x?x4xf32>
  %present = tensor.insert_slice %new into %a[0, 0, %p, 0] [1, 2, %s, 4] [1, 1, 1, 1] : tensor<1x2x?x4xf32> into tensor<1x2x?x4xf32>
  %o = tensor.empty(%p) : tensor<1x2x?x4xf32>
  %neg = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%past : tensor<1x2x?x4xf32>) outs(%o : tensor<1x2x?x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<1x2x?x4xf32>
  return %neg, %present : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>
}
