"""Writes a qopt-level model with three constant-weight qopt.qmatmuls (u8 x
s8 with per-row activation zero points, s8 x s8 with a scalar one; M=13,
K=64, N=80: full and remainder register tiles on every target; and a batched
one as the grouped int4 path makes: [3, 13, 32] x [3, 32, 48] int4-range
weights; and a large one, M=260 K=4104 N=80 u8 x s8 with zero point 0, whose
K (2 K blocks on AVX-512, the second continuing from the partial sums of
the first) and M (2 M blocks) are cache-blocked; and u8 x s8 with N=128,
whose weights pack into panels of the whole register tile) to argv[1] and its inputs
to argv[2] (a directory); with argv[1] == 'check', compares
DIR/{y,z,g,b,p}.npy (DIR = argv[2]) exactly with numpy."""
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
B, Kg, Ng = 3, 32, 48
wg = rng.integers(-8, 8, (B, Kg, Ng), dtype=np.int64)
xg = rng.integers(0, 256, (B, M, Kg), dtype=np.int64)
Np = 128
wp = rng.integers(-128, 128, (K, Np), dtype=np.int64)
wp[:, 70] = -128
Mb, Kb = 260, 4104
wb = rng.integers(-128, 128, (Kb, N), dtype=np.int64)
xb = rng.integers(0, 256, (Mb, Kb), dtype=np.int64)
xb[-1, :] = 255  # the largest i32 partial sums, in the remainder row tile
wb[:, -1] = -128
if sys.argv[1] == "check":
    y = np.load(os.path.join(sys.argv[2], "y.npy"))
    z = np.load(os.path.join(sys.argv[2], "z.npy"))
    assert (y == (x - zx[:, None]) @ w).all(), "u8 x s8 mismatch"
    assert (z == (s - zs) @ w).all(), "s8 x s8 mismatch"
    g = np.load(os.path.join(sys.argv[2], "g.npy"))
    assert (g == (xg - zx[None, :, None]) @ wg).all(), "batched mismatch"
    b = np.load(os.path.join(sys.argv[2], "b.npy"))
    assert (b == xb @ wb).all(), "cache-blocked mismatch"
    p = np.load(os.path.join(sys.argv[2], "p.npy"))
    assert (p == (x - zx[:, None]) @ wp).all(), "panel mismatch"
    print("OK exact")
    sys.exit(0)


def dense(a):
    if a.ndim == 0:
        return str(int(a))
    if a.ndim == 1:
        return "[" + ",".join(str(int(v)) for v in a) + "]"
    return "[" + ",".join(dense(r) for r in a) + "]"


open(sys.argv[1], "w").write(f"""
func.func @main(%x: tensor<{M}x{K}xi8> {{qopt.name = "x", qopt.dtype = 2 : i32}},
                %zx: tensor<{M}xi8> {{qopt.name = "zx", qopt.dtype = 2 : i32}},
                %s: tensor<{M}x{K}xi8> {{qopt.name = "s", qopt.dtype = 3 : i32}},
                %xg: tensor<{B}x{M}x{Kg}xi8> {{qopt.name = "xg", qopt.dtype = 2 : i32}},
                %xb: tensor<{Mb}x{Kb}xi8> {{qopt.name = "xb", qopt.dtype = 2 : i32}})
    -> (tensor<{M}x{N}xi32> {{qopt.name = "y", qopt.dtype = 6 : i32}},
        tensor<{M}x{N}xi32> {{qopt.name = "z", qopt.dtype = 6 : i32}},
        tensor<{B}x{M}x{Ng}xi32> {{qopt.name = "g", qopt.dtype = 6 : i32}},
        tensor<{Mb}x{N}xi32> {{qopt.name = "b", qopt.dtype = 6 : i32}},
        tensor<{M}x{Np}xi32> {{qopt.name = "p", qopt.dtype = 6 : i32}}) {{
  %wp = arith.constant dense<{dense(wp)}> : tensor<{K}x{Np}xi8>
  %wb = arith.constant dense<{dense(wb)}> : tensor<{Kb}x{N}xi8>
  %wg = arith.constant dense<{dense(wg)}> : tensor<{B}x{Kg}x{Ng}xi8>
  %w = arith.constant dense<{dense(w)}> : tensor<{K}x{N}xi8>
  %z0 = arith.constant dense<0> : tensor<i8>
  %zs = arith.constant dense<{zs}> : tensor<i8>
  %y = qopt.qmatmul %x, %w, %zx, %z0 {{lhs_unsigned}} : (tensor<{M}x{K}xi8>, tensor<{K}x{N}xi8>, tensor<{M}xi8>, tensor<i8>) -> tensor<{M}x{N}xi32>
  %z = qopt.qmatmul %s, %w, %zs, %z0 : (tensor<{M}x{K}xi8>, tensor<{K}x{N}xi8>, tensor<i8>, tensor<i8>) -> tensor<{M}x{N}xi32>
  %g = qopt.qmatmul %xg, %wg, %zx, %z0 {{lhs_unsigned}} : (tensor<{B}x{M}x{Kg}xi8>, tensor<{B}x{Kg}x{Ng}xi8>, tensor<{M}xi8>, tensor<i8>) -> tensor<{B}x{M}x{Ng}xi32>
  %b = qopt.qmatmul %xb, %wb, %z0, %z0 {{lhs_unsigned}} : (tensor<{Mb}x{Kb}xi8>, tensor<{Kb}x{N}xi8>, tensor<i8>, tensor<i8>) -> tensor<{Mb}x{N}xi32>
  %p = qopt.qmatmul %x, %wp, %zx, %z0 {{lhs_unsigned}} : (tensor<{M}x{K}xi8>, tensor<{K}x{Np}xi8>, tensor<{M}xi8>, tensor<i8>) -> tensor<{M}x{Np}xi32>
  return %y, %z, %g, %b, %p : tensor<{M}x{N}xi32>, tensor<{M}x{N}xi32>, tensor<{B}x{M}x{Ng}xi32>, tensor<{Mb}x{N}xi32>, tensor<{M}x{Np}xi32>
}}
""")
d = sys.argv[2]
os.makedirs(d, exist_ok=True)
np.save(os.path.join(d, "x.npy"), x.astype(np.uint8))
np.save(os.path.join(d, "zx.npy"), zx.astype(np.uint8))
np.save(os.path.join(d, "s.npy"), s.astype(np.int8))
np.save(os.path.join(d, "xg.npy"), xg.astype(np.uint8))
np.save(os.path.join(d, "xb.npy"), xb.astype(np.uint8))
