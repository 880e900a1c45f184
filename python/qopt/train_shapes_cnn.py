#!/usr/bin/env python3
"""Trains the small CNN in examples/models/shapes_cnn.onnx on shapes10.

    /usr/bin/python3 python/qopt/train_shapes_cnn.py [--out examples/models/shapes_cnn.onnx]

Needs python3-torch (Debian) once, to train; the committed .onnx is what the
tests and docs use. The graph is written node by node (not torch.onnx) so
that every BatchNormalization stays a node with its running statistics,
which is what --calib=synthetic (ZeroQ) matches. Ops: Conv (incl. a
depthwise one), BatchNormalization, Relu, Clip, Add (residual), MaxPool,
GlobalAveragePool, Flatten, Gemm.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from qopt.shapes_data import CLASSES, make  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Net(nn.Module):
    # (name, in, out, kernel, stride, groups); relu6 marks Clip(0, 6).
    LAYERS = [("stem", 3, 16, 3, 1, 1), ("down1", 16, 32, 3, 2, 1),
              ("res_a", 32, 32, 3, 1, 1), ("res_b", 32, 32, 3, 1, 1),
              ("down2", 32, 64, 3, 2, 1), ("dw", 64, 64, 3, 1, 64),
              ("pw", 64, 64, 1, 1, 1)]

    def __init__(self):
        super().__init__()
        self.conv = nn.ModuleDict()
        self.bn = nn.ModuleDict()
        for name, i, o, k, s, g in self.LAYERS:
            self.conv[name] = nn.Conv2d(i, o, k, s, k // 2, groups=g, bias=False)
            self.bn[name] = nn.BatchNorm2d(o)
        self.fc = nn.Linear(64, len(CLASSES))

    def cbr(self, name, x, act=True):
        y = self.bn[name](self.conv[name](x))
        return torch.relu(y) if act else y

    def forward(self, x):
        x = self.cbr("stem", x)
        x = self.cbr("down1", x)
        x = torch.relu(x + self.cbr("res_b", self.cbr("res_a", x), act=False))
        x = self.cbr("down2", x)
        x = torch.clamp(self.bn["dw"](self.conv["dw"](x)), 0, 6)
        x = self.cbr("pw", x)
        x = nn.functional.max_pool2d(x, 2)
        return self.fc(x.mean(dim=(2, 3)))


def export(net, path):
    inits, nodes = [], []

    def arr(name, t):
        inits.append(numpy_helper.from_array(t.detach().numpy().astype(np.float32), name))
        return name

    def cbr(name, x, act="relu"):
        i, o, k, s, g = next(layer[1:] for layer in Net.LAYERS if layer[0] == name)
        c, b = net.conv[name], net.bn[name]
        nodes.append(helper.make_node(
            "Conv", [x, arr(name + ".w", c.weight)], [name + ".conv"], name=name + ".conv",
            kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4, group=g))
        nodes.append(helper.make_node(
            "BatchNormalization",
            [name + ".conv", arr(name + ".bn.scale", b.weight), arr(name + ".bn.bias", b.bias),
             arr(name + ".bn.mean", b.running_mean), arr(name + ".bn.var", b.running_var)],
            [name + ".bn"], name=name + ".bn", epsilon=b.eps))
        if act == "relu":
            nodes.append(helper.make_node("Relu", [name + ".bn"], [name], name=name + ".relu"))
            return name
        if act == "relu6":
            lo = arr("relu6.lo", torch.tensor(0.0)) if "relu6.lo" not in [t.name for t in inits] else "relu6.lo"
            hi = arr("relu6.hi", torch.tensor(6.0)) if "relu6.hi" not in [t.name for t in inits] else "relu6.hi"
            nodes.append(helper.make_node("Clip", [name + ".bn", lo, hi], [name], name=name + ".clip"))
            return name
        return name + ".bn"

    x = cbr("stem", "image")
    x = cbr("down1", x)
    r = cbr("res_b", cbr("res_a", x), act=None)
    nodes.append(helper.make_node("Add", [x, r], ["res.add"], name="res.add"))
    nodes.append(helper.make_node("Relu", ["res.add"], ["res"], name="res.relu"))
    x = cbr("down2", "res")
    x = cbr("dw", x, act="relu6")
    x = cbr("pw", x)
    nodes.append(helper.make_node("MaxPool", [x], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("GlobalAveragePool", ["pool"], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"))
    nodes.append(helper.make_node("Gemm", ["flat", arr("fc.w", net.fc.weight), arr("fc.b", net.fc.bias)],
                                  ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        nodes, "shapes_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, len(CLASSES)])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="qopt train_shapes_cnn.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "examples/models/shapes_cnn.onnx"))
    ap.add_argument("--train", type=int, default=24000)
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    x, y = make(args.train, seed=100)
    xt, yt = make(2000, seed=2)
    x, y, xt, yt = map(torch.from_numpy, (x, y, xt, yt))
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    steps = args.epochs * (len(x) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(x))
        for b in range(len(x) // 128):
            idx = perm[b * 128:(b + 1) * 128]
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xt).argmax(1) == yt).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, test accuracy {acc * 100:.2f} %", flush=True)
    export(net, args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
