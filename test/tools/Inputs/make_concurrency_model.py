"""Writes concurrency.onnx: y = softmax(relu(x @ W1 + b1) @ W2), z = x + 1,
and z2 = z (the same tensor under two output names). W1/W2 exceed the
weights threshold, so the run also reads the mmapped weights blob."""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
inits = [numpy_helper.from_array(rng.standard_normal((64, 128)).astype(np.float32) * 0.1, "W1"),
         numpy_helper.from_array(rng.standard_normal(128).astype(np.float32) * 0.1, "b1"),
         numpy_helper.from_array(rng.standard_normal((128, 16)).astype(np.float32) * 0.1, "W2"),
         numpy_helper.from_array(np.ones(1, np.float32), "one")]
nodes = [helper.make_node("MatMul", ["x", "W1"], ["h0"]),
         helper.make_node("Add", ["h0", "b1"], ["h1"]),
         helper.make_node("Relu", ["h1"], ["h2"]),
         helper.make_node("MatMul", ["h2", "W2"], ["l"]),
         helper.make_node("Softmax", ["l"], ["y"], axis=-1),
         helper.make_node("Add", ["x", "one"], ["z"]),
         helper.make_node("Identity", ["z"], ["z2"])]
F = TensorProto.FLOAT
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [32, 64])],
                      [helper.make_tensor_value_info("y", F, [32, 16]),
                       helper.make_tensor_value_info("z", F, [32, 64]),
                       helper.make_tensor_value_info("z2", F, [32, 64])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
open(sys.argv[1], "wb").write(m.SerializeToString())
