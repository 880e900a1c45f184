"""Runs an in-place KV decoder directly and through qopt_decoder; prints
what the checks in kv-cache-in-place.test expect."""
import sys

import numpy as np
import qopt
from qopt.runtime import QOptError

m = qopt.Model(sys.argv[1])
past = [i for i in m.inputs if i.name.startswith("past_key_values.")]
H, D = past[0].shape[1], past[0].shape[3]


def feeds(ids, pos, cap):
    n = len(ids)
    f = {"input_ids": np.array([ids], np.int64),
         "attention_mask": np.ones((1, pos + n), np.int64),
         "position_ids": np.arange(pos, pos + n, dtype=np.int64)[None]}
    return f, {i.name: np.zeros((1, H, cap, D), np.float32) for i in past}


f, caches = feeds([72, 101, 108, 108, 111], 0, 8)
m.run({**f, **caches})
k = caches[past[0].name]
print("wrote rows 0..5: %s; rows after: %s" % (
    bool(np.abs(k[0, :, :5]).sum() > 0),
    "zero" if not k[0, :, 5:].any() else "written"))
f2, _ = feeds([33, 33], 5, 8)
m.run({**f2, **caches})
print("step 2 wrote rows 5..7: %s" % bool(np.abs(k[0, :, 5:7]).sum() > 0 and
                                          not k[0, :, 7:].any()))
for fd, cs in ((feeds([1, 2], 5, 6)[0], feeds([1], 0, 6)[1]),
               ({**feeds([1, 2, 3], 0, 8)[0],
                 "attention_mask": np.ones((1, 2), np.int64)},
                feeds([1], 0, 8)[1])):
    try:
        m.run({**fd, **cs})
        print("no error")
    except QOptError as e:
        print("error:", e)
d = m.decoder(8)
d.step([1, 2, 3, 4, 5, 6])
try:
    d.step([7, 8, 9])
except QOptError as e:
    print("decoder: over max_length:", e)
