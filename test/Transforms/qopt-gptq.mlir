// GPTQ on one layer with correlated calibration inputs (Hessian attached as
// the calibration driver does): the quantized weight's output error on the
// calibration rows, recomputed in numpy from the IR, is below round-to-
// nearest's on the same grid (per group of 8 rows, act-order, and int8 per
// channel); rtn=true reproduces qopt-quantize-weights.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/gptq_model.py gen %t
// RUN: qopt-opt %t/model.mlir --qopt-gptq="bits=4 group-size=8" | tee %t/g.mlir | FileCheck %s
// RUN: %python %S/Inputs/gptq_model.py check %t 4 8 < %t/g.mlir | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-gptq="bits=4 group-size=8 act-order=true" | %python %S/Inputs/gptq_model.py check %t 4 8 | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-gptq="bits=8 damp=0.1 block-size=4" | %python %S/Inputs/gptq_model.py check %t 8 16 | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-gptq="bits=4 group-size=8 rtn=true" -o %t/rtn.mlir
// RUN: qopt-opt %t/model.mlir --qopt-quantize-weights="bits=4 group-size=8 pack-int4=false" -o %t/qw.mlir
// RUN: grep -o 'dense<"0x[0-9A-F]*"> : tensor<16x8xi8>' %t/rtn.mlir > %t/rtn.txt
// RUN: grep -o 'dense<"0x[0-9A-F]*"> : tensor<16x8xi8>' %t/qw.mlir | diff - %t/rtn.txt

// CHECK: arith.constant {qopt.bits = 4 : i64} dense<{{.*}}> : tensor<16x8xi8>
// CHECK: qopt.dequantize {{.*}} {axis = 0 : i64, block_size = 8 : i64} : (tensor<16x8xi8>, tensor<2x8xf32>, tensor<2x8xi8>) -> tensor<16x8xf32>
// CHECK: qopt.matmul {{.*}}qopt.out_err = {{.*}}qopt.quant = "w4", qopt.rtn_out_err =
// CHECK-NOT: qopt.hessian
// OK: OK ratio=0.

// A Hessian of the wrong shape is one error naming the layer.
// RUN: sed 's/qopt.hessian = dense</qopt.hessian = dense<1.0> : tensor<4x4xf32>, qopt.unused = dense</' %t/model.mlir > %t/bad.mlir
// RUN: not qopt-opt %t/bad.mlir --qopt-gptq 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: qopt-gptq: layer 'fc': cannot read its weight or its f32 [16, 16] qopt.hessian
