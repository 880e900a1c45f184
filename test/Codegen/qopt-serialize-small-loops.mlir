// RUN: qopt-opt %s --qopt-serialize-small-loops="target=avx512" | FileCheck %s
// Through OpenMP: only the large loop, @midsize's parallel copy and
// @nested's outer loop fork.
// RUN: qopt-opt %s --qopt-serialize-small-loops="target=avx512" --convert-scf-to-openmp | FileCheck %s --check-prefix=OMP
// min-work=0 one-thread-work=0 keeps every outermost loop parallel (five
// regions), a huge one none.
// RUN: qopt-opt %s --qopt-serialize-small-loops="target=avx512 min-work=0 one-thread-work=0" --convert-scf-to-openmp | FileCheck %s --check-prefix=ALL
// RUN: qopt-opt %s --qopt-serialize-small-loops="target=avx512 min-work=1000000000" | FileCheck %s --check-prefix=NONE

// OMP-COUNT-3: omp.parallel
// OMP-NOT: omp.parallel
// ALL-COUNT-5: omp.parallel
// ALL-NOT: omp.parallel
// NONE-NOT: scf.parallel

// A fill of 128 floats: 128 ops of work, serial.
// CHECK-LABEL: func.func @fill
// CHECK-NOT: scf.parallel
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c1
// CHECK: memref.store
func.func @fill(%m: memref<128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    memref.store %z, %m[%i] : memref<128xf32>
    scf.reduce
  }
  return
}

// 64 rows x (16 steps x 3 ops on vector<16xf32>, one zmm each) = 3072 ops
// plus the loops' own: below the AVX-512 threshold (8192), serial; both
// dimensions of a 2-D loop become a nest in the same order.
// CHECK-LABEL: func.func @rows
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[I:.*]] = %c0 to %c8 step %c1
// CHECK: scf.for %[[J:.*]] = %c0 to %c8 step %c1
// CHECK: scf.for
// CHECK: vector.load %{{.*}}[%[[I]], %[[J]], %{{.*}}]
func.func @rows(%m: memref<8x8x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c8) step (%c1, %c1) {
    scf.for %k = %c0 to %c256 step %c16 {
      %v = vector.load %m[%i, %j, %k] : memref<8x8x256xf32>, vector<16xf32>
      %w = arith.mulf %v, %v : vector<16xf32>
      vector.store %w, %m[%i, %j, %k] : memref<8x8x256xf32>, vector<16xf32>
    }
    scf.reduce
  }
  return
}

// 256 rows x 16 steps x 3 ops = 12288 (a decode step's 1x256x768 GEMV):
// parallel, with a serial copy for one thread (below 131072).
// CHECK-LABEL: func.func @midsize
// CHECK: %[[N:.*]] = call @omp_get_max_threads() : () -> i32
// CHECK: %[[ONE:.*]] = arith.cmpi sle, %[[N]], %c1_i32
// CHECK: scf.if %[[ONE]] {
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: } else {
// CHECK: scf.parallel
func.func @midsize(%m: memref<256x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    scf.for %k = %c0 to %c256 step %c16 {
      %v = vector.load %m[%i, %k] : memref<256x256xf32>, vector<16xf32>
      %w = arith.mulf %v, %v : vector<16xf32>
      vector.store %w, %m[%i, %k] : memref<256x256xf32>, vector<16xf32>
    }
    scf.reduce
  }
  return
}

// 1024 rows x 64 steps x 3 ops = 196608: stays parallel.
// CHECK-LABEL: func.func @big
// CHECK-NOT: scf.if
// CHECK: scf.parallel
func.func @big(%m: memref<1024x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c1024 = arith.constant 1024 : index
  scf.parallel (%i) = (%c0) to (%c1024) step (%c1) {
    scf.for %k = %c0 to %c1024 step %c16 {
      %v = vector.load %m[%i, %k] : memref<1024x1024xf32>, vector<16xf32>
      %w = arith.mulf %v, %v : vector<16xf32>
      vector.store %w, %m[%i, %k] : memref<1024x1024xf32>, vector<16xf32>
    }
    scf.reduce
  }
  return
}

// A parallel loop inside a parallel loop becomes scf.for whatever its work
// (OpenMP would run it in one thread, after a fork/join per outer step).
// CHECK-LABEL: func.func @nested
// CHECK: scf.parallel
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK-NOT: scf.parallel
func.func @nested(%m: memref<64x4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c4096 = arith.constant 4096 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c4096) step (%c1) {
      memref.store %f, %m[%i, %j] : memref<64x4096xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}
