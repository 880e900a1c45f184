// RUN: qopt-opt %s --qopt-arena --split-input-file | FileCheck %s
// JIT builds keep no static arena (max-static-bytes=0): one malloc per run.
// RUN: qopt-opt %s --qopt-arena="max-static-bytes=0" --split-input-file | FileCheck %s --check-prefix=JIT
// JIT-NOT: memref.global
// JIT-LABEL: func.func @f
// JIT: %[[BASE:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1088xi8>
// JIT: memref.view %[[BASE]]
// JIT: memref.dealloc %[[BASE]] : memref<1088xi8>
// JIT-NEXT: return

// %a and %b are live at the same time, %c only after both: %c reuses %a's
// bytes (offset 0), %b sits after %a (64-byte aligned). The arena is a
// zero-initialized private global taken with an atomic exchange on a flag
// (a concurrent run mallocs its own), given back at the return.
// CHECK: memref.global "private" @__qopt_arena_f : memref<1088xi8> = uninitialized {alignment = 64 : i64}
// CHECK: memref.global "private" @__qopt_arena_busy_f : memref<i32> = dense<0>
// CHECK-LABEL: func.func @f
// CHECK: %[[OLD:.*]] = memref.atomic_rmw assign %c1_i32
// CHECK: %[[OWN:.*]] = arith.cmpi eq, %[[OLD]], %c0_i32
// CHECK: %[[BASE:.*]] = scf.if %[[OWN]] -> (memref<1088xi8>)
// CHECK:   memref.get_global @__qopt_arena_f
// CHECK: } else {
// CHECK:   memref.alloc() {alignment = 64 : i64} : memref<1088xi8>
// CHECK-DAG: memref.view %[[BASE]][%c0{{.*}}][] : memref<1088xi8> to memref<256xf32>
// CHECK-DAG: memref.view %[[BASE]][%c1024{{.*}}][] : memref<1088xi8> to memref<16xf32>
// CHECK: memref.view %[[BASE]][%c0{{.*}}][] : memref<1088xi8> to memref<8x32xf32>
// CHECK-NOT: memref.dealloc %{{.*}} : memref<{{[0-9x]*}}xf32>
// CHECK: scf.if %[[OWN]] {
// CHECK:   memref.atomic_rmw assign %c0_i32
// CHECK: } else {
// CHECK:   memref.dealloc %[[BASE]] : memref<1088xi8>
// CHECK: return
func.func @f(%x: memref<256xf32>, %y: memref<16xf32>, %z: memref<8x32xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  memref.copy %y, %b : memref<16xf32> to memref<16xf32>
  memref.copy %a, %x : memref<256xf32> to memref<256xf32>
  memref.copy %b, %y : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<8x32xf32>
  memref.copy %z, %c : memref<8x32xf32> to memref<8x32xf32>
  %cv = memref.collapse_shape %c [[0, 1]] : memref<8x32xf32> into memref<256xf32>
  memref.copy %cv, %x : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %c : memref<8x32xf32>
  return
}

// -----

// A buffer with a dynamic size, or without a dealloc in the entry block,
// stays a malloc; nothing to place: no arena.
// CHECK-LABEL: func.func @g
// CHECK-NOT: memref.view
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
func.func @g(%n: index) {
  %a = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %a : memref<?xf32>
  return
}

// -----

// Past 1 GiB the arena is not static (a .bss beyond 2 GB cannot be reached
// with 32-bit PC-relative relocations): one malloc per run, freed at the
// return; the buffers still share it by live range.
// CHECK-NOT: memref.global "private" @__qopt_arena_big
// CHECK-LABEL: func.func @big
// CHECK: %[[BASE:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1610612736xi8>
// CHECK: memref.view %[[BASE]][%c0{{.*}}][] : memref<1610612736xi8> to memref<402653184xf32>
// CHECK: memref.view %[[BASE]][%c0{{.*}}][] : memref<1610612736xi8> to memref<402653184xf32>
// CHECK: memref.dealloc %[[BASE]] : memref<1610612736xi8>
// CHECK-NEXT: return
func.func @big(%x: memref<402653184xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<402653184xf32>
  memref.copy %x, %a : memref<402653184xf32> to memref<402653184xf32>
  memref.copy %a, %x : memref<402653184xf32> to memref<402653184xf32>
  memref.dealloc %a : memref<402653184xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<402653184xf32>
  memref.copy %x, %b : memref<402653184xf32> to memref<402653184xf32>
  memref.copy %b, %x : memref<402653184xf32> to memref<402653184xf32>
  memref.dealloc %b : memref<402653184xf32>
  return
}
