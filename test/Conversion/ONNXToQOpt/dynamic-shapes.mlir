// RUN: qopt-opt %s --convert-onnx-to-qopt --split-input-file --verify-diagnostics | FileCheck %s

// Dims named alike are one SSA size; a shape computed from them at run time
// (Shape -> Gather -> Unsqueeze -> Concat) reshapes to `?x?x2x2` (one
// expand of the static dim) whose
// dynamic sizes are those same values.
// CHECK-LABEL: func.func @named_dims
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x?x4xf32> {qopt.dim_names = ["b", "s", ""]
// CHECK-SAME: %[[Y:[^:]*]]: tensor<?x?x4xf32> {qopt.dim_names = ["b", "s", ""]
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[X]], %c0
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[X]], %c1
// CHECK-NOT: tensor.dim %[[Y]]
// CHECK: tensor.empty(%[[B]], %[[S]]) : tensor<?x?x4xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [%[[B]], %[[S]], 2, 2] : tensor<?x?x4xf32> into tensor<?x?x2x2xf32>
// CHECK: return {{.*}} : tensor<?x?x4xf32>, tensor<?x?x2x2xf32>
func.func @named_dims(%x: tensor<?x?x4xf32> {qopt.name = "x", qopt.dim_names = ["b", "s", ""]},
                      %y: tensor<?x?x4xf32> {qopt.name = "y", qopt.dim_names = ["b", "s", ""]}) -> (!qonnx.value, !qonnx.value) {
  %sum = qonnx.node "Add"(%x, %y) {domain = "", opset = 17 : i64, name = "add", attrs = {}} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> !qonnx.value
  %sh = qonnx.node "Shape"(%x) {domain = "", opset = 17 : i64, name = "sh", attrs = {}} : (tensor<?x?x4xf32>) -> !qonnx.value
  %c0 = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c0", attrs = {value = dense<0> : tensor<i64>}} : () -> tensor<i64>
  %c1 = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "c1", attrs = {value = dense<1> : tensor<i64>}} : () -> tensor<i64>
  %a0 = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "a0", attrs = {value = dense<[0]> : tensor<1xi64>}} : () -> tensor<1xi64>
  %g0 = qonnx.node "Gather"(%sh, %c0) {domain = "", opset = 17 : i64, name = "g0", attrs = {axis = 0 : i64}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %g1 = qonnx.node "Gather"(%sh, %c1) {domain = "", opset = 17 : i64, name = "g1", attrs = {axis = 0 : i64}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %u0 = qonnx.node "Unsqueeze"(%g0, %a0) {domain = "", opset = 17 : i64, name = "u0", attrs = {}} : (!qonnx.value, tensor<1xi64>) -> !qonnx.value
  %u1 = qonnx.node "Unsqueeze"(%g1, %a0) {domain = "", opset = 17 : i64, name = "u1", attrs = {}} : (!qonnx.value, tensor<1xi64>) -> !qonnx.value
  %hd = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "hd", attrs = {value = dense<[2, 2]> : tensor<2xi64>}} : () -> tensor<2xi64>
  %cat = qonnx.node "Concat"(%u0, %u1, %hd) {domain = "", opset = 17 : i64, name = "cat", attrs = {axis = 0 : i64}} : (!qonnx.value, !qonnx.value, tensor<2xi64>) -> !qonnx.value
  %r = qonnx.node "Reshape"(%sum, %cat) {domain = "", opset = 17 : i64, name = "r", attrs = {}} : (!qonnx.value, !qonnx.value) -> !qonnx.value
  return %sum, %r : !qonnx.value, !qonnx.value
}

// -----

// A KV cache step: Concat along the dynamic past axis has size past + new;
// Range(0, Shape(ids)[1]) is as long as the sequence; Gather of index -1
// on a dynamic axis slices at size - 1; MatMul keeps `?` rows.
// CHECK-LABEL: func.func @kv_step
// CHECK-DAG: %[[P:.*]] = tensor.dim %arg0, %{{.*}} : tensor<8x?x4xf32>
// CHECK-DAG: %[[N:.*]] = tensor.dim %arg1, %{{.*}} : tensor<8x?x4xf32>
// CHECK-DAG: %[[S:.*]] = tensor.dim %arg2, %{{.*}} : tensor<1x?xi64>
// CHECK-DAG: %[[T:.*]] = affine.apply #{{.*}}()[%[[P]], %[[N]]]
// CHECK: tensor.empty(%[[T]]) : tensor<8x?x4xf32>
// CHECK: tensor.insert_slice %arg0
// CHECK: tensor.insert_slice %arg1 {{.*}}[0, %[[P]], 0] [8, %[[N]], 4]
// CHECK: qopt.matmul {{.*}} -> tensor<8x?x3xf32>
// CHECK: %[[L:.*]] = affine.apply #{{.*}}()[%[[P]], %[[N]]]
// CHECK: tensor.extract_slice {{.*}}[0, %[[L]], 0] [8, 1, 3] [1, 1, 1] : tensor<8x?x3xf32> to tensor<8x1x3xf32>
// CHECK: tensor.empty(%[[S]]) : tensor<?xi64>
// CHECK: linalg.index 0
func.func @kv_step(%past: tensor<8x?x4xf32> {qopt.name = "past", qopt.dim_names = ["", "past", ""]},
                   %new: tensor<8x?x4xf32> {qopt.name = "new", qopt.dim_names = ["", "seq", ""]},
                   %ids: tensor<1x?xi64> {qopt.name = "ids", qopt.dim_names = ["", "seq2", ""]}) -> (!qonnx.value, !qonnx.value, !qonnx.value) {
  %cat = qonnx.node "Concat"(%past, %new) {domain = "", opset = 17 : i64, name = "cat", attrs = {axis = 1 : i64}} : (tensor<8x?x4xf32>, tensor<8x?x4xf32>) -> !qonnx.value
  %w = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "w", attrs = {value = dense<1.0> : tensor<4x3xf32>}} : () -> tensor<4x3xf32>
  %mm = qonnx.node "MatMul"(%cat, %w) {domain = "", opset = 17 : i64, name = "mm", attrs = {}} : (!qonnx.value, tensor<4x3xf32>) -> !qonnx.value
  %m1 = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "m1", attrs = {value = dense<-1> : tensor<i64>}} : () -> tensor<i64>
  %last = qonnx.node "Gather"(%mm, %m1) {domain = "", opset = 17 : i64, name = "last", attrs = {axis = 1 : i64}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %sh = qonnx.node "Shape"(%ids) {domain = "", opset = 17 : i64, name = "sh", attrs = {}} : (tensor<1x?xi64>) -> !qonnx.value
  %one = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "one", attrs = {value = dense<1> : tensor<i64>}} : () -> tensor<i64>
  %zero = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "zero", attrs = {value = dense<0> : tensor<i64>}} : () -> tensor<i64>
  %len = qonnx.node "Gather"(%sh, %one) {domain = "", opset = 17 : i64, name = "len", attrs = {axis = 0 : i64}} : (!qonnx.value, tensor<i64>) -> !qonnx.value
  %rng = qonnx.node "Range"(%zero, %len, %one) {domain = "", opset = 17 : i64, name = "rng", attrs = {}} : (tensor<i64>, !qonnx.value, tensor<i64>) -> !qonnx.value
  return %cat, %last, %rng : !qonnx.value, !qonnx.value, !qonnx.value
}

// -----

// Handlers not yet written for `?` dims refuse them by name.
func.func @unsupported(%x: tensor<1x3x?x?xf32> {qopt.name = "x"}) -> !qonnx.value {
  %w = qonnx.node "Constant"() {domain = "", opset = 17 : i64, name = "w", attrs = {value = dense<1.0> : tensor<2x3x1x1xf32>}} : () -> tensor<2x3x1x1xf32>
  // expected-error @+1 {{node 'conv' (Conv, opset 17): input of type 'tensor<1x3x?x?xf32>': this op is not supported with dynamic dims yet; pin them with --input-shape=NAME:D0xD1x...}}
  %y = qonnx.node "Conv"(%x, %w) {domain = "", opset = 17 : i64, name = "conv", attrs = {}} : (tensor<1x3x?x?xf32>, tensor<2x3x1x1xf32>) -> !qonnx.value
  return %y : !qonnx.value
}
