#!/usr/bin/env python3
"""Top-1 accuracy of compiled shapes10 classifiers; data-free vs real calibration.

    /usr/bin/python3 python/qopt/eval_classifier.py MODEL.so [MODEL.so ...]
    /usr/bin/python3 python/qopt/eval_classifier.py --compare [--build build]

The first form prints each compiled model's top-1 accuracy on the shapes10
test images (python/qopt/shapes_data.py, seed 2) and its top-1 agreement with
the first model. --compare compiles examples/models/shapes_cnn.onnx as FP32
and as static w8a8 calibrated on (a) 32 real training-distribution images
(seed 3), (b) --calib=synthetic (ZeroQ: inputs matched to the BatchNorm
statistics), (c) --calib=synthetic:random (N(0, 1) inputs), under each
--calib-method, and prints the table in docs/quantization.md (the
synthetic sets are generated once with --save-synthetic, timed, and reused
for each method: the generation is deterministic).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from qopt.runtime import Model  # noqa: E402
from qopt.shapes_data import make  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def predict(path, images):
    m = Model(path)
    out = []
    for x in images:
        y = m.run([x[None]])
        out.append(np.asarray(y[0]).reshape(-1))
    return np.stack(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default=os.path.join(ROOT, "examples/models/shapes_cnn.onnx"))
    ap.add_argument("-n", type=int, default=2000, help="test images")
    ap.add_argument("--methods", default="percentile:99.99,minmax,mse")
    args = ap.parse_args()
    images, labels = make(args.n, seed=2)
    if not args.compare:
        ref = None
        for path in args.models:
            logits = predict(path, images)
            top = logits.argmax(1)
            ref = top if ref is None else ref
            print(f"{path}: top-1 {np.mean(top == labels) * 100:.2f} %, "
                  f"agreement with {args.models[0]} {np.mean(top == ref) * 100:.2f} %")
        return 0
    qc = os.path.join(args.build, "bin", "qopt-compile")
    with tempfile.TemporaryDirectory() as tmp:
        real = os.path.join(tmp, "real.npy")
        np.save(real, make(32, seed=3)[0][:, None])
        fp = os.path.join(tmp, "fp32.so")
        subprocess.run([qc, args.model, "-o", fp], check=True)
        ref = predict(fp, images)
        ref_top = ref.argmax(1)
        # --calib=synthetic is deterministic: generate each variant once
        # (timed) and reuse the saved inputs for every --calib-method.
        sets = [("real (32 images)", real, 0.0)]
        for name, calib, extra in (
                ("synthetic (ZeroQ, 200 steps: default)", "synthetic", []),
                ("synthetic (ZeroQ, 500 steps)", "synthetic", ["--synthetic-steps=500"]),
                ("synthetic:random (N(0,1))", "synthetic:random", [])):
            path = os.path.join(tmp, f"syn{len(sets)}.npy")
            t = time.time()
            subprocess.run([qc, args.model, "--quant=w8a8", "--calib=" + calib, "--calib-samples=32",
                            "--save-synthetic=" + path, "-o", os.path.join(tmp, f"s{len(sets)}.so")] + extra,
                           check=True, stderr=subprocess.DEVNULL)
            sets.append((name, path, time.time() - t))
        print("| calibration | --calib-method | top-1 | agreement with FP32 | mean / max abs logit error | qopt-compile s |")
        print("|---|---|---:|---:|---:|---:|")
        print(f"| FP32 | - | {np.mean(ref_top == labels) * 100:.2f} % | 100 % | 0 | |")
        for method in args.methods.split(","):
            for i, (name, calib, gen) in enumerate(sets):
                # A distinct path per build: dlopen returns an already
                # loaded library for a path it has seen.
                out = os.path.join(tmp, f"q-{method.replace(':', '_')}-{i}.so")
                t = time.time()
                subprocess.run([qc, args.model, "--quant=w8a8", "--calib=" + calib,
                                "--calib-samples=32", "--calib-method=" + method, "-o", out],
                               check=True, stderr=subprocess.DEVNULL)
                t = time.time() - t + gen
                q = predict(out, images)
                top = q.argmax(1)
                print(f"| {name} | {method} | {np.mean(top == labels) * 100:.2f} % | "
                      f"{np.mean(top == ref_top) * 100:.2f} % | {np.abs(q - ref).mean():.3f} / {np.abs(q - ref).max():.2f} | "
                      f"{t:.1f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
