"""Checks an int8-cache KV decoder (--kv-cache=int8) against the f32 builds
of the same model; prints what kv-cache-int8.test expects.

    kv_cache_int8_checks.py INT8.so COPY.so INPLACE.so

- the rows a call writes are the int8 quantization of the f32 keys/values
  (the --kv-cache=copy build's present rows), bit for bit, with a NumPy
  reference of docs/semantics.md §11: scale = max|x| / 127 per row (1 for
  an all-zero row), q = clip(rint(x / scale), -128, 127);
- greedy generation through qopt_decoder agrees with the f32 cache.
"""
import sys

import numpy as np
import qopt

i8m, cpm, ipm = (qopt.Model(p) for p in sys.argv[1:4])
caches = [i for i in i8m.inputs if i.name.startswith("past_key_values.")]
for i in caches:
    print("input %s dtype %d %s" % (i.name, i.dtype, i.shape))
past = [i for i in cpm.inputs if i.name.startswith("past_key_values.")]
H, D = past[0].shape[1], past[0].shape[3]


def quant_ref(x):
    x = x.astype(np.float32)
    s = np.max(np.abs(x), axis=-1, keepdims=True) / np.float32(127)
    s = np.where(s == 0, np.float32(1), s).astype(np.float32)
    q = np.clip(np.rint(x / s), -128, 127).astype(np.int8)
    return q, s


def feeds(ids, pos):
    n = len(ids)
    return {"input_ids": np.array([ids], np.int64),
            "attention_mask": np.ones((1, pos + n), np.int64),
            "position_ids": np.arange(pos, pos + n, dtype=np.int64)[None]}


CAP = 8
buf = {p.name: np.zeros((1, H, CAP, D), np.int8) for p in past}
buf.update({p.name + ".scale": np.zeros((1, H, CAP, 1), np.float32)
            for p in past})
prompt = [72, 101, 108, 108, 111]
i8m.run({**feeds(prompt, 0), **buf})
outs = cpm.run({**feeds(prompt, 0),
                **{p.name: np.zeros((1, H, 0, D), np.float32) for p in past}})
present = outs  # by name
ok, rows127 = True, True
for p in past:
    q8, s8 = buf[p.name][:, :, :5], buf[p.name + ".scale"][:, :, :5]
    # Every written row uses the full range: max |q| = 127.
    rows127 &= bool((np.abs(q8.astype(np.int32)).max(-1) == 127).all())
    ok &= not buf[p.name][:, :, 5:].any()
    if not p.name.startswith("past_key_values.0."):
        continue  # later layers attend over the int8 cache: not the f32 rows
    q, s = quant_ref(present["present." + p.name[len("past_key_values."):]])
    ok &= np.array_equal(q8, q) and np.array_equal(s8, s)
print("max |q| of every written row is 127: %s" % rows127)
print("prefill layer 0 rows 0..5 bit-exact int8 + scales, rows after zero: %s" % ok)
# Step 2 at past length 5: layer 0's new keys/values depend only on the
# tokens, so they equal the f32 build's bit for bit.
fed = {p.name: present["present." + p.name[len("past_key_values."):]]
       for p in past}
outs2 = cpm.run({**feeds([33, 33], 5), **fed})
i8m.run({**feeds([33, 33], 5), **buf})
ok = True
for p in past:
    if not p.name.startswith("past_key_values.0."):
        continue
    full = outs2["present." + p.name[len("past_key_values."):]]
    q, s = quant_ref(full[:, :, 5:7])
    ok &= np.array_equal(buf[p.name][:, :, 5:7], q)
    ok &= np.array_equal(buf[p.name + ".scale"][:, :, 5:7], s)
print("step 2 layer 0 rows 5..7 bit-exact: %s" % ok)
# An all-zero row has scale 1 (not 0/0).
print("scales of rows 0..7 > 0: %s" % all(
    (buf[p.name + ".scale"][:, :, :7] > 0).all() for p in past))

# Greedy generation, int8 against f32 caches (qopt_decoder): the f32
# build's greedy ids, and the int8 build teacher-forced on the same ids
# (so one near-tie does not change every later step).
rng = np.random.default_rng(1)
prompts = rng.integers(0, 256, size=(4, 32))
NEW = 32
steps = agree = near_ties = 0
max_d = 0.0
spread = []
for row in prompts:
    df, d8 = ipm.decoder(len(row) + NEW), i8m.decoder(len(row) + NEW)
    lf, l8 = df.step(row), d8.step(row)
    for _ in range(NEW):
        t = int(np.argmax(lf))
        max_d = max(max_d, float(np.abs(lf - l8).max()))
        spread.append(float(lf.max() - lf.min()))
        steps += 1
        if int(np.argmax(l8)) == t:
            agree += 1
        else:  # a disagreement must be a near-tie of the f32 logits
            top2 = np.sort(lf)[-2:]
            near_ties += bool(top2[1] - top2[0] <= 2 * max_d)
        lf, l8 = df.step([t]), d8.step([t])
print("teacher-forced %d steps: argmax equal %d, others near-ties %d" % (
    steps, agree, near_ties))
print("all steps argmax equal or near-tie: %s" % (agree + near_ties == steps))
print("logits max |int8 - f32| = %.4g, %.2f%% of the logit range (< 2%%: %s)" % (
    max_d, 100 * max_d / np.median(spread), max_d < 0.02 * np.median(spread)))

# The runtime refuses an int8 cache without its scale cache line.
import ctypes  # noqa: E402
import os  # noqa: E402
lib = ctypes.CDLL(os.path.abspath(sys.argv[1]))
abi = ctypes.cast(ctypes.addressof(ctypes.c_char.in_dll(lib, "qopt_model_abi")),
                  ctypes.c_char_p).value
lib.qopt_model_create.argtypes = [ctypes.c_char_p, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.POINTER(ctypes.c_void_p)]
lib.qopt_last_error.restype = ctypes.c_char_p
entry = ctypes.cast(lib.qopt_entry, ctypes.c_void_p)
wbytes = int([l for l in abi.split(b"\n") if l.startswith(b"weights ")][0][8:])
blob = ctypes.create_string_buffer(max(wbytes, 1))
for what, text in (
        ("as compiled", abi),
        ("no scale cache line", b"\n".join(
            l for l in abi.split(b"\n")
            if not l.startswith(b"cache past_key_values.0.key.scale ")))):
    m = ctypes.c_void_p()
    st = lib.qopt_model_create(text, entry, blob, wbytes, ctypes.byref(m))
    print("create (%s): status %d %s" % (
        what, st, lib.qopt_last_error().decode() if st else ""))
