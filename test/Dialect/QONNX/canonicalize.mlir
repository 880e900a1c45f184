// RUN: qopt-opt %s --canonicalize | FileCheck %s

// qonnx.none is Pure: an unused one is erased. qonnx.node has no
// side-effect information, so it is kept even when its results are unused.
// CHECK-LABEL: func.func @unused
// CHECK-NOT: qonnx.none
// CHECK: qonnx.node "Relu"
// CHECK-NEXT: qonnx.node "Print"
// CHECK-NEXT: return
func.func @unused(%a: tensor<2xf32>) {
  %none = qonnx.none
  %y = qonnx.node "Relu"(%a) {domain = "", opset = 17 : i64, name = "r",
         attrs = {}} : (tensor<2xf32>) -> !qonnx.value
  qonnx.node "Print"(%a) {domain = "com.x", opset = 1 : i64, name = "p",
    attrs = {}} : (tensor<2xf32>) -> ()
  return
}

// Identical qonnx.none values are not CSE'd by canonicalize, but uses stay.
// CHECK-LABEL: func.func @used
// CHECK: %[[N:.*]] = qonnx.none
// CHECK: qonnx.node "Clip"(%{{.*}}, %[[N]], %{{.*}})
func.func @used(%a: tensor<2xf32>) -> !qonnx.value {
  %none = qonnx.none
  %y = qonnx.node "Clip"(%a, %none, %none) {domain = "", opset = 17 : i64,
         name = "c", attrs = {}} : (tensor<2xf32>, none, none) -> !qonnx.value
  return %y : !qonnx.value
}
