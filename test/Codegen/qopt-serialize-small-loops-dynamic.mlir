// RUN: qopt-opt %s --qopt-serialize-small-loops="target=avx512" | FileCheck %s

// A loop over run-time sizes (a decode step's heads x context): its work is
// computed before it (trip counts x the body's, here an inner loop whose
// bound comes from outside), and a serial copy runs below the threshold
// (8192), or below 131072 when OpenMP has one thread.
// CHECK-LABEL: func.func @rows
// CHECK: %[[N:.*]] = call @omp_get_max_threads() : () -> i32
// CHECK: %[[ONE:.*]] = arith.cmpi sle, %[[N]], %c1_i32
// CHECK: arith.ceildivui %{{.*}}, %c16
// CHECK: %[[LO:.*]] = arith.cmpi ult, %[[W:.*]], %c8192
// CHECK: %[[HI:.*]] = arith.cmpi ult, %[[W]], %c131072
// CHECK: %[[AND:.*]] = arith.andi %[[HI]], %[[ONE]]
// CHECK: %[[SMALL:.*]] = arith.ori %[[LO]], %[[AND]]
// CHECK: scf.if %[[SMALL]] {
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// CHECK: } else {
// CHECK: scf.parallel
func.func @rows(%m: memref<?x?xf32>, %n: index, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %z = arith.constant dense<0.0> : vector<16xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %end = affine.apply affine_map<()[s0] -> ((s0 floordiv 16) * 16)>()[%t]
    scf.for %j = %c0 to %end step %c16 {
      vector.store %z, %m[%i, %j] : memref<?x?xf32>, vector<16xf32>
    }
    scf.reduce
  }
  return
}

// A call in the body: no estimate, the loop stays parallel as it is.
// CHECK-LABEL: func.func @call
// CHECK-NOT: omp_get_max_threads
// CHECK-NOT: scf.if
// CHECK: scf.parallel
func.func private @g(index)
func.func @call(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    func.call @g(%i) : (index) -> ()
    scf.reduce
  }
  return
}

// A peeled vector loop's partial last step (bound: the row's rest after the
// loop's own induction variable) counts as 16 trips: the loop around it
// still gets its estimate and a serial copy (softmax's row max in decode).
// CHECK-LABEL: func.func @peeled_rest
// CHECK: arith.cmpi ult, %{{.*}}, %c8192
// CHECK: %[[SMALL:.*]] = arith.ori
// CHECK: scf.if %[[SMALL]] {
// CHECK-NOT: scf.parallel
// CHECK: } else {
// CHECK: scf.parallel
func.func @peeled_rest(%m: memref<?x?xf32>, %n: index, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %end = affine.apply affine_map<()[s0] -> ((s0 floordiv 16) * 16)>()[%t]
    scf.for %j = %end to %t step %c16 {
      %rest = affine.apply affine_map<(d0)[s0] -> (s0 - d0)>(%j)[%t]
      scf.for %k = %c0 to %rest step %c1 {
        %x = arith.addi %j, %k : index
        memref.store %f, %m[%i, %x] : memref<?x?xf32>
      }
    }
    scf.reduce
  }
  return
}
