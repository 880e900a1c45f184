#!/usr/bin/env python3
"""Writes a two-layer qopt-level MLP and its calibration / test data.

    make_w8a8_model.py OUTDIR

OUTDIR/model.mlir: y = relu(x @ W1) @ W2, x f32 [4, 16], W1 [16, 32],
W2 [32, 8] (seeded random); OUTDIR/calib.npy f32 [24, 4, 16];
OUTDIR/calib.npz (the same under the input's name); OUTDIR/x.npy (a test
input); OUTDIR/bad_shape.npy f32 [24, 4, 15]; OUTDIR/bad_dtype.npy f64;
OUTDIR/tokens.bin (raw bytes); OUTDIR/ref.npy (FP32 output for x.npy).
"""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
w1 = (rng.standard_normal((16, 32)) * 0.3).astype(np.float32)
w2 = (rng.standard_normal((32, 8)) * 0.3).astype(np.float32)


def dense(a):
    return "dense<" + np.array2string(a, separator=",", threshold=1 << 20,
                                      max_line_width=1 << 20,
                                      formatter={"float_kind": lambda v: "%.8e" % v}) + ">"


mlir = f"""#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%x: tensor<4x16xf32> {{qopt.name = "x", qopt.dtype = 1 : i32}})
    -> (tensor<4x8xf32> {{qopt.name = "y", qopt.dtype = 1 : i32}}) {{
  %w1 = arith.constant {dense(w1)} : tensor<16x32xf32>
  %w2 = arith.constant {dense(w2)} : tensor<32x8xf32>
  %zero = arith.constant 0.0 : f32
  %h = qopt.matmul %x, %w1 {{qopt.layer = "fc1"}} : (tensor<4x16xf32>, tensor<16x32xf32>) -> tensor<4x32xf32>
  %e = tensor.empty() : tensor<4x32xf32>
  %r = linalg.generic {{indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%h : tensor<4x32xf32>) outs(%e : tensor<4x32xf32>) {{
  ^bb0(%a: f32, %o: f32):
    %t = arith.maximumf %a, %zero : f32
    linalg.yield %t : f32
  }} -> tensor<4x32xf32>
  %y = qopt.matmul %r, %w2 {{qopt.layer = "fc2"}} : (tensor<4x32xf32>, tensor<32x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}}
"""
with open(os.path.join(out, "model.mlir"), "w") as f:
    f.write(mlir)
calib = rng.standard_normal((24, 4, 16)).astype(np.float32)
np.save(os.path.join(out, "calib.npy"), calib)
np.savez(os.path.join(out, "calib.npz"), x=calib)
np.savez_compressed(os.path.join(out, "calib_z.npz"), x=calib)
np.savez(os.path.join(out, "wrong_name.npz"), input=calib)
np.save(os.path.join(out, "bad_shape.npy"), calib[:, :, :15])
np.save(os.path.join(out, "bad_dtype.npy"), calib.astype(np.float64))
calib[:4].astype(np.uint8).tofile(os.path.join(out, "tokens.bin"))
x = calib[5].copy()  # in the calibrated range (static scales clip outside it)
np.save(os.path.join(out, "x.npy"), x)
np.save(os.path.join(out, "ref.npy"), np.maximum(x @ w1, 0) @ w2)
