// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file --verify-diagnostics | FileCheck %s
// Index and data-dependent ops (IndexOps.cpp, DataDependentOps.cpp); their
// numerics are checked end to end in test/tools/index-ops-run.test.

// TopK with K from a graph input: the axis becomes `?`, min(max(K, 0), 8);
// one scan per row keeps the K best so far (insertion by an scf.while).
// CHECK-LABEL: func.func @topk_runtime_k
// CHECK-SAME: -> (tensor<3x?xf32> {{.*}}, tensor<3x?xi64>
// CHECK: %[[K:.*]] = tensor.extract %arg1[%c0] : tensor<1xi64>
// CHECK: %[[KI:.*]] = arith.index_cast %[[K]] : i64 to index
// CHECK: %[[KP:.*]] = affine.max #{{.*}}()[%[[KI]]]
// CHECK: %[[KC:.*]] = affine.min #{{.*}}()[%[[KP]]]
// CHECK: tensor.empty(%[[KC]]) : tensor<3x?xf32>
// CHECK: tensor.empty(%[[KC]]) : tensor<3x?xi64>
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.while
// CHECK: return {{.*}} : tensor<3x?xf32>, tensor<3x?xi64>
func.func @topk_runtime_k(%x: tensor<3x8xf32> {qopt.name = "x"}, %k: tensor<1xi64> {qopt.name = "k"}) -> (!qonnx.value, !qonnx.value) {
  %v, %i = qonnx.node "TopK"(%x, %k) {domain = "", opset = 11 : i64, name = "t", attrs = {axis = 1 : i64}} : (tensor<3x8xf32>, tensor<1xi64>) -> (!qonnx.value, !qonnx.value)
  return %v, %i : !qonnx.value, !qonnx.value
}

// -----

// A constant K gives a static dim.
// CHECK-LABEL: func.func @topk_const_k
// CHECK-SAME: -> (tensor<3x2xi32> {{.*}}, tensor<3x2xi64>
func.func @topk_const_k(%x: tensor<3x8xi32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %k = qonnx.node "Constant"() {domain = "", opset = 11 : i64, name = "k", attrs = {value = dense<[2]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %v, %i = qonnx.node "TopK"(%x, %k) {domain = "", opset = 11 : i64, name = "t", attrs = {largest = 0 : i64}} : (tensor<3x8xi32>, tensor<1xi64>) -> (!qonnx.value, !qonnx.value)
  return %v, %i : !qonnx.value, !qonnx.value
}

// -----

func.func @topk_too_large(%x: tensor<3x8xf32> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value) {
  %k = qonnx.node "Constant"() {domain = "", opset = 11 : i64, name = "k", attrs = {value = dense<[9]> : tensor<1xi64>}} : () -> tensor<1xi64>
  // expected-error @+1 {{node 't' (TopK, opset 11): K = 9 is larger than the axis size 8}}
  %v, %i = qonnx.node "TopK"(%x, %k) {domain = "", opset = 11 : i64, name = "t", attrs = {}} : (tensor<3x8xf32>, tensor<1xi64>) -> (!qonnx.value, !qonnx.value)
  return %v, %i : !qonnx.value, !qonnx.value
}

// -----

// GatherND with batch_dims = 1: one generic; each index is wrapped and
// clamped into its dim before the read.
// CHECK-LABEL: func.func @gathernd
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x1xf32>)
// CHECK: %[[I0:.*]] = tensor.extract %arg1[%{{.*}}, %{{.*}}, %c0{{.*}}] : tensor<2x1x2xi64>
// CHECK: arith.minsi
// CHECK: tensor.extract %arg1[%{{.*}}, %{{.*}}, %c1{{.*}}] : tensor<2x1x2xi64>
// CHECK: %[[J:.*]] = arith.minsi
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}, %[[J]]] : tensor<2x3x4xf32>
func.func @gathernd(%d: tensor<2x3x4xf32> {qopt.name = "d"}, %i: tensor<2x1x2xi64> {qopt.name = "i"}) -> !qonnx.value {
  %y = qonnx.node "GatherND"(%d, %i) {domain = "", opset = 13 : i64, name = "g", attrs = {batch_dims = 1 : i64}} : (tensor<2x3x4xf32>, tensor<2x1x2xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @gathernd_const_oob(%d: tensor<2x3xf32> {qopt.name = "d"}) -> !qonnx.value {
  %i = qonnx.node "Constant"() {domain = "", opset = 13 : i64, name = "c", attrs = {value = dense<[[1, 3]]> : tensor<1x2xi64>}} : () -> tensor<1x2xi64>
  // expected-error @+1 {{node 'g' (GatherND, opset 13): index 3 out of range [-3, 3)}}
  %y = qonnx.node "GatherND"(%d, %i) {domain = "", opset = 13 : i64, name = "g", attrs = {}} : (tensor<2x3xf32>, tensor<1x2xi64>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// ScatterND: a loop over the updates in order (duplicates add up), each
// write guarded by the index range check, on a copy of the data (never
// written in place into the caller's input).
// CHECK-LABEL: func.func @scatternd
// CHECK: %[[COPY:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xf32>)
// CHECK: tensor.extract %arg0
// CHECK: scf.for %[[M:.*]] = %c0 to %c5 step %c1 iter_args(%[[T:.*]] = %[[COPY]]) -> (tensor<8xf32>)
// CHECK: %[[OK:.*]] = arith.andi
// CHECK: scf.if %{{.*}} -> (tensor<8xf32>)
// CHECK: %[[U:.*]] = tensor.extract %arg2[%[[M]]]
// CHECK: %[[OLD:.*]] = tensor.extract %[[T]]
// CHECK: %[[S:.*]] = arith.addf %[[OLD]], %[[U]]
// CHECK: tensor.insert %[[S]] into %[[T]]
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[T]]
func.func @scatternd(%d: tensor<8xf32> {qopt.name = "d"}, %i: tensor<5x1xi64> {qopt.name = "i"}, %u: tensor<5xf32> {qopt.name = "u"}) -> !qonnx.value {
  %y = qonnx.node "ScatterND"(%d, %i, %u) {domain = "", opset = 16 : i64, name = "s", attrs = {reduction = "add"}} : (tensor<8xf32>, tensor<5x1xi64>, tensor<5xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @scatternd_bad_updates(%d: tensor<8x2xf32> {qopt.name = "d"}, %i: tensor<5x1xi64> {qopt.name = "i"}, %u: tensor<5xf32> {qopt.name = "u"}) -> !qonnx.value {
  // expected-error @+1 {{node 's' (ScatterND, opset 13): updates have shape 'tensor<5xf32>', expected indices.shape[:-1] + data.shape[1:]}}
  %y = qonnx.node "ScatterND"(%d, %i, %u) {domain = "", opset = 13 : i64, name = "s", attrs = {}} : (tensor<8x2xf32>, tensor<5x1xi64>, tensor<5xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// ScatterElements along axis 1 with max.
// CHECK-LABEL: func.func @scatter_elements
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.if
// CHECK: arith.maximumf
func.func @scatter_elements(%d: tensor<2x5xf32> {qopt.name = "d"}, %i: tensor<2x2xi64> {qopt.name = "i"}, %u: tensor<2x2xf32> {qopt.name = "u"}) -> !qonnx.value {
  %y = qonnx.node "ScatterElements"(%d, %i, %u) {domain = "", opset = 18 : i64, name = "s", attrs = {axis = 1 : i64, reduction = "max"}} : (tensor<2x5xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

func.func @scatter_elements_bool_add(%d: tensor<5xi1> {qopt.name = "d"}, %i: tensor<2xi64> {qopt.name = "i"}, %u: tensor<2xi1> {qopt.name = "u"}) -> !qonnx.value {
  // expected-error @+1 {{node 's' (ScatterElements, opset 16): reduction 'add' is not supported on bool}}
  %y = qonnx.node "ScatterElements"(%d, %i, %u) {domain = "", opset = 16 : i64, name = "s", attrs = {reduction = "add"}} : (tensor<5xi1>, tensor<2xi64>, tensor<2xi1>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// NonZero: a counting loop, then a [rank, count] tensor filled by a second.
// CHECK-LABEL: func.func @nonzero
// CHECK-SAME: -> (tensor<2x?xi64>
// CHECK: %[[C:.*]] = scf.for {{.*}} -> (index)
// CHECK: arith.cmpf une
// CHECK: tensor.empty(%[[C]]) : tensor<2x?xi64>
// CHECK: scf.for {{.*}} -> (tensor<2x?xi64>, index)
func.func @nonzero(%x: tensor<2x3xf32> {qopt.name = "x"}) -> !qonnx.value {
  %y = qonnx.node "NonZero"(%x) {domain = "", opset = 13 : i64, name = "nz", attrs = {}} : (tensor<2x3xf32>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Compress along axis 1: the kept columns are copied slice by slice.
// CHECK-LABEL: func.func @compress
// CHECK-SAME: -> (tensor<3x?xf32>
// CHECK: %[[C:.*]] = scf.for {{.*}} -> (index)
// CHECK: tensor.empty(%[[C]]) : tensor<3x?xf32>
// CHECK: tensor.extract_slice %arg0[0, %{{.*}}] [3, 1] [1, 1]
// CHECK: tensor.insert_slice
func.func @compress(%x: tensor<3x4xf32> {qopt.name = "x"}, %c: tensor<3xi1> {qopt.name = "c"}) -> !qonnx.value {
  %y = qonnx.node "Compress"(%x, %c) {domain = "", opset = 11 : i64, name = "c", attrs = {axis = 1 : i64}} : (tensor<3x4xf32>, tensor<3xi1>) -> !qonnx.value
  return %y : !qonnx.value
}

// -----

// Unique along axis 1: the unique columns (a `?` count) and three int64
// outputs; the inverse indices have one entry per column.
// CHECK-LABEL: func.func @unique_axis
// CHECK-SAME: -> (tensor<3x?xi64> {{.*}}, tensor<?xi64> {{.*}}, tensor<4xi64> {{.*}}, tensor<?xi64>
// CHECK: linalg.transpose
func.func @unique_axis(%x: tensor<3x4xi64> {qopt.name = "x"}) -> (!qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value) {
  %y, %i, %inv, %c = qonnx.node "Unique"(%x) {domain = "", opset = 11 : i64, name = "u", attrs = {axis = 1 : i64}} : (tensor<3x4xi64>) -> (!qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value)
  return %y, %i, %inv, %c : !qonnx.value, !qonnx.value, !qonnx.value, !qonnx.value
}
