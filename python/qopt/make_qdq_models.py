#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Small ONNX QDQ models (QuantizeLinear/DequantizeLinear around MatMul, the
format of QAT exports and ONNX Runtime's static quantizer) with inputs and
NumPy references, for checking qopt-fold-qdq end to end.

    make_qdq_models.py OUTDIR            writes OUTDIR/NAME.onnx, NAME.x.npy,
                                         NAME.ref_int.npy, NAME.ref_qdq.npy
    make_qdq_models.py --check OUTDIR/NAME Y.npy
                                         compares a qopt-run output

Models (x: f32 -> Q(u8) -> DQ; W: int8 constant -> DQ; op -> Q(u8) -> DQ -> y):
  qdq_matmul_per_tensor   MatMul [M, K] x [K, N], one weight scale
  qdq_matmul_per_axis     MatMul, one weight scale per output column (axis=1)
  qdq_gemm_per_axis       Gemm transB=1, W [N, K] per row (axis=0), int32
                          bias C = DQ(c, sx * sw, 0)
  qdq_conv_per_tensor     Conv 3x3, pads 1, group 2, one weight scale, int32
                          bias B = DQ(b, sx * sw, 0)
  qdq_conv_per_axis       Conv 3x3, stride 2, pads 1, one weight scale per
                          output channel (axis=0), no bias

    make_qdq_models.py --compare OUTDIR/NAME Y.npy Y_FLOAT.npy
                                         compares the folded output with the
                                         unfolded (float QDQ) compile of the
                                         same model: within one output step

Two references:
  ref_int  the folded semantics (docs/semantics.md §9): the exact int32
           product, f32(acc) * f32(sx * sw[n]), then the output quantize and
           dequantize of §1/§2. qopt must match it bit for bit: every step
           is one IEEE f32 operation in the same order.
  ref_qdq  the QDQ float simulation ONNX Runtime's reference kernels compute:
           dequantized f32 operands, an f32 matmul, quantize, dequantize. Its
           f32 sums round differently from the exact integer sum, so the
           quantized output may differ by one step (y_scale) where a value
           lies within float rounding of a rounding boundary; --check allows
           exactly one step against it and reports how many elements differ.
"""
import os
import sys

import numpy as np

M, K, N = 8, 32, 16


def save_model(outdir, name, nodes, inits, xshape, yshape, x):
    """Checks and writes OUTDIR/NAME.onnx (opset 13, IR 7) and its input."""
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, yshape)],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    base = os.path.join(outdir, name)
    onnx.save(model, base + ".onnx")
    np.save(base + ".x.npy", x)
    return base


def quantize(x, s, z, lo, hi):
    return np.clip(np.rint(x.astype(np.float32) / np.float32(s)) + np.float32(z),
                   lo, hi)


def make(outdir, name, per_axis, seed):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((M, K)).astype(np.float32)
    wq = rng.integers(-127, 128, size=(K, N)).astype(np.int8)
    sx, zx = np.float32(4.0 / 255), np.uint8(128)
    if per_axis:
        sw = (rng.uniform(0.5, 2.0, size=N) / 127).astype(np.float32)
        zw = np.zeros(N, np.int8)
    else:
        sw, zw = np.float32(1.0 / 127), np.int8(0)
    sy, zy = np.float32(0.25), np.uint8(100)

    inits = [
        numpy_helper.from_array(np.array(sx), "sx"),
        numpy_helper.from_array(np.array(zx), "zx"),
        numpy_helper.from_array(wq, "wq"),
        numpy_helper.from_array(np.array(sw), "sw"),
        numpy_helper.from_array(np.array(zw), "zw"),
        numpy_helper.from_array(np.array(sy), "sy"),
        numpy_helper.from_array(np.array(zy), "zy"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], name="qx"),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], name="dqx"),
        helper.make_node("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], name="dqw",
                         axis=1),
        helper.make_node("MatMul", ["xd", "wd"], ["yf"], name="mm"),
        helper.make_node("QuantizeLinear", ["yf", "sy", "zy"], ["yq"], name="qy"),
        helper.make_node("DequantizeLinear", ["yq", "sy", "zy"], ["y"], name="dqy"),
    ]
    base = save_model(outdir, name, nodes, inits, [M, K], [M, N], x)

    xq = quantize(x, sx, zx, 0, 255).astype(np.int32)
    # Folded: exact int32 product, one f32 scale multiply per element.
    acc = (xq - np.int32(zx)) @ (wq.astype(np.int32) - zw.astype(np.int32))
    scale = (np.float32(sx) * np.asarray(sw, np.float32)).astype(np.float32)
    yf = acc.astype(np.float32) * scale
    yq = quantize(yf, sy, zy, 0, 255)
    ref_int = ((yq - np.float32(zy)) * sy).astype(np.float32)
    # QDQ float simulation.
    xd = ((xq - np.int32(zx)).astype(np.float32) * sx).astype(np.float32)
    wd = ((wq.astype(np.int32) - zw).astype(np.float32) *
          np.asarray(sw, np.float32)).astype(np.float32)
    yf2 = (xd @ wd).astype(np.float32)
    yq2 = quantize(yf2, sy, zy, 0, 255)
    ref_qdq = ((yq2 - np.float32(zy)) * sy).astype(np.float32)
    np.save(base + ".ref_int.npy", ref_int)
    np.save(base + ".ref_qdq.npy", ref_qdq)
    np.save(base + ".step.npy", np.array(sy))


def im2col(x, kh, kw, stride, pad, fill):
    """x [C, H, W] -> [C*kh*kw, OH*OW] windows, padding with `fill`."""
    C, H, W = x.shape
    xp = np.full((C, H + 2 * pad, W + 2 * pad), fill, dtype=x.dtype)
    xp[:, pad:pad + H, pad:pad + W] = x
    OH = (H + 2 * pad - kh) // stride + 1
    OW = (W + 2 * pad - kw) // stride + 1
    cols = np.empty((C, kh, kw, OH, OW), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[:, i:i + stride * OH:stride, j:j + stride * OW:stride]
    return cols.reshape(C * kh * kw, OH * OW), OH, OW


def conv2d(x, w, group, stride, pad, fill):
    """One image: x [C, H, W], w [M, C/G, kh, kw] -> [M, OH, OW] in x's dtype
    (int64 for exact integer sums, float32 for the float simulation)."""
    M, Cg, kh, kw = w.shape
    Mg = M // group
    outs = []
    for g in range(group):
        cols, OH, OW = im2col(x[g * Cg:(g + 1) * Cg], kh, kw, stride, pad, fill)
        wg = w[g * Mg:(g + 1) * Mg].reshape(Mg, -1)
        outs.append((wg @ cols).reshape(Mg, OH, OW))
    return np.concatenate(outs, 0)


def make_layer(outdir, name, op, seed):
    """Gemm / Conv QDQ models (see the module docstring)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    sx, zx = np.float32(4.0 / 255), np.uint8(128)
    sy, zy = np.float32(0.25), np.uint8(100)
    attrs, bias = {}, True
    if op == "gemm":
        xshape, wshape = (M, K), (N, K)
        axis_len, per_axis = N, True
        attrs = {"transB": 1}
    else:
        xshape, wshape = (1, 4, 8, 8), (6, 2, 3, 3)
        per_axis = name.endswith("per_axis")
        axis_len = wshape[0]
        if per_axis:
            wshape = (6, 4, 3, 3)
            attrs = {"pads": [1, 1, 1, 1], "strides": [2, 2]}
            bias = False
        else:
            attrs = {"pads": [1, 1, 1, 1], "group": 2}
    x = rng.standard_normal(xshape).astype(np.float32)
    wq = rng.integers(-127, 128, size=wshape).astype(np.int8)
    if per_axis:
        sw = (rng.uniform(0.5, 2.0, size=axis_len) / 127).astype(np.float32)
        zw = np.zeros(axis_len, np.int8)
    else:
        sw, zw = np.float32(1.0 / 64), np.int8(0)
    sb = (np.float32(sx) * np.asarray(sw, np.float32)).astype(np.float32)
    bq = rng.integers(-2000, 2000, size=axis_len).astype(np.int32)

    inits = [numpy_helper.from_array(np.array(v), n) for v, n in
             [(sx, "sx"), (zx, "zx"), (wq, "wq"), (sw, "sw"), (zw, "zw"),
              (sy, "sy"), (zy, "zy")]]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], name="qx"),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], name="dqx"),
        helper.make_node("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], name="dqw",
                         axis=0),
    ]
    ins = ["xd", "wd"]
    if bias:
        inits += [numpy_helper.from_array(bq, "bq"),
                  numpy_helper.from_array(np.array(sb), "sb")]
        nodes.append(helper.make_node("DequantizeLinear", ["bq", "sb"], ["bd"],
                                      name="dqb", axis=0))
        ins.append("bd")
    nodes += [
        helper.make_node("Gemm" if op == "gemm" else "Conv", ins, ["yf"],
                         name=op, **attrs),
        helper.make_node("QuantizeLinear", ["yf", "sy", "zy"], ["yq"], name="qy"),
        helper.make_node("DequantizeLinear", ["yq", "sy", "zy"], ["y"], name="dqy"),
    ]
    xq = quantize(x, sx, zx, 0, 255).astype(np.int64)
    wi = wq.astype(np.int64) - np.asarray(zw, np.int64).reshape(
        (-1,) + (1,) * (len(wshape) - 1))
    xd = ((xq - np.int64(zx)).astype(np.float32) * sx).astype(np.float32)
    sw_b = np.asarray(sw, np.float32).reshape((-1,) + (1,) * (len(wshape) - 1))
    wd = (wi.astype(np.float32) * sw_b).astype(np.float32)
    bf = (bq.astype(np.float32) * sb).astype(np.float32) if bias else 0
    if op == "gemm":
        acc = (xq - np.int64(zx)) @ wi.T
        scale = sb  # f32(sx * sw[n]) along the last dim
        yflt = (xd @ wd.T).astype(np.float32)
        bias_b = bf
    else:
        g, st, pd = attrs.get("group", 1), attrs.get("strides", [1])[0], 1
        acc = conv2d(xq[0] - np.int64(zx), wi, g, st, pd, 0)[None]
        scale = sb.reshape(-1, 1, 1) if sb.ndim else sb
        yflt = conv2d(xd[0], wd, g, st, pd, np.float32(0))[None].astype(np.float32)
        bias_b = bf.reshape(-1, 1, 1) if bias else 0
    yshape = acc.shape
    base = save_model(outdir, name, nodes, inits, list(xshape), list(yshape), x)
    # Folded: exact int32 sum, one f32 multiply by f32(sx * sw), f32 bias add.
    yf = (acc.astype(np.float32) * scale).astype(np.float32)
    if bias:
        yf = (yf + bias_b).astype(np.float32)
    yq = quantize(yf, sy, zy, 0, 255)
    np.save(base + ".ref_int.npy", ((yq - np.float32(zy)) * sy).astype(np.float32))
    # Float QDQ simulation.
    if bias:
        yflt = (yflt + bias_b).astype(np.float32)
    yq2 = quantize(yflt, sy, zy, 0, 255)
    np.save(base + ".ref_qdq.npy", ((yq2 - np.float32(zy)) * sy).astype(np.float32))
    np.save(base + ".step.npy", np.array(sy))


def compare(base, ypath, fpath):
    """The folded output vs the unfolded (float) compile of the same model."""
    y, f = np.load(ypath), np.load(fpath)
    step = float(np.load(base + ".step.npy"))
    name = os.path.basename(base)
    if y.shape != f.shape:
        print(f"{name}: FAIL shapes {y.shape} {f.shape}")
        return 1
    diff = np.abs(y - f)
    off = int(np.count_nonzero(diff))
    ok = bool(np.all(diff <= step * 1.0001))
    print(f"{name}: {'OK' if ok else 'FAIL'} folded-vs-float-within-one-step={ok} "
          f"({off}/{y.size} elements differ by one step)")
    return 0 if ok else 1


def check(base, ypath):
    y = np.load(ypath)
    ref_int = np.load(base + ".ref_int.npy")
    ref_qdq = np.load(base + ".ref_qdq.npy")
    step = float(np.load(base + ".step.npy"))
    name = os.path.basename(base)
    if y.shape != ref_int.shape or y.dtype != np.float32:
        print(f"{name}: FAIL shape/dtype {y.shape} {y.dtype}")
        return 1
    exact = np.array_equal(y, ref_int)
    diff = np.abs(y - ref_qdq)
    off = int(np.count_nonzero(diff))
    within = bool(np.all(diff <= step * 1.0001))
    ok = exact and within
    print(f"{name}: {'OK' if ok else 'FAIL'} int-exact={exact} "
          f"qdq-within-one-step={within} ({off}/{y.size} elements differ "
          f"from the float QDQ simulation)")
    return 0 if ok else 1


def main(argv):
    if len(argv) == 3 and argv[0] == "--check":
        return check(argv[1], argv[2])
    if len(argv) == 4 and argv[0] == "--compare":
        return compare(argv[1], argv[2], argv[3])
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[0], exist_ok=True)
    make(argv[0], "qdq_matmul_per_tensor", False, 1)
    make(argv[0], "qdq_matmul_per_axis", True, 2)
    make_layer(argv[0], "qdq_gemm_per_axis", "gemm", 3)
    make_layer(argv[0], "qdq_conv_per_tensor", "conv", 4)
    make_layer(argv[0], "qdq_conv_per_axis", "conv", 5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
