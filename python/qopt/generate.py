#!/usr/bin/env python3
"""Text generation with a compiled KV-cache decoder (Optimum layout).

    /usr/bin/python3 python/qopt/generate.py MODEL.so (--prompt TEXT | --prompt-ids F.npy)
        [--max-new-tokens 64] [--temperature 0] [--top-k 0] [--top-p 1]
        [--seed 0] [--threads N] [--max-length N] [--output-ids F.npy]
        [--check-ids REF.npy --check-logits REF.npy --rows N]

Prefill runs the prompt with past length 0, then one token per call. A
model compiled with in-place caches (qopt-compile's default for an Optimum
decoder) runs through the runtime's qopt_decoder: the caches are allocated
once and updated in place. A --kv-cache=copy build feeds each call's
`present.N.key/value` outputs back as the next call's
`past_key_values.N.key/value` inputs (found by name; a model that does not
follow the naming is refused). Greedy by default. Prints the continuation
(as text for a 256-byte vocabulary) and a last line
`prefill: P tokens, X tok/s; decode: D tokens, Y tok/s`.

`--check-ids` (with `--check-logits`) replays the first `--rows` prompts of
a reference made by bench/ort_generate.js (test/generation/) greedily and
exits 1 unless every generated id equals the reference and the logits are
within 1e-4.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from qopt.runtime import Model  # noqa: E402


class Decoder:
    """Prefill + decode over a compiled KV decoder: through the runtime's
    qopt_decoder when the model updates its caches in place (the default
    build of an Optimum decoder), else by feeding present.N back as
    past_key_values.N (a --kv-cache=copy build)."""

    def __init__(self, path, threads=0, max_length=0):
        self.m = Model(path)
        if threads:
            self.m.set_num_threads(threads)
        self.max_length = max_length
        names = [i.name for i in self.m.inputs]
        outs = [o.name for o in self.m.outputs]
        past = [n for n in names if n.startswith("past_key_values.")]
        self.inplace = bool(past) and not any(o.startswith("present.")
                                              for o in outs)
        self.kv = None
        self.pairs = {}
        for n in past if not self.inplace else []:
            p = "present." + n[len("past_key_values."):]
            if p not in outs:
                raise SystemExit("model input '%s' has no output '%s' "
                                 "(Optimum naming)" % (n, p))
            self.pairs[n] = p
        need = {"input_ids", "attention_mask", "position_ids"}
        if not past or not need <= set(names) or "logits" not in outs:
            raise SystemExit("%s is not a KV-cache decoder in the Optimum "
                             "layout (input_ids, attention_mask, position_ids, "
                             "past_key_values.N.key/value -> logits, "
                             "present.N.key/value)" % path)
        self.past_shape = {}
        for i in self.m.inputs:
            if i.name in self.pairs:
                self.past_shape[i.name] = i.shape

    def start(self, length=0):
        """A new context for up to `length` tokens (in-place caches)."""
        if self.inplace:
            want = max(self.max_length, length)
            if self.kv is None or self.kv.max_length < want:
                self.kv = None
                self.kv = self.m.decoder(want)
            self.kv.reset()
            return
        self.past = {}
        for n, shape in self.past_shape.items():
            s = [1 if d is None else d for d in shape]
            s[2] = 0  # past length 0 on the first call
            self.past[n] = np.zeros(s, np.float32)
        self.pos = 0

    def step(self, ids):
        if self.inplace:
            return self.kv.step(ids)
        n = len(ids)
        feeds = {"input_ids": np.array([ids], np.int64),
                 "attention_mask": np.ones((1, self.pos + n), np.int64),
                 "position_ids": np.arange(self.pos, self.pos + n,
                                           dtype=np.int64)[None]}
        feeds.update(self.past)
        out = self.m.run(feeds)
        self.past = {p: out[q] for p, q in self.pairs.items()}
        self.pos += n
        return out["logits"][0, -1]


def sample(logits, rng, temperature, top_k, top_p):
    if temperature <= 0:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / temperature
    order = np.argsort(-z, kind="stable")
    if top_k > 0:
        order = order[:top_k]
    p = np.exp(z[order] - z[order[0]])
    p /= p.sum()
    if top_p < 1:
        keep = np.searchsorted(np.cumsum(p), top_p) + 1
        order, p = order[:keep], p[:keep] / p[:keep].sum()
    return int(rng.choice(order, p=p))


def generate(dec, prompt, n_new, rng, args, on_logits=None):
    dec.start(len(prompt) + n_new)
    t0 = time.perf_counter()
    logits = dec.step(list(prompt))
    t1 = time.perf_counter()
    out = []
    for k in range(n_new):
        if on_logits:
            on_logits(k, logits)
        nxt = sample(logits, rng, args.temperature, args.top_k, args.top_p)
        out.append(nxt)
        if k + 1 < n_new:
            logits = dec.step([nxt])
    t2 = time.perf_counter()
    return out, t1 - t0, t2 - t1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--prompt")
    ap.add_argument("--prompt-ids")
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--top-k", type=int, default=0)
    ap.add_argument("--top-p", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--max-length", type=int, default=0,
                    help="cache capacity (default: prompt + new tokens)")
    ap.add_argument("--output-ids")
    ap.add_argument("--check-ids")
    ap.add_argument("--check-logits")
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=64)
    args = ap.parse_args()
    dec = Decoder(args.model, args.threads, args.max_length)
    rng = np.random.default_rng(args.seed)

    if args.check_ids:
        ref = np.load(args.check_ids)
        lref = np.load(args.check_logits) if args.check_logits else None
        bad, worst = 0, 0.0
        for r in range(min(args.rows, ref.shape[0])):
            n_new = ref.shape[1] - args.prompt_len
            diffs = []

            def on_logits(k, lg, r=r):
                if lref is not None and r < lref.shape[0]:
                    diffs.append(float(np.abs(lg - lref[r, k]).max()))
            out, _, _ = generate(dec, ref[r, :args.prompt_len], n_new, rng,
                                 args, on_logits)
            same = out == [int(x) for x in ref[r, args.prompt_len:]]
            worst = max([worst] + diffs)
            bad += not same
            print("row %d: %s%s" % (r, "same ids" if same else "DIFFERENT ids",
                                    ", max |dlogits| %.2e" % max(diffs)
                                    if diffs else ""))
        ok = bad == 0 and worst <= 1e-4
        print("%s: %d/%d rows equal, max |dlogits| %.2e" %
              ("PASS" if ok else "FAIL", args.rows - bad, args.rows, worst))
        return 0 if ok else 1

    if args.prompt is not None:
        prompt = list(args.prompt.encode())
    elif args.prompt_ids:
        prompt = [int(x) for x in np.load(args.prompt_ids).reshape(-1)]
    else:
        ap.error("give --prompt or --prompt-ids")
    if not prompt:
        ap.error("empty prompt")
    out, tp, td = generate(dec, prompt, args.max_new_tokens, rng, args)
    vocab = dec.m.outputs[[o.name for o in dec.m.outputs].index("logits")].shape[-1]
    if vocab == 256:
        sys.stdout.write(bytes(out).decode("utf-8", "replace") + "\n")
    else:
        print(" ".join(map(str, out)))
    if args.output_ids:
        np.save(args.output_ids, np.array(prompt + out, np.int64))
    d = max(len(out) - 1, 0)
    print("prefill: %d tokens, %.1f tok/s; decode: %d tokens, %.1f tok/s" %
          (len(prompt), len(prompt) / tp, d, d / td if td > 0 else 0.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
