// Conv layers in the quantization passes (lib/Transforms/ConvQuant.cpp). The
// importer's conv is a linalg.generic tagged qopt.conv over the padded input
// (N, G, C/G, W) and the filter (G, M/G, C/G, k); the filter's data is the
// [M, K] matrix, K = C/G * k, quantized per output channel (row) or in
// groups along K.
// RUN: qopt-opt %s --qopt-quantize-weights | FileCheck %s --check-prefix=W8
// RUN: qopt-opt %s --qopt-quantize-weights="bits=4 group-size=2" | FileCheck %s --check-prefix=W4
// RUN: qopt-opt %s --qopt-quantize-weights="bits=4 group-size=3" | FileCheck %s --check-prefix=W4PC
// RUN: qopt-opt %s --qopt-quantize-weights="exclude=stem" | FileCheck %s --check-prefix=EXCL
// RUN: qopt-opt %s --qopt-quantize-dynamic | FileCheck %s --check-prefix=DYN
// RUN: qopt-opt %s --qopt-quantize-dynamic="exclude=^/stem/Conv$" | FileCheck %s --check-prefix=EXCL
// RUN: qopt-opt %s --qopt-insert-observers | FileCheck %s --check-prefix=OBS
// RUN: qopt-opt %s --qopt-insert-observers | sed -e 's/qopt.layer = "\/stem\/Conv"/qopt.layer = "\/stem\/Conv", qopt.act_scale = 5.000000e-01 : f32, qopt.act_zp = 0/' | qopt-opt --qopt-strip-observers --qopt-quantize-static | FileCheck %s --check-prefix=STATIC

// Row 0: max 127 -> s 1, [127, -64, 1, 0.5 -> 0 (half to even)]; row 1: max
// 2.54 -> s 0.02, [127, -64, 0, 0].
// W8: %[[Q:.*]] = arith.constant {qopt.bits = 8 : i64} dense<{{\[\[}}127, -64, 1, 0], [127, -64, 0, 0]]> : tensor<2x4xi8>
// W8: %[[S:.*]] = arith.constant dense<[1.000000e+00, 2.000000e-02]> : tensor<2xf32>
// W8: %[[D:.*]] = qopt.dequantize %[[Q]], %[[S]], %{{.*}} {axis = 0 : i64} : (tensor<2x4xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x4xf32>
// W8: %[[F:.*]] = tensor.expand_shape %[[D]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 2, 2, 2] : tensor<2x4xf32> into tensor<1x2x2x2xf32>
// W8: linalg.generic {{.*}} ins(%{{.*}}, %[[F]] : tensor<1x1x2x5xf32>, tensor<1x2x2x2xf32>) {{.*}} attrs = {qopt.conv, qopt.layer = "/stem/Conv", qopt.quant = "w8"}
// W8: arith.mulf
// w4, groups of 2 along K: [127, -64] -> s 127/7, [7, -4]; [1, 0.5] -> s 1/7,
// [7, 3] (0.5 / f32(1/7) = 3.4999998).
// Packed two per byte (§10): [7 | -4 << 4, 7 | 3 << 4, ...] = [-57, 55, -57, 0].
// W4: %[[P:.*]] = arith.constant {qopt.bits = 4 : i64} dense<[-57, 55, -57, 0]> : tensor<4xi8>
// W4: qopt.unpack_int4 %[[P]] : tensor<4xi8> -> tensor<2x4xi8>
// W4: qopt.dequantize {{.*}} {block_size = 2 : i64} : (tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<2x4xf32>
// W4: qopt.quant = "w4"
// A group size that does not divide K = 4 falls back to per channel.
// W4PC: qopt.dequantize {{.*}} {axis = 0 : i64} : (tensor<2x4xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x4xf32>
// EXCL-NOT: qopt.dequantize
// EXCL-NOT: qopt.dynamic_quantize
// EXCL: attrs = {qopt.conv, qopt.layer = "/stem/Conv"}

// w8a8-dynamic: the padded input is quantized per tensor at run time (u8,
// zero point), the filter to i8 per channel; the conv accumulates
// (x - zx) * (w - zw) in i32; the epilogue is acc * sx * sw[g, m].
// DYN: %[[XQ:.*]], %[[SX:.*]], %[[ZX:.*]] = qopt.dynamic_quantize %{{.*}} {is_unsigned, qopt.quant = "w8a8-dynamic"} : tensor<1x1x2x5xf32> -> tensor<1x1x2x5xi8>, tensor<f32>, tensor<i8>
// DYN: %[[WQ:.*]] = arith.constant {qopt.bits = 8 : i64} dense<{{\[\[}}127, -64, 1, 0], [127, -64, 0, 0]]> : tensor<2x4xi8>
// DYN: %[[WF:.*]] = tensor.expand_shape %[[WQ]] {{.*}} into tensor<1x2x2x2xi8>
// DYN: %[[SW:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e-02]]> : tensor<1x2xf32>
// DYN: %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[XQ]], %[[WF]], %[[ZX]], %{{.*}} : tensor<1x1x2x5xi8>, tensor<1x2x2x2xi8>, tensor<i8>, tensor<i8>) outs(%{{.*}} : tensor<1x1x2x4xi32>) attrs = {qopt.layer = "/stem/Conv", qopt.quant = "w8a8-dynamic"}
// DYN: arith.extui
// DYN: arith.extsi
// DYN: arith.muli {{.*}} : i32
// DYN: arith.addi {{.*}} : i32
// DYN: linalg.generic {{.*}} ins(%[[ACC]], %[[SX]], %[[SW]] : tensor<1x1x2x4xi32>, tensor<f32>, tensor<1x2xf32>)
// DYN: arith.sitofp
// DYN: arith.mulf
// DYN: arith.mulf
// DYN: return

// The activation is observed before its padding, the result after the conv.
// OBS: %[[O:.*]] = qopt.observe %arg0 {id = 0 : i64, label = "/stem/Conv"} : tensor<1x2x4xf32>
// OBS: tensor.pad %[[O]]
// OBS: %[[Y:.*]] = linalg.generic
// OBS: qopt.observe %[[Y]] {id = 1 : i64, label = "/stem/Conv:output"}

// Static: calibrated scale 0.5, zero point 0 (i8).
// STATIC: %[[XQ:.*]] = qopt.quantize %{{.*}}, %[[S:.*]], %[[Z:.*]] : (tensor<1x1x2x5xf32>, tensor<f32>, tensor<i8>) -> tensor<1x1x2x5xi8>
// STATIC: linalg.generic {{.*}} ins(%[[XQ]], %{{.*}}, %[[Z]], %{{.*}} : tensor<1x1x2x5xi8>, tensor<1x2x2x2xi8>, tensor<i8>, tensor<i8>) outs(%{{.*}} : tensor<1x1x2x4xi32>) attrs = {qopt.layer = "/stem/Conv", qopt.quant = "w8a8"}
// STATIC-NOT: arith.extui
// STATIC: arith.muli
// STATIC: linalg.generic {{.*}} ins(%{{.*}}, %[[S]], %{{.*}} : tensor<1x1x2x4xi32>, tensor<f32>, tensor<1x2xf32>)
#mx = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 + d5)>
#mw = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d4, d5)>
#my = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
func.func @conv(%x: tensor<1x2x4xf32>) -> tensor<1x1x2x4xf32> {
  %w = arith.constant dense<[[[[127.0, -64.0], [1.0, 0.5]], [[2.54, -1.27], [0.0, 0.0]]]]> : tensor<1x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1] high[0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index):
    tensor.yield %zero : f32
  } : tensor<1x2x4xf32> to tensor<1x2x5xf32>
  %e = tensor.expand_shape %p [[0], [1, 2], [3]] output_shape [1, 1, 2, 5] : tensor<1x2x5xf32> into tensor<1x1x2x5xf32>
  %init = tensor.empty() : tensor<1x1x2x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%init : tensor<1x1x2x4xf32>) -> tensor<1x1x2x4xf32>
  %y = linalg.generic {indexing_maps = [#mx, #mw, #my], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%e, %w : tensor<1x1x2x5xf32>, tensor<1x2x2x2xf32>) outs(%f : tensor<1x1x2x4xf32>) attrs = {qopt.conv, qopt.layer = "/stem/Conv"} {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x2x4xf32>
  return %y : tensor<1x1x2x4xf32>
}
