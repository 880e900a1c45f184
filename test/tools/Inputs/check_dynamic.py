"""Checks the outputs of Inputs/dynamic.mlir in OUTDIR against NumPy.

  check_dynamic.py OUTDIR x.npy y.npy past.npy     prints OK n=.. past_len=..
"""
import sys

import numpy as np

out, x, y, past = sys.argv[1], *(np.load(f) for f in sys.argv[2:5])
want = {"sum": x + y, "x_out": x, "w": np.full(512, 0.5, np.float32),
        "scaled": past * 0.5}
for name, ref in want.items():
    got = np.load("%s/%s.npy" % (out, name))
    if got.shape != ref.shape or got.dtype != ref.dtype or \
            not np.array_equal(got, ref):
        sys.exit("%s: got %s %s, want %s %s" % (name, got.shape, got.dtype,
                                                ref.shape, ref.dtype))
print("OK n=%d past_len=%d" % (x.shape[0], past.shape[2]))
