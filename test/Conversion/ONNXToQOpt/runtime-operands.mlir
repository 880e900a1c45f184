// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file | FileCheck %s
// Shape operands given as graph inputs (RuntimeOperands.cpp,
// RuntimeResize.cpp): the dims they decide are `?` sizes computed from their
// values at run time; the ONNX backend tests check the numerics
// (test/conformance, default mode).

// Unsqueeze by a run-time axis: every output dim is a run-time size (1 where
// the axis points, else the next input dim), one reshape by a shape tensor.
// CHECK-LABEL: func.func @unsqueeze
// CHECK-SAME: -> (tensor<?x?x?xf32>
// CHECK: tensor.extract %arg1
// CHECK: %[[S:.*]] = tensor.from_elements %{{.*}}, %{{.*}}, %{{.*}} : tensor<3xindex>
// CHECK: tensor.reshape %{{.*}}(%[[S]]) : (tensor<?xf32>, tensor<3xindex>) -> tensor<?x?x?xf32>
func.func @unsqueeze(%x: tensor<3x4xf32> {qopt.name = "x"}, %a: tensor<1xi64> {qopt.name = "a"}) -> !qonnx.value {
  %y = qonnx.node "Unsqueeze"(%x, %a) {domain = "", opset = 13 : i64, name = "u", attrs = {}} : (tensor<3x4xf32>, tensor<1xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Slice with run-time axes and steps (of any sign): per dim a start, a
// length and a step chosen at run time; one generic reads
// x[start + i * step].
// CHECK-LABEL: func.func @slice
// CHECK-SAME: -> (tensor<?x?xf32>
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?x?xf32>)
// CHECK: arith.muli
// CHECK: arith.addi
// CHECK: tensor.extract %arg0
func.func @slice(%x: tensor<5x4xf32> {qopt.name = "x"}, %s: tensor<1xi64> {qopt.name = "s"}, %e: tensor<1xi64> {qopt.name = "e"}, %a: tensor<1xi64> {qopt.name = "a"}, %st: tensor<1xi64> {qopt.name = "st"}) -> !qonnx.value {
  %y = qonnx.node "Slice"(%x, %s, %e, %a, %st) {domain = "", opset = 13 : i64, name = "sl", attrs = {}} : (tensor<5x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Split by run-time sizes: offsets are their (clamped) prefix sums.
// CHECK-LABEL: func.func @split
// CHECK-SAME: -> (tensor<?xf32> {{.*}}, tensor<?xf32>
// CHECK: tensor.extract_slice %arg0[%{{.*}}] [%{{.*}}] [1] : tensor<6xf32> to tensor<?xf32>
// CHECK: tensor.extract_slice %arg0[%{{.*}}] [%{{.*}}] [1] : tensor<6xf32> to tensor<?xf32>
func.func @split(%x: tensor<6xf32> {qopt.name = "x"}, %s: tensor<2xi64> {qopt.name = "s"}) -> (!qonnx.value, !qonnx.value) {
  %a, %b = qonnx.node "Split"(%x, %s) {domain = "", opset = 13 : i64, name = "sp", attrs = {}} : (tensor<6xf32>, tensor<2xi64>) -> (!qonnx.value, !qonnx.value)
  return %a, %b : !qonnx.value, !qonnx.value
}

// -----

// CumSum's axis at run time: the result type does not depend on it, so
// there is one case per axis (each the static CumSum); an out-of-range axis
// gives the input.
// CHECK-LABEL: func.func @cumsum
// CHECK-SAME: -> (tensor<2x3xf32>
// CHECK: %[[R:.*]] = scf.index_switch %{{.*}} -> tensor<2x3xf32>
// CHECK: case 0 {
// CHECK: linalg.generic
// CHECK: case 1 {
// CHECK: linalg.generic
// CHECK: default {
// CHECK-NEXT: scf.yield %arg0
// CHECK: return %[[R]]
func.func @cumsum(%x: tensor<2x3xf32> {qopt.name = "x"}, %a: tensor<i32> {qopt.name = "a"}) -> !qonnx.value {
  %y = qonnx.node "CumSum"(%x, %a) {domain = "", opset = 14 : i64, name = "c", attrs = {}} : (tensor<2x3xf32>, tensor<i32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Resize by run-time scales: the length of each axis is floor(in * scale)
// in f64, and one generic per axis computes the source coordinate and the
// two linear taps in its body.
// CHECK-LABEL: func.func @resize
// CHECK-SAME: -> (tensor<?x?x?x?xf32>
// CHECK: %[[L:.*]] = math.floor %{{.*}} : f64
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x1x2x2xf32>)
// CHECK: math.floor %{{.*}} : f64
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x?x?xf32>)
func.func @resize(%x: tensor<1x1x2x2xf32> {qopt.name = "x"}, %sc: tensor<4xf32> {qopt.name = "sc"}) -> !qonnx.value {
  %n = qonnx.none
  %y = qonnx.node "Resize"(%x, %n, %sc) {domain = "", opset = 13 : i64, name = "r", attrs = {mode = "linear"}} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// ReduceSum with run-time axes (keepdims = 0): the output rank is known
// (3 - 1), which input dims remain is not: a loop adds every element into
// its output position.
// CHECK-LABEL: func.func @reduce_sum
// CHECK-SAME: -> (tensor<?x?xf32>
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: tensor.insert
func.func @reduce_sum(%x: tensor<2x3x4xf32> {qopt.name = "x"}, %a: tensor<1xi64> {qopt.name = "a"}) -> !qonnx.value {
  %y = qonnx.node "ReduceSum"(%x, %a) {domain = "", opset = 13 : i64, name = "rs", attrs = {keepdims = 0 : i64}} : (tensor<2x3x4xf32>, tensor<1xi64>) -> !qonnx.value
  return %y : !qonnx.value
}
