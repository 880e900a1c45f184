#!/usr/bin/env python3
"""check_close.py REF.npy OUT.npy TOL: prints OK rel_err=... if
||out - ref|| / ||ref|| <= TOL, else FAIL."""
import sys

import numpy as np

ref = np.load(sys.argv[1]).astype(np.float64)
out = np.load(sys.argv[2]).astype(np.float64)
rel = np.linalg.norm(out - ref) / np.linalg.norm(ref)
print(("OK" if rel <= float(sys.argv[3]) else "FAIL") + f" rel_err={rel:.3e}")
