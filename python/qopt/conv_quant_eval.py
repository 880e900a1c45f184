#!/usr/bin/env python3
"""Accuracy of --quant on Conv layers (docs/quantization.md "Conv layers").

    /usr/bin/python3 python/qopt/conv_quant_eval.py [--build build] [--check]

1. examples/models/tiny_cnn.onnx: compiled FP32 and with each scheme, run on
   the bundled image and 15 seeded random images; prints max |dprob| vs FP32.
   Static w8a8 is calibrated on 32 other random images (--calib=.npy).
2. The pytorch-converted Conv tests of the ONNX test data: each model is
   compiled with each scheme and its output compared to the test's expected
   output; prints the max abs error and that error relative to max |expected|.
   Static w8a8 calibrates on the test's own input (--calib=the test dir).

--check exits 1 when an error exceeds the tolerance of its scheme (TOL).
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnx import TensorProto, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from qopt import Model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = "/usr/share/libonnx-testdata/data/pytorch-converted"
SCHEMES = ["w8", "w4", "w8a8-dynamic", "w4a8", "w8a8"]
# Relative error (max |y - expected| / max |expected|) allowed per scheme on
# the ONNX tests, and max |dprob| on tiny_cnn.
TOL = {"w8": 0.02, "w4": 0.2, "w8a8-dynamic": 0.04, "w4a8": 0.2, "w8a8": 0.04}
TOL_PROB = {"w8": 0.01, "w4": 0.1, "w8a8-dynamic": 0.02, "w4a8": 0.1,
            "w8a8": 0.02}


def compile_model(qc, model, out, scheme, calib=None):
    cmd = [qc, model, "-o", out]
    if scheme != "fp32":
        cmd.append("--quant=" + scheme)
    if scheme == "w8a8":
        cmd.append("--calib=" + calib)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), r.stderr))
    return Model(out)


def read_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    qc = os.path.join(args.build, "bin", "qopt-compile")
    bad = []
    tmp = tempfile.mkdtemp(prefix="qopt-conv-")

    cnn = os.path.join(ROOT, "examples", "models", "tiny_cnn.onnx")
    img = np.load(os.path.join(ROOT, "examples", "models", "tiny_cnn_image.npy"))
    rng = np.random.default_rng(1)
    xs = [img] + [rng.standard_normal(img.shape).astype(np.float32)
                  for _ in range(15)]
    calib = os.path.join(tmp, "calib.npy")
    np.save(calib, rng.standard_normal((32,) + img.shape).astype(np.float32))
    ref = compile_model(qc, cnn, os.path.join(tmp, "cnn_fp32.so"), "fp32")
    ys = [ref.run([x])[0] for x in xs]
    print("tiny_cnn.onnx (16 images): max |dprob| vs fp32")
    for s in SCHEMES:
        m = compile_model(qc, cnn, os.path.join(tmp, "cnn_%s.so" % s), s, calib)
        d = max(float(np.max(np.abs(m.run([x])[0] - y))) for x, y in zip(xs, ys))
        flag = "" if d <= TOL_PROB[s] else "  EXCEEDS %g" % TOL_PROB[s]
        print("  %-13s %.3e%s" % (s, d, flag))
        if flag:
            bad.append("tiny_cnn " + s)

    print("pytorch-converted Conv tests: max |y - expected| (relative to max |expected|)")
    worst = {s: 0.0 for s in SCHEMES}
    for d in sorted(glob.glob(os.path.join(TESTS, "test_Conv[123]d*"))):
        name = os.path.basename(d)
        ds = os.path.join(d, "test_data_set_0")
        x = read_pb(os.path.join(ds, "input_0.pb"))
        want = read_pb(os.path.join(ds, "output_0.pb"))
        row = []
        for s in SCHEMES:
            m = compile_model(qc, os.path.join(d, "model.onnx"),
                              os.path.join(tmp, "%s_%s.so" % (name, s)), s, d)
            err = float(np.max(np.abs(m.run([x])[0] - want)))
            rel = err / max(float(np.max(np.abs(want))), 1e-30)
            worst[s] = max(worst[s], rel)
            row.append("%s %.2e (%.2f%%)" % (s, err, 100 * rel))
            if rel > TOL[s]:
                bad.append("%s %s" % (name, s))
        print("  %-38s %s" % (name, "  ".join(row)))
    print("  worst relative error: " +
          "  ".join("%s %.2f%%" % (s, 100 * worst[s]) for s in SCHEMES))
    if bad:
        print("over tolerance: " + ", ".join(bad))
        if args.check:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
