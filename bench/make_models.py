"""Writes the GEMM/GEMV benchmark models of bench/kernels.sh to DIR (argv[1]):
for each M in argv[2] (comma-separated) and K, N (argv[3], argv[4]):

  mmi_M.onnx   MatMulInteger  A u8 [M,K] x B s8 [K,N] (constant), zp_A = 128
  qlmm_M.onnx  QLinearMatMul  same operands, u8 output
  dqmm_M.onnx  com.microsoft DynamicQuantizeMatMul (f32 A, s8 B): ONNX
               Runtime only (qopt: fp_M.onnx with --quant=w8a8-dynamic)
  fp_M.onnx    MatMul f32 A [M,K] x f32 B (constant)

and the inputs a_u8_M.npy / a_f32_M.npy."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
Ms = [int(m) for m in sys.argv[2].split(",")]
K, N = int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
b8 = rng.integers(-127, 128, (K, N), dtype=np.int8)
bf = (b8.astype(np.float32) * 0.01).astype(np.float32)


def save(name, nodes, inputs, outputs, inits, domain=False):
    opsets = [helper.make_opsetid("", 13)]
    if domain:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=opsets)
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name + ".onnx"))


for M in Ms:
    A8 = helper.make_tensor_value_info("A", TensorProto.UINT8, [M, K])
    Af = helper.make_tensor_value_info("A", TensorProto.FLOAT, [M, K])
    B = numpy_helper.from_array(b8, "B")
    azp = numpy_helper.from_array(np.array(128, np.uint8), "a_zp")
    bzp = numpy_helper.from_array(np.array(0, np.int8), "b_zp")
    sc = lambda n, v: numpy_helper.from_array(np.array(v, np.float32), n)
    save(f"mmi_{M}",
         [helper.make_node("MatMulInteger", ["A", "B", "a_zp", "b_zp"], ["Y"])],
         [A8], [helper.make_tensor_value_info("Y", TensorProto.INT32, [M, N])],
         [B, azp, bzp])
    save(f"qlmm_{M}",
         [helper.make_node("QLinearMatMul",
                           ["A", "a_s", "a_zp", "B", "b_s", "b_zp", "y_s", "y_zp"],
                           ["Y"])],
         [A8], [helper.make_tensor_value_info("Y", TensorProto.UINT8, [M, N])],
         [B, azp, bzp, sc("a_s", 0.02), sc("b_s", 0.01), sc("y_s", 0.5),
          numpy_helper.from_array(np.array(128, np.uint8), "y_zp")])
    save(f"dqmm_{M}",
         [helper.make_node("DynamicQuantizeMatMul", ["A", "B", "b_s"], ["Y"],
                           domain="com.microsoft")],
         [Af], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [M, N])],
         [B, sc("b_s", 0.01)], domain=True)
    save(f"fp_{M}", [helper.make_node("MatMul", ["A", "B"], ["Y"])], [Af],
         [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [M, N])],
         [numpy_helper.from_array(bf, "B")])
    np.save(os.path.join(out, f"a_u8_{M}.npy"),
            rng.integers(0, 256, (M, K), dtype=np.uint8))
    np.save(os.path.join(out, f"a_f32_{M}.npy"),
            rng.standard_normal((M, K)).astype(np.float32))
