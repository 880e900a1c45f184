"""Writes the binary ONNX models used by binary.test into argv[1]."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "sub"), exist_ok=True)


def save(model, name):
    with open(os.path.join(out, name), "wb") as f:
        f.write(model.SerializeToString())


def model(nodes, inputs, outputs, inits=(), ir=8, opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="gen_models")
    m.ir_version = ir
    return m


# Typed data fields, initializers listed among the inputs (IR 3), an
# unranked input, an untyped output, an attribute without a type.
f16 = helper.make_tensor("H", TensorProto.FLOAT16, [2], [0x3C00, 0xC000])
f16.ClearField("raw_data")
f16.int32_data[:] = [0x3C00, 0xC000]  # 1.0, -2.0 as bit patterns
i8 = helper.make_tensor("I8", TensorProto.INT8, [3], [-128, 0, 127])
b = helper.make_tensor("B", TensorProto.BOOL, [2], [True, False])
u32 = helper.make_tensor("U32", TensorProto.UINT32, [2], [1, 4000000000])
d = helper.make_tensor("D", TensorProto.DOUBLE, [1], [0.5])
i64 = helper.make_tensor("L", TensorProto.INT64, [2], [-1, 1 << 40])
big = helper.make_tensor("Big", TensorProto.FLOAT, [300],
                         [float(i) for i in range(300)])
empty = helper.make_tensor("E", TensorProto.FLOAT, [0, 3], [])
inits = [f16, i8, b, u32, d, i64, big, empty]
relu = helper.make_node("Relu", ["X"], ["R"])
notype = helper.make_attribute("alpha", 0.25)
notype.ClearField("type")
leaky = helper.make_node("LeakyRelu", ["R"], ["Y"], name="leaky")
leaky.attribute.append(notype)
inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)]
inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
           for t in inits]
save(model([relu, leaky], inputs, [helper.make_empty_tensor_value_info("Y")],
           inits, ir=3, opset=9), "typed.onnx")

# External data next to the model; offset and length.
data = np.arange(300, dtype=np.float32)
with open(os.path.join(out, "weights.bin"), "wb") as f:
    f.write(b"\xff" * 16 + data.tobytes())


def external(name, location, offset=16, length=1200):
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[300])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)),
                 ("length", str(length))):
        e = w.external_data.add()
        e.key, e.value = k, v
    m = model([helper.make_node("Add", ["X", "W"], ["Y"], name="add")],
              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [300])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [300])],
              [w])
    save(m, name)


external("external.onnx", "weights.bin")
external("sub/escape.onnx", "../weights.bin")
external("absolute.onnx", os.path.abspath(os.path.join(out, "weights.bin")))
external("pastend.onnx", "weights.bin", offset=100)
external("sub/otherdir.onnx", "weights.bin")
os.symlink(os.path.abspath(os.path.join(out, "weights.bin")),
           os.path.join(out, "sub", "link.bin"))
external("sub/symlink.onnx", "link.bin")

# A truncated file: cut in the middle of a raw_data field.
raw = numpy_helper.from_array(np.ones(1000, dtype=np.float32), "W")
m = model([helper.make_node("Add", ["X", "W"], ["Y"])],
          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1000])],
          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1000])],
          [raw])
blob = m.SerializeToString()
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(blob[: len(blob) // 2])
with open(os.path.join(out, "garbage.onnx"), "wb") as f:
    f.write(b"\x07\xff\xff\xff\xff\xff\xff garbage")

# A string initializer and a function attribute reference.
s = helper.make_tensor("S", TensorProto.STRING, [1], [b"x"])
save(model([helper.make_node("Cast", ["S"], ["Y"], to=TensorProto.FLOAT)], [],
           [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])],
           [s]), "string.onnx")
ref = helper.make_node("LeakyRelu", ["X"], ["Y"], name="lr")
a = ref.attribute.add()
a.name, a.ref_attr_name, a.type = "alpha", "outer_alpha", onnx.AttributeProto.FLOAT
save(model([ref], [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
           [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])]),
     "refattr.onnx")
