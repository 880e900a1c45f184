// RUN: qopt-opt %s --qopt-smoothquant --split-input-file --verify-diagnostics | FileCheck %s
// RUN: qopt-opt %s --qopt-smoothquant="alpha=1.0" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=A1
// RUN: qopt-opt %s --qopt-smoothquant="exclude=^q$" --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=EXCL
// RUN: not qopt-opt %s --qopt-smoothquant="alpha=2" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>

// RMSNorm tail x * gamma feeding q and k (shared factors). alpha 0.5:
// max|x| = [4, 1, 1, 0], max|W| over both weights = [1, 4, 1, 1] ->
// s = sqrt(max|x| / max|W|) = [2, 0.5, 1, 1] (channel 3 is dead: 1).
// gamma / s = [1, 4, 2, 2]; W rows times s.
// CHECK-LABEL: func @rmsnorm
// CHECK: %[[G:.*]] = arith.constant dense<[1.000000e+00, 4.000000e+00, 2.000000e+00, 2.000000e+00]> : tensor<4xf32>
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%arg0, %[[G]] : tensor<3x4xf32>, tensor<4xf32>)
// CHECK-DAG: %[[WQ:.*]] = arith.constant dense<{{\[\[}}2.000000e+00, 0.000000e+00], [2.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[WK:.*]] = arith.constant dense<{{\[\[}}-1.000000e+00], [5.000000e-01], [1.000000e+00], [1.000000e+00]]> : tensor<4x1xf32>
// CHECK: qopt.matmul %[[N]], %[[WQ]] {qopt.layer = "q", qopt.smooth_alpha = 5.000000e-01 : f64, qopt.smooth_fold = "norm"}
// CHECK: qopt.matmul %[[N]], %[[WK]] {qopt.layer = "k", qopt.smooth_alpha = 5.000000e-01 : f64, qopt.smooth_fold = "norm"}
// CHECK-NOT: qopt.act_absmax
// alpha 1: s = max|x| (dead channel 1) = [4, 1, 1, 1]; gamma / s = [0.5, 2, 2, 2].
// A1-LABEL: func @rmsnorm
// A1: arith.constant dense<[5.000000e-01, 2.000000e+00, 2.000000e+00, 2.000000e+00]> : tensor<4xf32>
// Excluding q: only k is smoothed (its own max|W| = [0.5, 1, 1, 1]:
// s = [2.83, 1, 1, 1]); the norm output also feeds q, so gamma stays and
// x / s is inserted in front of k.
// EXCL-LABEL: func @rmsnorm
// EXCL: arith.constant dense<2.000000e+00> : tensor<4xf32>
// EXCL: arith.constant dense<[2.82842708, 1.000000e+00, 1.000000e+00, 1.000000e+00]> : tensor<4xf32>
// EXCL: arith.divf
// EXCL: qopt.matmul {{.*}} {qopt.layer = "q"}
// EXCL: qopt.matmul {{.*}} {qopt.layer = "k", qopt.smooth_alpha = 5.000000e-01 : f64, qopt.smooth_fold = "input"}
// BAD: alpha must be in [0, 1], got 2
func.func @rmsnorm(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x1xf32>) {
  %g = arith.constant dense<2.0> : tensor<4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %n = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %g : tensor<3x4xf32>, tensor<4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<3x4xf32>
  %wq = arith.constant dense<[[1.0, 0.0], [4.0, 2.0], [1.0, 1.0], [1.0, 1.0]]> : tensor<4x2xf32>
  %wk = arith.constant dense<[[-0.5], [1.0], [1.0], [1.0]]> : tensor<4x1xf32>
  %q = qopt.matmul %n, %wq {qopt.layer = "q", qopt.act_absmax = dense<[4.0, 1.0, 1.0, 0.0]> : tensor<4xf32>} : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  %k = qopt.matmul %n, %wk {qopt.layer = "k", qopt.act_absmax = dense<[4.0, 1.0, 1.0, 0.0]> : tensor<4xf32>} : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %q, %k : tensor<3x2xf32>, tensor<3x1xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>

// LayerNorm tail x * gamma + beta: both divided by s = [2, 1] (max|x| =
// [4, 1], max|W| = [1, 1]).
// CHECK-LABEL: func @layernorm
// CHECK: %[[G:.*]] = arith.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%arg0, %[[G]] :
// CHECK: %[[B:.*]] = arith.constant dense<[1.500000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[B]] :
// CHECK: qopt.matmul %[[A]], %{{.*}} {qopt.layer = "fc", qopt.smooth_alpha = 5.000000e-01 : f64, qopt.smooth_fold = "norm"}
func.func @layernorm(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %g = arith.constant dense<1.0> : tensor<2xf32>
  %b = arith.constant dense<[3.0, -1.0]> : tensor<2xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %m = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %g : tensor<3x2xf32>, tensor<2xf32>) outs(%e : tensor<3x2xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %r = arith.mulf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %n = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<3x2xf32>, tensor<2xf32>) outs(%e : tensor<3x2xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %r = arith.addf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<3x2xf32>
  %w = arith.constant dense<[[1.0, 0.5], [1.0, -1.0]]> : tensor<2x2xf32>
  %y = qopt.matmul %n, %w {qopt.layer = "fc", qopt.act_absmax = dense<[4.0, 1.0]> : tensor<2xf32>} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// No norm in front (a function argument, or a norm whose output has other
// users): x / s is inserted before the matmul, s = [2, 1].
// CHECK-LABEL: func @no_norm
// CHECK: %[[S:.*]] = arith.constant dense<[2.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[XS:.*]] = linalg.generic {{.*}} ins(%arg0, %[[S]] : tensor<3x2xf32>, tensor<2xf32>)
// CHECK: arith.divf
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}2.000000e+00, 1.000000e+00], [1.000000e+00, -1.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.matmul %[[XS]], %[[W]] {qopt.layer = "fc", qopt.smooth_alpha = 5.000000e-01 : f64, qopt.smooth_fold = "input"}
// A matmul without statistics is untouched.
// CHECK: qopt.matmul %arg0, %{{.*}} {qopt.layer = "other"}
func.func @no_norm(%x: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %w = arith.constant dense<[[1.0, 0.5], [1.0, -1.0]]> : tensor<2x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "fc", qopt.act_absmax = dense<[4.0, 1.0]> : tensor<2xf32>} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %z = qopt.matmul %x, %w {qopt.layer = "other"} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y, %z : tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// qopt.smooth_alpha (from the auto search) overrides the option: alpha 0
// gives s = 1 / max|W| = [1, 0.5].
// CHECK-LABEL: func @alpha_attr
// CHECK: arith.constant dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK: qopt.smooth_alpha = 0.000000e+00 : f64
func.func @alpha_attr(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 0.5], [2.0, -1.0]]> : tensor<2x2xf32>
  %y = qopt.matmul %x, %w {qopt.layer = "fc", qopt.smooth_alpha = 0.0 : f64, qopt.act_absmax = dense<[4.0, 1.0]> : tensor<2xf32>} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @bad_stats(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  // expected-error @+1 {{qopt-smoothquant: layer 'fc': qopt.act_absmax must be an f32 tensor of 2 elements (one per input channel)}}
  %y = qopt.matmul %x, %w {qopt.layer = "fc", qopt.act_absmax = dense<[4.0, 1.0, 1.0]> : tensor<3xf32>} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
