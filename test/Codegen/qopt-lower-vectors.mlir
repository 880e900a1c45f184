// RUN: qopt-opt %s --pass-pipeline="builtin.module(func.func(qopt-lower-vectors,canonicalize))" | FileCheck %s

// The accumulator read/write is hoisted out of the K loop and the
// contraction becomes one FMA per (row, k) on 32-wide rows.
// CHECK-LABEL: func.func @tile
// CHECK: vector.transfer_read %{{.*}} : memref<8x32xf32{{.*}}>, vector<8x32xf32>
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-32: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: vector.contract
// CHECK: scf.yield
// CHECK: vector.transfer_write
#ma = affine_map<(m, n, k) -> (m, k)>
#mb = affine_map<(m, n, k) -> (k, n)>
#mc = affine_map<(m, n, k) -> (m, n)>
func.func @tile(%a: memref<8x256xf32>, %b: memref<256x32xf32>, %c: memref<8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c256 = arith.constant 256 : index
  %pad = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c256 step %c4 {
    %va = vector.transfer_read %a[%c0, %k], %pad {in_bounds = [true, true]} : memref<8x256xf32>, vector<8x4xf32>
    %vb = vector.transfer_read %b[%k, %c0], %pad {in_bounds = [true, true]} : memref<256x32xf32>, vector<4x32xf32>
    %vc = vector.transfer_read %c[%c0, %c0], %pad {in_bounds = [true, true]} : memref<8x32xf32>, vector<8x32xf32>
    %r = vector.contract {indexing_maps = [#ma, #mb, #mc], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %va, %vb, %vc : vector<8x4xf32>, vector<4x32xf32> into vector<8x32xf32>
    vector.transfer_write %r, %c[%c0, %c0] {in_bounds = [true, true]} : vector<8x32xf32>, memref<8x32xf32>
  }
  return
}

// exp (scalar and vector alike) becomes MLIR's polynomial approximation:
// no libm call, so vectorized softmax/SiLU loops stay vector code.
// CHECK-LABEL: func.func @exp
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : f32
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK-NOT: math.exp
func.func @exp(%x: f32, %v: vector<16xf32>) -> (f32, vector<16xf32>) {
  %a = math.exp %x : f32
  %b = math.exp %v : vector<16xf32>
  return %a, %b : f32, vector<16xf32>
}
