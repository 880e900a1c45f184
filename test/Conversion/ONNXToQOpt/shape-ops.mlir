// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file | FileCheck %s

// Reshape with 0 (copy) and -1 (infer).
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: -> (tensor<2x3x4xf32>
// CHECK: tensor.expand_shape
func.func @reshape(%x: tensor<2x12xf32> {qopt.name = "x"}) -> !qonnx.value {
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c", attrs = {value = dense<[0, 3, -1]> : tensor<3xi64>}} : () -> tensor<3xi64>
  %y = qonnx.node "Reshape"(%x, %s) {domain = "", opset = 17 : i64, name = "r", attrs = {}} : (tensor<2x12xf32>, tensor<3xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// The Shape -> Gather -> Unsqueeze -> Concat chain folds to a constant.
// CHECK-LABEL: func.func @shape_chain
// CHECK-NOT: linalg
// CHECK: arith.constant dense<[2, -1]> : tensor<2xi64>
// CHECK-NOT: linalg
// CHECK: return
func.func @shape_chain(%x: tensor<2x3x4xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %sh = qonnx.node "Shape"(%x) {domain = "", opset = 17 : i64, name = "s", attrs = {}} : (tensor<2x3x4xf32>) -> !qonnx.value
  %c0 = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c", attrs = {value = dense<0> : tensor<i64>}} : () -> tensor<i64>
  %g = qonnx.node "Gather"(%sh, %c0) {domain = "", opset = 17 : i64, name = "g", attrs = {axis = 0 : i64}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %u = qonnx.node "Unsqueeze"(%g, %c0) {domain = "", opset = 17 : i64, name = "u", attrs = {}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %m1 = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "m1", attrs = {value = dense<[-1]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %cat = qonnx.node "Concat"(%u, %m1) {domain = "", opset = 17 : i64, name = "cat", attrs = {axis = 0 : i64}} : (!qonnx.value, tensor<1xi64>) -> !qonnx.value
  %r = qonnx.node "Reshape"(%x, %cat) {domain = "", opset = 17 : i64, name = "r", attrs = {}} : (tensor<2x3x4xf32>, !qonnx.value) -> !qonnx.value
  return %cat, %r : !qonnx.value, !qonnx.value
}

// -----

// Shape (opset 15 start/end), Size, ConstantOfShape, Range, Cast fold.
// CHECK-LABEL: func.func @folds
// CHECK-DAG: arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-DAG: arith.constant dense<24> : tensor<i64>
// CHECK-DAG: arith.constant dense<7> : tensor<3x4xi32>
// CHECK-DAG: arith.constant dense<[10, 7, 4]> : tensor<3xi32>
// CHECK-DAG: arith.constant dense<[1.000000e+01, 7.000000e+00, 4.000000e+00]> : tensor<3xf32>
// CHECK-NOT: linalg
func.func @folds(%x: tensor<2x3x4xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value) {
  %sh = qonnx.node "Shape"(%x) {domain = "", opset = 15 : i64, name = "s", attrs = {start = -2 : i64}} : (tensor<2x3x4xf32>) -> !qonnx.value
  %n = qonnx.node "Size"(%x) {domain = "", opset = 13 : i64, name = "n", attrs = {}} : (tensor<2x3x4xf32>) -> !qonnx.value
  %f = qonnx.node "ConstantOfShape"(%sh) {domain = "", opset = 9 : i64, name = "f", attrs = {value = dense<7> : tensor<1xsi32>}} : (!qonnx.value) -> !qonnx.value
  %a = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "a", attrs = {value = dense<10> : tensor<si32>}} : () -> tensor<si32>
  %b = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "b", attrs = {value = dense<3> : tensor<si32>}} : () -> tensor<si32>
  %d = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "d", attrs = {value = dense<-3> : tensor<si32>}} : () -> tensor<si32>
  %r = qonnx.node "Range"(%a, %b, %d) {domain = "", opset = 11 : i64, name = "r", attrs = {}} : (tensor<si32>, tensor<si32>, tensor<si32>) -> !qonnx.value
  %c = qonnx.node "Cast"(%r) {domain = "", opset = 13 : i64, name = "cast", attrs = {to = 1 : i64}} : (!qonnx.value) -> !qonnx.value
  return %sh, %n, %f, %r, %c : !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// Slice with negative step on a non-constant input: a gather generic;
// positive steps: tensor.extract_slice. Old-opset Slice takes attributes.
// CHECK-LABEL: func.func @slice
// CHECK: linalg.generic
// CHECK: arith.muli %{{.*}}, %c-2
// CHECK: tensor.extract %arg0
// CHECK: tensor.extract_slice %arg0[0, 1, 0] [2, 2, 4] [1, 1, 1]
func.func @slice(%x: tensor<2x3x4xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %st = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "st", attrs = {value = dense<[-1]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %en = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "en", attrs = {value = dense<[-100]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %ax = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "ax", attrs = {value = dense<[2]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %sp = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "sp", attrs = {value = dense<[-2]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %a = qonnx.node "Slice"(%x, %st, %en, %ax, %sp) {domain = "", opset = 13 : i64, name = "a", attrs = {}} : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> !qonnx.value
  %b = qonnx.node "Slice"(%x) {domain = "", opset = 1 : i64, name = "b", attrs = {starts = array<i64: 1>, ends = array<i64: 1000>, axes = array<i64: 1>}} : (tensor<2x3x4xf32>) -> !qonnx.value
  return %a, %b : !qonnx.value, !qonnx.value
}

// -----

// Slice of a constant folds (negative step, clamped ends).
// CHECK-LABEL: func.func @slice_fold
// CHECK: arith.constant dense<[5, 3, 1]> : tensor<3xi64>
func.func @slice_fold() -> !qonnx.value {
  %x = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "x", attrs = {value = dense<[0, 1, 2, 3, 4, 5]> : tensor<6xi64>}} : () -> tensor<6xi64>
  %st = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "st", attrs = {value = dense<[100]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %en = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "en", attrs = {value = dense<[-100]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %ax = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "ax", attrs = {value = dense<[0]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %sp = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "sp", attrs = {value = dense<[-2]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %a = qonnx.node "Slice"(%x, %st, %en, %ax, %sp) {domain = "", opset = 13 : i64, name = "a", attrs = {}} : (tensor<6xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> !qonnx.value
  return %a : !qonnx.value
}

// -----

// Squeeze/Unsqueeze: axes as attribute (opset 11) and as input (opset 13).
// CHECK-LABEL: func.func @squeeze
// CHECK-SAME: -> (tensor<3x4xf32> {{.*}}, tensor<1x3x4x1xf32> {{.*}}, tensor<3x1x1x4xf32>
func.func @squeeze(%x: tensor<3x1x4xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %s = qonnx.node "Squeeze"(%x) {domain = "", opset = 11 : i64, name = "s", attrs = {axes = array<i64: -2>}} : (tensor<3x1x4xf32>) -> !qonnx.value
  %ax = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "ax", attrs = {value = dense<[0, -1]> : tensor<2xi64>}} : () -> tensor<2xi64>
  %u = qonnx.node "Unsqueeze"(%s, %ax) {domain = "", opset = 13 : i64, name = "u", attrs = {}} : (!qonnx.value, tensor<2xi64>) -> !qonnx.value
  %u2 = qonnx.node "Unsqueeze"(%x) {domain = "", opset = 11 : i64, name = "u2", attrs = {axes = array<i64: 1>}} : (tensor<3x1x4xf32>) -> !qonnx.value
  return %s, %u, %u2 : !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// Split with 'split' input, Split-18 num_outputs (uneven), Transpose default.
// CHECK-LABEL: func.func @split
// CHECK-DAG: tensor.extract_slice %arg0[0, 0] [2, 1]
// CHECK-DAG: tensor.extract_slice %arg0[0, 1] [2, 4]
// CHECK-DAG: tensor.extract_slice %arg0[0, 0] [2, 2]
// CHECK-DAG: tensor.extract_slice %arg0[0, 4] [2, 1]
// CHECK: linalg.transpose ins(%arg0 : tensor<2x5xf32>) outs(%{{.*}} : tensor<5x2xf32>) permutation = [1, 0]
func.func @split(%x: tensor<2x5xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value) {
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c", attrs = {value = dense<[1, 4]> : tensor<2xi64>}} : () -> tensor<2xi64>
  %a:2 = qonnx.node "Split"(%x, %s) {domain = "", opset = 13 : i64, name = "a", attrs = {axis = 1 : i64}} : (tensor<2x5xf32>, tensor<2xi64>) -> (!qonnx.value, !qonnx.value)
  %b:3 = qonnx.node "Split"(%x) {domain = "", opset = 18 : i64, name = "b", attrs = {axis = -1 : i64, num_outputs = 3 : i64}} : (tensor<2x5xf32>) -> (!qonnx.value, !qonnx.value, !qonnx.value)
  %t = qonnx.node "Transpose"(%x) {domain = "", opset = 13 : i64, name = "t", attrs = {}} : (tensor<2x5xf32>) -> !qonnx.value
  return %a#0, %a#1, %b#0, %b#2, %t, %b#1 : !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// Gather with runtime indices: linalg.generic + tensor.extract with wrapped,
// clamped index. Constant scalar index: a slice.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic
// CHECK: arith.index_cast
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: tensor.extract %arg0
// CHECK: tensor.extract_slice %arg0[0, 2, 0] [2, 1, 4]
func.func @gather(%x: tensor<2x3x4xf32> {qopt.name = "x"}, %i: tensor<5xi32> {qopt.name = "i"}) -> (!qonnx.value, !qonnx.value) {
  %g = qonnx.node "Gather"(%x, %i) {domain = "", opset = 13 : i64, name = "g", attrs = {axis = 1 : i64}} : (tensor<2x3x4xf32>, tensor<5xi32>) -> !qonnx.value
  %c = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c", attrs = {value = dense<-1> : tensor<i64>}} : () -> tensor<i64>
  %h = qonnx.node "Gather"(%x, %c) {domain = "", opset = 13 : i64, name = "h", attrs = {axis = 1 : i64}} : (tensor<2x3x4xf32>, tensor<i64>) -> !qonnx.value
  return %g, %h : !qonnx.value, !qonnx.value
}

// -----

// Pad: constant mode (fill + insert_slice), reflect (gather generic).
// CHECK-LABEL: func.func @pad
// CHECK: linalg.fill
// CHECK: tensor.insert_slice %arg0 into %{{.*}}[1, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<3x5xf32>
// CHECK: linalg.generic
// CHECK: tensor.extract %arg0
func.func @pad(%x: tensor<2x3xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %p = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "p", attrs = {value = dense<[1, 0, 0, 2]> : tensor<4xi64>}} : () -> tensor<4xi64>
  %v = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "v", attrs = {value = dense<1.5> : tensor<f32>}} : () -> tensor<f32>
  %a = qonnx.node "Pad"(%x, %p, %v) {domain = "", opset = 13 : i64, name = "a", attrs = {}} : (tensor<2x3xf32>, tensor<4xi64>, tensor<f32>) -> !qonnx.value
  %b = qonnx.node "Pad"(%x) {domain = "", opset = 2 : i64, name = "b", attrs = {mode = "reflect", pads = array<i64: 1, 0, 0, 2>}} : (tensor<2x3xf32>) -> !qonnx.value
  return %a, %b : !qonnx.value, !qonnx.value
}

// -----

// Where broadcasts three operands; Expand and Tile are broadcasts.
// CHECK-LABEL: func.func @where
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK: -> tensor<2x3xf32>
func.func @where(%c: tensor<2x1xi1> {qopt.name = "c"}, %x: tensor<3xf32> {qopt.name = "x"}, %y: tensor<f32> {qopt.name = "y"}) -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %w = qonnx.node "Where"(%c, %x, %y) {domain = "", opset = 16 : i64, name = "w", attrs = {}} : (tensor<2x1xi1>, tensor<3xf32>, tensor<f32>) -> !qonnx.value
  %s = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "s", attrs = {value = dense<[4, 1, 3]> : tensor<3xi64>}} : () -> tensor<3xi64>
  %e = qonnx.node "Expand"(%x, %s) {domain = "", opset = 13 : i64, name = "e", attrs = {}} : (tensor<3xf32>, tensor<3xi64>) -> !qonnx.value
  %r = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "r", attrs = {value = dense<[2]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %t = qonnx.node "Tile"(%x, %r) {domain = "", opset = 13 : i64, name = "t", attrs = {}} : (tensor<3xf32>, tensor<1xi64>) -> !qonnx.value
  return %w, %e, %t : !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// Dropout (inference) is the identity; the mask is all true.
// CHECK-LABEL: func.func @dropout
// CHECK: %[[T:.*]] = arith.constant dense<true> : tensor<2xi1>
// CHECK: return %arg0, %[[T]]
func.func @dropout(%x: tensor<2xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %y:2 = qonnx.node "Dropout"(%x) {domain = "", opset = 13 : i64, name = "d", attrs = {}} : (tensor<2xf32>) -> (!qonnx.value, !qonnx.value)
  return %y#0, %y#1 : !qonnx.value, !qonnx.value
}

// -----

// Trilu and EyeLike, CumSum and DepthToSpace of constants fold.
// CHECK-LABEL: func.func @const_misc
// CHECK-DAG: arith.constant dense<{{\[}}[1, 2, 0], [4, 5, 6]]> : tensor<2x3xi64>
// CHECK-DAG: arith.constant dense<{{\[}}[0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: arith.constant dense<{{\[}}[5, 3, 0], [11, 6, 0]]> : tensor<2x3xi64>
func.func @const_misc() -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %x = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "x", attrs = {value = dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>}} : () -> tensor<2x3xi64>
  %k = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "k", attrs = {value = dense<1> : tensor<i64>}} : () -> tensor<i64>
  %t = qonnx.node "Trilu"(%x, %k) {domain = "", opset = 14 : i64, name = "t", attrs = {upper = 0 : i64}} : (tensor<2x3xi64>, tensor<i64>) -> !qonnx.value
  %e = qonnx.node "EyeLike"(%x) {domain = "", opset = 9 : i64, name = "e", attrs = {k = 1 : i64, dtype = 1 : i64}} : (tensor<2x3xi64>) -> !qonnx.value
  %c = qonnx.node "CumSum"(%x, %k) {domain = "", opset = 14 : i64, name = "c", attrs = {exclusive = 1 : i64, reverse = 1 : i64}} : (tensor<2x3xi64>, tensor<i64>) -> !qonnx.value
  return %t, %e, %c : !qonnx.value, !qonnx.value, !qonnx.value
}
