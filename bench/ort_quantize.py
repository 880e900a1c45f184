"""ONNX Runtime's quantized forms of a model, for bench/kernels.sh (onnx
only: the onnxruntime Python package is not needed). Every MatMul with a 2-D
f32 initializer weight [K, N] becomes

  dq8   com.microsoft DynamicQuantizeMatMul: s8 weights per output channel
        (symmetric), u8 activations quantized per tensor at run time
        (what onnxruntime.quantization.quantize_dynamic produces);
  nb4   com.microsoft MatMulNBits bits=4 block_size=B (argv[4], default 32),
        symmetric (zero point 8), accuracy_level argv[5] (0: f32 compute,
        4: int8 compute).

  python3 ort_quantize.py IN.onnx OUT.onnx dq8|nb4 [BLOCK] [ACC_LEVEL]"""
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
block = int(sys.argv[4]) if len(sys.argv) > 4 else 32
acc = int(sys.argv[5]) if len(sys.argv) > 5 else 0
m = onnx.load(src)
g = m.graph
inits = {i.name: i for i in g.initializer}
nodes, new_inits, used = [], [], set()
for n in g.node:
    w = inits.get(n.input[1]) if n.op_type == "MatMul" else None
    if w is None or len(w.dims) != 2 or w.data_type != onnx.TensorProto.FLOAT:
        nodes.append(n)
        continue
    W = numpy_helper.to_array(w).astype(np.float32)  # [K, N]
    K, N = W.shape
    used.add(w.name)
    if kind == "dq8":
        s = np.maximum(np.abs(W).max(axis=0), 1e-12) / 127.0
        q = np.clip(np.round(W / s), -127, 127).astype(np.int8)
        new_inits += [numpy_helper.from_array(q, w.name + "_q"),
                      numpy_helper.from_array(s.astype(np.float32), w.name + "_s")]
        nodes.append(helper.make_node("DynamicQuantizeMatMul",
                                      [n.input[0], w.name + "_q", w.name + "_s"],
                                      list(n.output), name=n.name,
                                      domain="com.microsoft"))
    else:
        nb = (K + block - 1) // block
        Wt = np.zeros((N, nb * block), np.float32)
        Wt[:, :K] = W.T
        Wb = Wt.reshape(N, nb, block)
        s = np.maximum(np.abs(Wb).max(axis=2), 1e-12) / 7.0  # [N, nb]
        q = (np.clip(np.round(Wb / s[:, :, None]), -8, 7) + 8).astype(np.uint8)
        packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)
        new_inits += [numpy_helper.from_array(packed, w.name + "_q4"),
                      numpy_helper.from_array(s.reshape(-1).astype(np.float32),
                                              w.name + "_s4")]
        nodes.append(helper.make_node(
            "MatMulNBits", [n.input[0], w.name + "_q4", w.name + "_s4"],
            list(n.output), name=n.name, domain="com.microsoft", K=K, N=N,
            bits=4, block_size=block, accuracy_level=acc))
keep = [i for i in g.initializer if i.name not in used]
del g.node[:]
g.node.extend(nodes)
del g.initializer[:]
g.initializer.extend(keep + new_inits)
if not any(o.domain == "com.microsoft" for o in m.opset_import):
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
onnx.save(m, dst)
