"""Writes a qopt-level model with the grouped w4a8 matmuls that
qopt-quantize-dynamic makes (docs/quantization.md: per group g an exact i32
qmatmul of the activations' K slice with the int4 weights, then
y = sum_g (f32(acc_g) * sx) * sw[g], g in order, starting from 0) to argv[1]
and its inputs to argv[2] (a directory):

  y: u8 activations with per-row zero points and scales, M=13 K=128 N=80,
     group 32 (full and remainder register tiles in M and N);
  z: s8 activations with a constant scalar zero point (folded into the
     compensation) and a run-time scalar scale (the +128 shift of the
     u8 x s8 dot), group 8;
  v: one row (GEMV), group 32;
  u: as y on other activations (same shapes: CSE shares the zero init of
     the two pairs' i32 buffers, which bufferizes to copies of one buffer);
  a: as y with asymmetric weights (--weight-scheme=asym): q - zp per group
     and column, q and zp in [-8, 7], so values in [-15, 15] (one per byte,
     as qopt-quantize-dynamic folds them), extremes +-15 included.

The weights are int4 in [-8, 7] stored two per byte (qopt.unpack_int4).
With argv[1] == 'check', compares DIR/{y,z,v,u}.npy bit for bit with numpy
computing the same f32 operations in the same order."""
import os
import sys
import numpy as np

M, K, N = 13, 128, 80
rng = np.random.default_rng(2)
x = rng.integers(0, 256, (M, K), dtype=np.int64)
zx = rng.integers(0, 256, (M,), dtype=np.int64)
sx = rng.uniform(0.001, 0.1, (M,)).astype(np.float32)
s = rng.integers(-128, 128, (M, K), dtype=np.int64)
zs, ss = -3, np.float32(0.037)
w = rng.integers(-8, 8, (K, N), dtype=np.int64)
xb = rng.integers(0, 256, (M, K), dtype=np.int64)
x[0, :] = 255  # extremes: u8 255 / s8 -128 against -8 weights
w[:, 0] = -8
s[1, :] = -128
sw32 = rng.uniform(0.001, 0.1, (K // 32, N)).astype(np.float32)
sw8 = rng.uniform(0.001, 0.1, (K // 8, N)).astype(np.float32)
qa = rng.integers(-8, 8, (K, N), dtype=np.int64)
zpa = rng.integers(-8, 8, (K // 32, N), dtype=np.int64)
qa[0, 0], zpa[0, 0] = 7, -8   # 15
qa[32, 1], zpa[1, 1] = -8, 7  # -15
wa = qa - np.repeat(zpa, 32, axis=0)


def ref(a, za, sa, gs, sw, w=w):
    y = np.zeros((a.shape[0], N), np.float32)
    for g in range(K // gs):
        k = slice(g * gs, (g + 1) * gs)
        acc = ((a[:, k] - za) @ w[k]).astype(np.float32)
        y = y + (acc * sa) * sw[g]
    return y


if sys.argv[1] == "check":
    d = sys.argv[2]
    for name, want in [("y", ref(x, zx[:, None], sx[:, None], 32, sw32)),
                       ("z", ref(s, zs, ss, 8, sw8)),
                       ("v", ref(x[2:3], zx[2], sx[2], 32, sw32)),
                       ("u", ref(xb, zx[:, None], sx[:, None], 32, sw32)),
                       ("a", ref(x, zx[:, None], sx[:, None], 32, sw32, wa))]:
        got = np.load(os.path.join(d, name + ".npy"))
        assert got.dtype == np.float32 and got.shape == want.shape, name
        assert (got.view(np.int32) == want.view(np.int32)).all(), \
            "%s: max |diff| %g" % (name, np.abs(got - want).max())
    print("OK bit-exact")
    sys.exit(0)


def dense(a):
    def one(v):
        return "%.9e" % v if isinstance(v, np.floating) else str(int(v))
    return "[" + ",".join(dense(r) if np.ndim(r) else one(r) for r in a) + "]"


# int4 storage: element 2j in the low nibble of byte j, 2j+1 in the high.
flat = (w.reshape(-1) & 15).astype(np.uint8)
packed = (flat[0::2] | (flat[1::2] << 4)).astype(np.int8)
P = packed.size


def grouped(name, a, rows, za, zaty, sa, saty, gs, sw, swname, attrs,
            wconst=None):
    G = K // gs
    m0 = "(d0)" if "x" in saty else "()"
    wdef = (f"%{name}w = qopt.unpack_int4 %wp : tensor<{P}xi8> -> tensor<{G}x{gs}x{N}xi8>"
            if wconst is None else
            f"%{name}w = arith.constant dense<{dense(wconst.reshape(G, gs, N))}> : tensor<{G}x{gs}x{N}xi8>")
    return f"""
  %{name}e = tensor.expand_shape %{a} [[0], [1, 2]] output_shape [{rows}, {G}, {gs}] : tensor<{rows}x{K}xi8> into tensor<{rows}x{G}x{gs}xi8>
  %{name}t0 = tensor.empty() : tensor<{G}x{rows}x{gs}xi8>
  %{name}t = linalg.transpose ins(%{name}e : tensor<{rows}x{G}x{gs}xi8>) outs(%{name}t0 : tensor<{G}x{rows}x{gs}xi8>) permutation = [1, 0, 2]
  {wdef}
  %{name}acc = qopt.qmatmul %{name}t, %{name}w, %{za}, %z0 {attrs} : (tensor<{G}x{rows}x{gs}xi8>, tensor<{G}x{gs}x{N}xi8>, {zaty}, tensor<i8>) -> tensor<{G}x{rows}x{N}xi32>
  %{name}y0 = tensor.empty() : tensor<{rows}x{N}xf32>
  %{name}y1 = linalg.fill ins(%f0 : f32) outs(%{name}y0 : tensor<{rows}x{N}xf32>) -> tensor<{rows}x{N}xf32>
  %{name} = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0, d1)>, affine_map<(d0, d1, d2) -> {m0}>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%{name}acc, %{sa}, %{swname} : tensor<{G}x{rows}x{N}xi32>, {saty}, tensor<{G}x{N}xf32>) outs(%{name}y1 : tensor<{rows}x{N}xf32>) {{
  ^bb0(%i: i32, %a1: f32, %a2: f32, %o: f32):
    %c = arith.sitofp %i : i32 to f32
    %p = arith.mulf %c, %a1 : f32
    %q = arith.mulf %p, %a2 : f32
    %r = arith.addf %o, %q : f32
    linalg.yield %r : f32
  }} -> tensor<{rows}x{N}xf32>"""


open(sys.argv[1], "w").write(f"""
func.func @main(%x: tensor<{M}x{K}xi8> {{qopt.name = "x", qopt.dtype = 2 : i32}},
                %zx: tensor<{M}xi8> {{qopt.name = "zx", qopt.dtype = 2 : i32}},
                %sx: tensor<{M}xf32> {{qopt.name = "sx", qopt.dtype = 1 : i32}},
                %s: tensor<{M}x{K}xi8> {{qopt.name = "s", qopt.dtype = 3 : i32}},
                %x1: tensor<1x{K}xi8> {{qopt.name = "x1", qopt.dtype = 2 : i32}},
                %zx1: tensor<1xi8> {{qopt.name = "zx1", qopt.dtype = 2 : i32}},
                %sx1: tensor<1xf32> {{qopt.name = "sx1", qopt.dtype = 1 : i32}},
                %ss: tensor<f32> {{qopt.name = "ss", qopt.dtype = 1 : i32}},
                %xb: tensor<{M}x{K}xi8> {{qopt.name = "xb", qopt.dtype = 2 : i32}})
    -> (tensor<{M}x{N}xf32> {{qopt.name = "y", qopt.dtype = 1 : i32}},
        tensor<{M}x{N}xf32> {{qopt.name = "z", qopt.dtype = 1 : i32}},
        tensor<1x{N}xf32> {{qopt.name = "v", qopt.dtype = 1 : i32}},
        tensor<{M}x{N}xf32> {{qopt.name = "u", qopt.dtype = 1 : i32}},
        tensor<{M}x{N}xf32> {{qopt.name = "a", qopt.dtype = 1 : i32}}) {{
  %wp = arith.constant dense<{dense(packed.astype(np.int64))}> : tensor<{P}xi8>
  %sw32 = arith.constant dense<{dense(sw32)}> : tensor<{K // 32}x{N}xf32>
  %sw8 = arith.constant dense<{dense(sw8)}> : tensor<{K // 8}x{N}xf32>
  %z0 = arith.constant dense<0> : tensor<i8>
  %zs = arith.constant dense<{zs}> : tensor<i8>
  %f0 = arith.constant 0.0 : f32
{grouped("y", "x", M, "zx", f"tensor<{M}xi8>", "sx", f"tensor<{M}xf32>", 32, sw32, "sw32", "{lhs_unsigned}")}
{grouped("z", "s", M, "zs", "tensor<i8>", "ss", "tensor<f32>", 8, sw8, "sw8", "")}
{grouped("v", "x1", 1, "zx1", "tensor<1xi8>", "sx1", "tensor<1xf32>", 32, sw32, "sw32", "{lhs_unsigned}")}
{grouped("u", "xb", M, "zx", f"tensor<{M}xi8>", "sx", f"tensor<{M}xf32>", 32, sw32, "sw32", "{lhs_unsigned}")}
{grouped("a", "x", M, "zx", f"tensor<{M}xi8>", "sx", f"tensor<{M}xf32>", 32, sw32, "sw32", "{lhs_unsigned}", wa)}
  return %y, %z, %v, %u, %a : tensor<{M}x{N}xf32>, tensor<{M}x{N}xf32>, tensor<1x{N}xf32>, tensor<{M}x{N}xf32>, tensor<{M}x{N}xf32>
}}
""")
d = sys.argv[2]
os.makedirs(d, exist_ok=True)
np.save(os.path.join(d, "x.npy"), x.astype(np.uint8))
np.save(os.path.join(d, "zx.npy"), zx.astype(np.uint8))
np.save(os.path.join(d, "sx.npy"), sx)
np.save(os.path.join(d, "s.npy"), s.astype(np.int8))
np.save(os.path.join(d, "x1.npy"), x[2:3].astype(np.uint8))
np.save(os.path.join(d, "zx1.npy"), zx[2:3].astype(np.uint8))
np.save(os.path.join(d, "sx1.npy"), sx[2:3])
np.save(os.path.join(d, "ss.npy"), np.array(ss, np.float32))
np.save(os.path.join(d, "xb.npy"), xb.astype(np.uint8))
