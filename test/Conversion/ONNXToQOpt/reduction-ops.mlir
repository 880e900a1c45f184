// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @mean_f32
// CHECK-SAME: -> (tensor<2x1xf32>
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%{{.*}} : tensor<2xf32>)
// CHECK: %[[S:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} outs(%[[F]] : tensor<2xf32>)
// CHECK: arith.addf
// CHECK: %[[E:.*]] = tensor.expand_shape %[[S]] {{\[\[}}0, 1]] output_shape [2, 1]
// CHECK: %[[N:.*]] = arith.constant 3.000000e+00 : f32
// CHECK: linalg.generic {{.*}} ins(%[[E]] : tensor<2x1xf32>)
// CHECK: arith.divf %{{.*}}, %[[N]] : f32

func.func @mean_f32(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ReduceMean"(%x) {domain = "", opset = 17 : i64, name = "r", attrs = {axes = array<i64: -1>, keepdims = 1 : i64}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @sum_axes_input
// CHECK-SAME: -> (tensor<3xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "reduction"]
// CHECK: arith.addf
// CHECK-NOT: expand_shape
// CHECK: return %{{.*}} : tensor<3xf32>

func.func @sum_axes_input(%x: tensor<2x3x4xf32> {qopt.name = "x"}) -> !qonnx.value {
  %a = qonnx.node "Constant"() {domain = "", opset = 13 : i64, name = "a", attrs = {value = dense<[2, 0]> : tensor<2xi64>}} : () -> tensor<2xi64>
  %y = qonnx.node "ReduceSum"(%x, %a) {domain = "", opset = 13 : i64, name = "r", attrs = {keepdims = 0 : i64}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @sum_noop
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>
// CHECK-NEXT: return %[[X]] : tensor<2x3xf32>

func.func @sum_noop(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %n = qonnx.none
  %y = qonnx.node "ReduceSum"(%x, %n) {domain = "", opset = 13 : i64, name = "r", attrs = {noop_with_empty_axes = 1 : i64}} : (tensor<2x3xf32>, none) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @sum_all
// CHECK-SAME: -> (tensor<f32>
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]

func.func @sum_all(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ReduceSum"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {keepdims = 0 : i64}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @max_i32
// CHECK-SAME: -> (tensor<1x1xi32>
// CHECK: arith.constant -2147483648 : i32
// CHECK: arith.maxsi
// CHECK: return %{{.*}} : tensor<1x1xi32>

func.func @max_i32(%x: tensor<2x3xi32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ReduceMax"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {}} : (tensor<2x3xi32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @min_u8
// CHECK-SAME: -> (tensor<i8> {qopt.dtype = 2 : i32
// CHECK: arith.constant -1 : i8
// CHECK: arith.minui

func.func @min_u8(%x: tensor<4xui8> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ReduceMin"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {keepdims = 0 : i64}} : (tensor<4xui8>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @l2_f16
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f16, %[[ACC:.*]]: f32):
// CHECK: %[[X:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK: arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16

func.func @l2_f16(%x: tensor<3x2xf16> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ReduceL2"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {axes = array<i64: 0>, keepdims = 0 : i64}} : (tensor<3x2xf16>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @logsumexp18
// CHECK-SAME: -> (tensor<3xf32>
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: math.log

func.func @logsumexp18(%x: tensor<3x2xf32> {qopt.name = "x"}) -> !qonnx.value {
  %a = qonnx.node "Constant"() {domain = "", opset = 18 : i64, name = "a", attrs = {value = dense<1> : tensor<1xi64>}} : () -> tensor<1xi64>
  %y = qonnx.node "ReduceLogSumExp"(%x, %a) {domain = "", opset = 18 : i64, name = "r", attrs = {keepdims = 0 : i64}} : (tensor<3x2xf32>, tensor<1xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @mean_i32
// CHECK: arith.sitofp %{{.*}} : i32 to f64
// CHECK: arith.addf %{{.*}} : f64
// CHECK: %[[N:.*]] = arith.constant 4.000000e+00 : f64
// CHECK: arith.divf %{{.*}}, %[[N]] : f64
// CHECK: arith.fptosi %{{.*}} : f64 to i32

func.func @mean_i32(%x: tensor<4xi32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ReduceMean"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {keepdims = 0 : i64}} : (tensor<4xi32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @l1_sumsquare_logsum
// CHECK: math.absi %{{.*}} : i8
// CHECK: arith.addi
// CHECK: %[[SQ:.*]] = arith.mulf %[[V:.*]], %[[V]] : f32
// CHECK: arith.addf %{{.*}}, %[[SQ]]
// CHECK: arith.addf
// CHECK: math.log

func.func @l1_sumsquare_logsum(%x: tensor<4xi8> {qopt.name = "x"}, %f: tensor<4xf32> {qopt.name = "f"}) -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %a = qonnx.node "ReduceL1"(%x) {domain = "", opset = 13 : i64, name = "a", attrs = {keepdims = 0 : i64}} : (tensor<4xi8>) -> !qonnx.value
  %b = qonnx.node "ReduceSumSquare"(%f) {domain = "", opset = 13 : i64, name = "b", attrs = {keepdims = 0 : i64}} : (tensor<4xf32>) -> !qonnx.value
  %c = qonnx.node "ReduceLogSum"(%f) {domain = "", opset = 13 : i64, name = "c", attrs = {keepdims = 0 : i64}} : (tensor<4xf32>) -> !qonnx.value
  return %a, %b, %c : !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// CHECK-LABEL: func.func @fold
// CHECK-NOT: linalg.generic
// CHECK-DAG: arith.constant dense<[6.000000e+00, 1.200000e+02]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<{{\[\[}}2.500000e+00, 3.500000e+00, 4.500000e+00]]> : tensor<1x3xf32>
// CHECK-DAG: arith.constant dense<[-56, -4]> : tensor<2xi8>
// CHECK-DAG: arith.constant dense<1> : tensor<1x2xi64>
// CHECK-NOT: linalg.generic
// CHECK: return

func.func @fold(%x: tensor<2xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value) {
  %c = qonnx.node "Constant"() {domain = "", opset = 13 : i64, name = "c", attrs = {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>}} : () -> tensor<2x3xf32>
  %i = qonnx.node "Constant"() {domain = "", opset = 13 : i64, name = "i", attrs = {value = dense<[[100, 100], [-7, 3]]> : tensor<2x2xi8>}} : () -> tensor<2x2xi8>
  %p = qonnx.node "ReduceProd"(%c) {domain = "", opset = 13 : i64, name = "p", attrs = {axes = array<i64: 1>, keepdims = 0 : i64}} : (tensor<2x3xf32>) -> !qonnx.value
  %m = qonnx.node "ReduceMean"(%c) {domain = "", opset = 13 : i64, name = "m", attrs = {axes = array<i64: 0>}} : (tensor<2x3xf32>) -> !qonnx.value
  %s = qonnx.node "ReduceSum"(%i) {domain = "", opset = 11 : i64, name = "s", attrs = {axes = array<i64: 1>, keepdims = 0 : i64}} : (tensor<2x2xi8>) -> !qonnx.value
  %a = qonnx.node "ArgMin"(%i) {domain = "", opset = 13 : i64, name = "am", attrs = {axis = 0 : i64}} : (tensor<2x2xi8>) -> !qonnx.value
  return %p, %m, %s, %a : !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// CHECK-LABEL: func.func @argmax_last
// CHECK-SAME: -> (tensor<2xi64> {qopt.dtype = 7 : i32
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: %[[G:.*]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: ^bb0(%[[IN:.*]]: f32, %[[BEST:.*]]: f32, %[[BI:.*]]: i64):
// CHECK: %[[GE:.*]] = arith.cmpf oge, %[[IN]], %[[BEST]] : f32
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[IN]], %[[IN]] : f32
// CHECK: %[[T:.*]] = arith.ori %[[GE]], %[[NAN]] : i1
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[NB:.*]] = arith.select %[[T]], %[[IN]], %[[BEST]] : f32
// CHECK: %[[NI:.*]] = arith.select %[[T]], %[[I64]], %[[BI]] : i64
// CHECK: linalg.yield %[[NB]], %[[NI]]
// CHECK: return %[[G]]#1 : tensor<2xi64>

func.func @argmax_last(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ArgMax"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {axis = -1 : i64, keepdims = 0 : i64, select_last_index = 1 : i64}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// CHECK-LABEL: func.func @argmin_i64
// CHECK-SAME: -> (tensor<1x3xi64>
// CHECK: arith.constant 9223372036854775807 : i64
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: arith.cmpi slt
// CHECK: linalg.index 0
// CHECK: tensor.expand_shape %{{.*}}#1 {{\[\[}}0, 1]] output_shape [1, 3]

func.func @argmin_i64(%x: tensor<2x3xi64> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "ArgMin"(%x) {domain = "", opset = 13 : i64, name = "r", attrs = {}} : (tensor<2x3xi64>) -> !qonnx.value
  return %y : !qonnx.value
}
