// Layer-wise reconstruction on the GPTQ test layer (correlated calibration
// rows X, Hessian attached as the calibration driver does). The checker
// recomputes ||X (Wq - W)||^2 in float64 numpy from the IR's integers,
// scales and zero points: it matches qopt.out_err, is at most the start's
// and below round-to-nearest's on the same grid (sym and asym w4 per group
// of 8, w8 per channel); with scales=false and enough sweeps no single
// integer moved by +-1 lowers it (a coordinate-descent fixed point, with
// the dampening of the descent off: recon-damp=0; one
// sweep is not one, so the check fails there); from GPTQ the start is
// exactly qopt-gptq's result and the end is no worse.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/gptq_model.py gen %t
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=4 group-size=8 verbose=true" 2>%t/log | tee %t/r.mlir | FileCheck %s
// RUN: FileCheck %s --check-prefix=LOG < %t/log
// RUN: %python %S/Inputs/reconstruct_check.py %t 4 8 sym < %t/r.mlir | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=4 group-size=8 scheme=asym" | %python %S/Inputs/reconstruct_check.py %t 4 8 asym | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=8" | %python %S/Inputs/reconstruct_check.py %t 8 16 sym | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=4 group-size=8 scheme=asym scales=false iters=50 recon-damp=0" | %python %S/Inputs/reconstruct_check.py %t 4 8 asym --local | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=8 scales=false iters=50 recon-damp=0" | %python %S/Inputs/reconstruct_check.py %t 8 16 sym --local | FileCheck %s --check-prefix=OK
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=4 group-size=8 scales=false iters=1 recon-damp=0" | not %python %S/Inputs/reconstruct_check.py %t 4 8 sym --local 2>&1 | FileCheck %s --check-prefix=NOTLOCAL
// RUN: qopt-opt %t/model.mlir --qopt-gptq="bits=4 group-size=8 clip=true" -o %t/g.mlir
// RUN: qopt-opt %t/model.mlir --qopt-reconstruct="bits=4 group-size=8 init=gptq clip=true" | %python %S/Inputs/reconstruct_check.py %t 4 8 sym --gptq %t/g.mlir | FileCheck %s --check-prefix=OK

// CHECK: arith.constant {qopt.bits = 4 : i64} dense<{{.*}}> : tensor<16x8xi8>
// CHECK: qopt.dequantize {{.*}} {axis = 0 : i64, block_size = 8 : i64} : (tensor<16x8xi8>, tensor<2x8xf32>, tensor<2x8xi8>) -> tensor<16x8xf32>
// CHECK: qopt.matmul {{.*}}qopt.out_err = {{.*}}qopt.quant = "w4", qopt.rtn_out_err = {{.*}}qopt.start_out_err =
// CHECK-NOT: qopt.hessian
// LOG: qopt-reconstruct: fc: output error {{.*}} -> {{.*}} (start rtn, RTN {{.*}}), {{[0-9]+}} sweeps, {{[0-9]+}} values and {{[0-9]+}} scales changed
// OK: OK ratio=0.
// NOTLOCAL: FAIL: moving value

// Bad options and a malformed Hessian are one error each.
// RUN: not qopt-opt %t/model.mlir --qopt-reconstruct="init=awq" 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: error: qopt-reconstruct: bad options
// RUN: sed 's/qopt.hessian = dense</qopt.hessian = dense<1.0> : tensor<4x4xf32>, qopt.unused = dense</' %t/model.mlir > %t/bad.mlir
// RUN: not qopt-opt %t/bad.mlir --qopt-reconstruct 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: qopt-reconstruct: layer 'fc': cannot read its weight or its f32 [16, 16] qopt.hessian
