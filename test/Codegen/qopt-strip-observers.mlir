// RUN: qopt-opt %s --qopt-strip-observers | FileCheck %s

// CHECK-LABEL: func @probes
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT: qopt.observe
// CHECK: %[[Y:.*]] = qopt.matmul %[[X]], %[[X]]
// CHECK: return %[[Y]], %[[X]]
func.func @probes(%x: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>) {
  %o = qopt.observe %x {id = 0 : i64, label = "mm.in"} : tensor<4xf32>
  %y = qopt.matmul %o, %o : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  %p = qopt.observe %y {id = 1 : i64, label = "mm.out"} : tensor<f32>
  %q = qopt.observe %o {id = 2 : i64, label = "again"} : tensor<4xf32>
  return %y, %q : tensor<f32>, tensor<4xf32>
}
