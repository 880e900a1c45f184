// RUN: qopt-opt %s | FileCheck %s
// RUN: qopt-opt %s | qopt-opt | FileCheck %s
// RUN: qopt-opt %s --mlir-print-op-generic | qopt-opt | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[A:.*]]: tensor<2xf32> {qopt.name = "a"}, %[[B:.*]]: tensor<*xui8>)
// CHECK-SAME: -> (!qonnx.value {qopt.name = "y"}, tensor<2xf32>)
func.func @main(%a: tensor<2xf32> {qopt.name = "a"}, %b: tensor<*xui8>)
    -> (!qonnx.value {qopt.name = "y"}, tensor<2xf32>) {
  // CHECK: %[[N:.*]] = qonnx.none
  %none = qonnx.none
  // CHECK: %[[C:.*]] = qonnx.node "Constant"() {attrs = {value = dense<1.000000e+00> : tensor<2xf32>}, domain = "", name = "c", opset = 17 : i64} : () -> tensor<2xf32>
  %c = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c",
         attrs = {value = dense<1.0> : tensor<2xf32>}} : () -> tensor<2xf32>
  // CHECK: %[[ADD:.*]] = qonnx.node "Add"(%[[A]], %[[C]]) {attrs = {}, domain = "", name = "add0", opset = 17 : i64} : (tensor<2xf32>, tensor<2xf32>) -> !qonnx.value
  %y = qonnx.node "Add"(%a, %c) {domain = "", opset = 17 : i64, name = "add0",
         attrs = {}} : (tensor<2xf32>, tensor<2xf32>) -> !qonnx.value
  // CHECK: %[[D:.*]]:2 = qonnx.node "Dropout"(%[[ADD]], %[[N]], %[[N]])
  // CHECK-SAME: {attrs = {seed = 3 : i64}, domain = "", name = "d", opset = 17 : i64}
  // CHECK-SAME: : (!qonnx.value, none, none) -> (tensor<2xf32>, !qonnx.value)
  %d:2 = qonnx.node "Dropout"(%y, %none, %none) {domain = "", opset = 17 : i64,
           name = "d", attrs = {seed = 3 : i64}}
           : (!qonnx.value, none, none) -> (tensor<2xf32>, !qonnx.value)
  // CHECK: qonnx.node "Foo"(%[[B]]) {attrs = {fs = array<f32: 5.000000e-01>, is = array<i64: 1, 2>, ss = ["x"]}, domain = "com.microsoft", name = "", opset = 1 : i64} : (tensor<*xui8>) -> ()
  qonnx.node "Foo"(%b) {domain = "com.microsoft", opset = 1 : i64, name = "",
    attrs = {is = array<i64: 1, 2>, fs = array<f32: 0.5>, ss = ["x"]}}
    : (tensor<*xui8>) -> ()
  // CHECK: return %[[ADD]], %[[D]]#0
  return %y, %d#0 : !qonnx.value, tensor<2xf32>
}
