"""Checks qopt-generate's outputs.

  check_generate.py same A.npy B.npy ...        prints "same ids: N" (all
                                                int64 1-D and equal)
  check_generate.py ref OUT.npy REF.npy ROW     OUT == row ROW of REF
  check_generate.py stdout OUT.txt IDS.npy P V  the continuation printed
                                                before the last line is
                                                IDS[P:] (raw bytes for
                                                V == 256, else ids)
"""
import sys

import numpy as np

mode, args = sys.argv[1], sys.argv[2:]
if mode == "same":
    arrs = [np.load(f) for f in args]
    for f, a in zip(args, arrs):
        if a.dtype != np.int64 or a.ndim != 1:
            sys.exit("%s: %s %s, want int64 1-D" % (f, a.dtype, a.shape))
        if not np.array_equal(a, arrs[0]):
            sys.exit("%s differs from %s:\n%s\n%s" % (f, args[0], a, arrs[0]))
    print("same ids: %d" % len(arrs[0]))
elif mode == "ref":
    got, ref, row = np.load(args[0]), np.load(args[1]), int(args[2])
    if not np.array_equal(got, ref[row]):
        sys.exit("row %d: got\n%s\nwant\n%s" % (row, got, ref[row]))
    print("row %d: same ids as the reference" % row)
elif mode == "stdout":
    data = open(args[0], "rb").read()
    ids, p, vocab = np.load(args[1]), int(args[2]), int(args[3])
    body, sep, last = data[:-1].rpartition(b"\n")
    if not sep or not last.startswith(b"prefill: "):
        sys.exit("no last line 'prefill: ...' in %r" % data[-200:])
    want = (bytes(int(i) for i in ids[p:]) if vocab == 256 else
            " ".join(str(int(i)) for i in ids[p:]).encode())
    if body != want:
        sys.exit("printed %r, want %r" % (body, want))
    print("printed %d tokens" % (len(ids) - p))
else:
    sys.exit("bad mode " + mode)
