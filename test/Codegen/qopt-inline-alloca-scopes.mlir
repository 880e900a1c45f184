// RUN: qopt-opt %s --qopt-inline-alloca-scopes | FileCheck %s

// convert-scf-to-openmp wraps loop bodies in memref.alloca_scope, which no
// longer lowers once scf is in cf form; scopes without allocas are inlined.
// CHECK-LABEL: func.func @no_alloca
// CHECK-NOT: memref.alloca_scope
// CHECK: %[[V:.*]] = arith.addf
// CHECK: return %[[V]]
func.func @no_alloca(%a: f32) -> f32 {
  %r = memref.alloca_scope -> f32 {
    %s = arith.addf %a, %a : f32
    memref.alloca_scope.return %s : f32
  }
  return %r : f32
}

// A scope that owns an alloca keeps its stack-release semantics.
// CHECK-LABEL: func.func @with_alloca
// CHECK: memref.alloca_scope
// CHECK: memref.alloca
func.func @with_alloca() {
  memref.alloca_scope {
    %m = memref.alloca() : memref<4xf32>
  }
  return
}
