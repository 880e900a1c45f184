#!/usr/bin/env python3
"""python/qopt/make_gpt2_kv.py's decoder with another vocabulary size.

    make_kv_vocab.py OUT.onnx VOCAB [--layers 1 --d-model 32 --heads 2 --seq 32]

The same graph as make_gpt2_kv.py (Optimum layout, in-place caches by
default), random weights, logits [batch, sequence, VOCAB]: for the
qopt-generate paths that print ids rather than bytes.
"""
import argparse
import os
import sys

import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "python", "qopt"))
import make_gpt2_kv  # noqa: E402
import make_gpt2_tiny  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("vocab", type=int)
ap.add_argument("--layers", type=int, default=1)
ap.add_argument("--d-model", type=int, default=32)
ap.add_argument("--heads", type=int, default=2)
ap.add_argument("--seq", type=int, default=32)
args = ap.parse_args()
make_gpt2_tiny.VOCAB = make_gpt2_kv.VOCAB = args.vocab
onnx.save(make_gpt2_kv.build(args.layers, args.d_model, args.heads, args.seq, 0),
          args.out)
