// AWQ on two layers sharing the output of a norm-like scale: 1/s is folded
// into the norm weight (the old one disappears), both weights are int4 per
// group of 8, and each layer's output error on the calibration data (from
// its Hessian) is at most round-to-nearest's. With the input a function
// argument, a broadcast multiply is inserted instead. scale-only leaves
// scaled f32 weights and a rescaled Hessian for qopt-gptq.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/gptq_model.py gen %t
// RUN: qopt-opt %t/norm.mlir --qopt-awq="bits=4 group-size=8" | tee %t/awq.mlir | FileCheck %s
// RUN: %python %S/Inputs/gptq_model.py errors < %t/awq.mlir | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-awq="bits=4 group-size=8" | FileCheck %s --check-prefix=INSERT
// RUN: qopt-opt %t/norm.mlir --qopt-awq="bits=4 group-size=8 scale-only=true" | FileCheck %s --check-prefix=SCALE
// RUN: qopt-opt %t/norm.mlir --qopt-awq="bits=4 group-size=8 scale-only=true" --qopt-gptq="group-size=8" | FileCheck %s --check-prefix=GPTQ

// CHECK-NOT: dense<[5.000000e-01, 0.566666663
// CHECK: qopt.dequantize {{.*}}block_size = 8
// CHECK: qopt.dequantize {{.*}}block_size = 8
// CHECK: %[[S:.*]] = arith.constant dense<{{.*}}> : tensor<16xf32>
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%arg0, %[[S]] : tensor<64x16xf32>, tensor<16xf32>)
// CHECK: qopt.matmul %[[N]], {{.*}}qopt.awq_alpha = {{.*}}qopt.awq_scale = {{.*}}qopt.layer = "a", qopt.out_err = {{.*}}qopt.quant = "w4"
// CHECK: qopt.matmul %[[N]], {{.*}}qopt.layer = "b"
// CHECK-NOT: qopt.hessian
// OK: OK 2 layers, ratios

// INSERT: %[[S:.*]] = arith.constant dense<{{.*}}> : tensor<16xf32>
// INSERT: %[[N:.*]] = linalg.generic {{.*}} ins(%arg0, %[[S]] : tensor<64x16xf32>, tensor<16xf32>)
// INSERT: arith.mulf
// INSERT: qopt.matmul %[[N]], {{.*}}qopt.quant = "w4"

// SCALE: arith.constant dense<{{.*}}> : tensor<16x8xf32>
// SCALE: qopt.matmul {{.*}}qopt.hessian = dense<
// SCALE-NOT: qopt.dequantize
// GPTQ: qopt.dequantize {{.*}}block_size = 8
// GPTQ: qopt.matmul {{.*}}qopt.awq_alpha = {{.*}}qopt.quant = "w4"
