#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Small ONNX QDQ models (QuantizeLinear/DequantizeLinear around MatMul, the
format of QAT exports and ONNX Runtime's static quantizer) with inputs and
NumPy references, for checking qopt-fold-qdq end to end.

    make_qdq_models.py OUTDIR            writes OUTDIR/NAME.onnx, NAME.x.npy,
                                         NAME.ref_int.npy, NAME.ref_qdq.npy
    make_qdq_models.py --check OUTDIR/NAME Y.npy
                                         compares a qopt-run output

Models (x: f32 [M, K] -> Q(u8) -> DQ; W: int8 [K, N] constant -> DQ;
MatMul -> Q(u8) -> DQ -> y):
  qdq_matmul_per_tensor   one weight scale
  qdq_matmul_per_axis     one weight scale per output column (axis=1)

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
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [M, K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [M, N])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    base = os.path.join(outdir, name)
    onnx.save(model, base + ".onnx")
    np.save(base + ".x.npy", x)

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
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[0], exist_ok=True)
    make(argv[0], "qdq_matmul_per_tensor", False, 1)
    make(argv[0], "qdq_matmul_per_axis", True, 2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
