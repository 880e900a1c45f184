"""Writes a qopt-level model with two constant-weight qopt.qmatmuls (u8 x s8
with per-row activation zero points, s8 x s8 with a scalar one; M=13, K=64,
N=80: full and remainder register tiles on every target) to argv[1] and its
inputs to argv[2] (a directory); with argv[1] == 'check', compares
DIR/y.npy and DIR/z.npy (DIR = argv[2]) exactly with numpy's int64 result."""
import os
import sys
import numpy as np

M, K, N = 13, 64, 80
rng = np.random.default_rng(1)
w = rng.integers(-128, 128, (K, N), dtype=np.int64)
x = rng.integers(0, 256, (M, K), dtype=np.int64)
zx = rng.integers(0, 256, (M,), dtype=np.int64)
s = rng.integers(-128, 128, (M, K), dtype=np.int64)
x[0, :] = 255  # extremes: u8 255 and s8 -128 against -128 weights
w[:, 0] = -128
s[1, :] = -128
zs = -7
if sys.argv[1] == "check":
    y = np.load(os.path.join(sys.argv[2], "y.npy"))
    z = np.load(os.path.join(sys.argv[2], "z.npy"))
    assert (y == (x - zx[:, None]) @ w).all(), "u8 x s8 mismatch"
    assert (z == (s - zs) @ w).all(), "s8 x s8 mismatch"
    print("OK exact")
    sys.exit(0)


def dense(a):
    if a.ndim == 1:
        return "[" + ",".join(str(int(v)) for v in a) + "]"
    return "[" + ",".join(dense(r) for r in a) + "]"


open(sys.argv[1], "w").write(f"""
func.func @main(%x: tensor<{M}x{K}xi8> {{qopt.name = "x", qopt.dtype = 2 : i32}},
                %zx: tensor<{M}xi8> {{qopt.name = "zx", qopt.dtype = 2 : i32}},
                %s: tensor<{M}x{K}xi8> {{qopt.name = "s", qopt.dtype = 3 : i32}})
    -> (tensor<{M}x{N}xi32> {{qopt.name = "y", qopt.dtype = 6 : i32}},
        tensor<{M}x{N}xi32> {{qopt.name = "z", qopt.dtype = 6 : i32}}) {{
  %w = arith.constant dense<{dense(w)}> : tensor<{K}x{N}xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %zs = arith.constant dense<{zs}> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 {{lhs_unsigned}} : (tensor<{M}x{K}xi8>, tensor<{K}x{N}xi8>, tensor<{M}xi8>, tensor<i8>) -> tensor<{M}x{N}xi32>
  %z = qopt.qmatmul %s, %w, %zs, %z0 : (tensor<{M}x{K}xi8>, tensor<{K}x{N}xi8>, tensor<i8>, tensor<i8>) -> tensor<{M}x{N}xi32>
  return %y, %z : tensor<{M}x{N}xi32>, tensor<{M}x{N}xi32>
}}
""")
d = sys.argv[2]
os.makedirs(d, exist_ok=True)
np.save(os.path.join(d, "x.npy"), x.astype(np.uint8))
np.save(os.path.join(d, "zx.npy"), zx.astype(np.uint8))
np.save(os.path.join(d, "s.npy"), s.astype(np.int8))
