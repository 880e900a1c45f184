"""Writes a qopt-level model y = x @ W (x [2, 3, 8], W [8, 4] constant) to
argv[1], its input to argv[2]; with argv[3] == 'check', compares DIR/y.npy
(argv[4]) with the f32 reference within argv[5] (relative to max|ref|)."""
import sys
import numpy as np

rng = np.random.default_rng(0)
w = rng.standard_normal((8, 4)).astype(np.float32)
x = rng.standard_normal((2, 3, 8)).astype(np.float32)
if len(sys.argv) > 3 and sys.argv[3] == "check":
    y = np.load(sys.argv[4])
    ref = x.astype(np.float64) @ w
    err = np.abs(y - ref).max() / np.abs(ref).max()
    assert err < float(sys.argv[5]), err
    print("OK rel_err=%.3g" % err)
    sys.exit(0)
rows = ",".join("[" + ",".join("%.9e" % v for v in r) + "]" for r in w)
open(sys.argv[1], "w").write(f"""
func.func @main(%x: tensor<2x3x8xf32> {{qopt.name = "x", qopt.dtype = 1 : i32}})
    -> (tensor<2x3x4xf32> {{qopt.name = "y", qopt.dtype = 1 : i32}}) {{
  %w = arith.constant dense<[{rows}]> : tensor<8x4xf32>
  %y = qopt.matmul %x, %w {{qopt.layer = "fc"}} : (tensor<2x3x8xf32>, tensor<8x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}}
""")
np.save(sys.argv[2], x)
