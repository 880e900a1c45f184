#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""A fake qopt-run for testing run.py itself: "computes" a model's outputs by
copying the reference outputs that sit next to the given inputs.

    run.py --qopt-run test/conformance/mock-qopt-run.py

Misbehaves on purpose for tests whose directory name matches these regexes:
  MOCK_CRASH        raise SIGSEGV          MOCK_HANG    sleep forever
  MOCK_UNSUPPORTED  exit 1 "unsupported"   MOCK_WRONG   perturb the values
  MOCK_ERROR        exit 1 other error     MOCK_MISSING write no output
"""
import glob
import os
import re
import signal
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    argv = sys.argv[1:]
    model_path = argv[0]
    inputs, out_dir = [], None
    k = 1
    while k < len(argv):
        if argv[k] == "--input":
            inputs.append(argv[k + 1].split("=", 1))
            k += 2
        elif argv[k] == "--output-dir":
            out_dir = argv[k + 1]
            k += 2
        else:
            k += 1
    test = os.path.basename(os.path.dirname(os.path.abspath(model_path)))

    def hit(var):
        pat = os.environ.get(var)
        return bool(pat) and re.search(pat, test)

    if hit("MOCK_CRASH"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if hit("MOCK_HANG"):
        time.sleep(1e6)
    if hit("MOCK_UNSUPPORTED"):
        sys.stderr.write("error: 1 unsupported ONNX node(s):\n"
                         "  'n0' (Frobnicate, opset 13)\n")
        sys.exit(1)
    if hit("MOCK_ERROR"):
        sys.stderr.write("error: something went wrong\n")
        sys.exit(1)
    model = onnx.load(model_path)
    ds = (os.path.dirname(inputs[0][1]) if inputs else
          sorted(glob.glob(os.path.join(os.path.dirname(model_path),
                                        "test_data_set_*")))[0])
    if hit("MOCK_MISSING"):
        return 0
    for n, o in enumerate(model.graph.output):
        t = onnx.TensorProto()
        with open(os.path.join(ds, "output_%d.pb" % n), "rb") as f:
            t.ParseFromString(f.read())
        a = numpy_helper.to_array(t)
        if hit("MOCK_WRONG"):
            a = a + np.ones((), a.dtype) if a.dtype != bool else ~a
        np.save(os.path.join(out_dir, re.sub(r"[^A-Za-z0-9._-]", "_", o.name)
                             + ".npy"), a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
