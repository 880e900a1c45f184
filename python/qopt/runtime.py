"""ctypes binding of the qopt C runtime (runtime/include/qopt/qopt_runtime.h).

    from qopt import Model
    m = Model("model.so")                 # maps model.weights next to it
    y, = m.run([x])                       # list in -> list out (model order)
    out = m.run({"x": x})                 # dict in -> dict out (by name)

A model with dynamic dims (m.dynamic) takes arrays of any size along them
(checked by the runtime: rank, static dims, named dims equal across
inputs and within m.dims' maxima) and returns arrays of the shapes it
computed; their memory comes from the runtime, without a copy. In
TensorInfo.shape a dynamic dim is None; TensorInfo.dim_names names it.
"""
import ctypes
import os
import weakref

import numpy as np

_DTYPES = {
    1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16,
    6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64,
    12: np.uint32, 13: np.uint64,
}


class QOptError(RuntimeError):
    pass


class _Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("data", ctypes.c_void_p)]


class _Info(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("num_bytes", ctypes.c_size_t)]


_MAX_RANK = 16


class _Output(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p),
                ("capacity", ctypes.c_size_t), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32),
                ("shape", ctypes.c_int64 * _MAX_RANK),
                ("num_bytes", ctypes.c_size_t), ("owned", ctypes.c_int32)]


class TensorInfo:
    def __init__(self, info, dim_names=None):
        self.name = info.name.decode("utf-8", "replace")
        self.dtype = info.dtype
        self.shape = tuple(None if info.shape[i] < 0 else info.shape[i]
                           for i in range(info.rank))
        self.dim_names = tuple(dim_names or ("",) * info.rank)

    def __repr__(self):
        return "TensorInfo(%r, dtype=%d, shape=%r)" % (self.name, self.dtype,
                                                       self.shape)


class Model:
    def __init__(self, path, weights=None):
        self._lib = lib = ctypes.CDLL(os.path.abspath(path),
                                      mode=ctypes.RTLD_LOCAL)
        lib.qopt_last_error.restype = ctypes.c_char_p
        lib.qopt_model_load.argtypes = [ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_void_p)]
        lib.qopt_model_num_inputs.argtypes = [ctypes.c_void_p]
        lib.qopt_model_num_inputs.restype = ctypes.c_size_t
        lib.qopt_model_num_outputs.argtypes = [ctypes.c_void_p]
        lib.qopt_model_num_outputs.restype = ctypes.c_size_t
        for f in (lib.qopt_model_input_info, lib.qopt_model_output_info):
            f.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                          ctypes.POINTER(_Info)]
        lib.qopt_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Tensor),
                                 ctypes.c_size_t, ctypes.POINTER(_Tensor),
                                 ctypes.c_size_t]
        lib.qopt_model_free.argtypes = [ctypes.c_void_p]
        lib.qopt_set_num_threads.argtypes = [ctypes.c_int]
        # Libraries built before dynamic shapes lack these: static models.
        self._has_dynamic = hasattr(lib, "qopt_run_dynamic")
        if self._has_dynamic:
            lib.qopt_model_is_dynamic.argtypes = [ctypes.c_void_p]
            for f in (lib.qopt_model_input_dim_name,
                      lib.qopt_model_output_dim_name):
                f.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                              ctypes.c_int32]
                f.restype = ctypes.c_char_p
            lib.qopt_model_num_dims.argtypes = [ctypes.c_void_p]
            lib.qopt_model_num_dims.restype = ctypes.c_size_t
            lib.qopt_model_dim.argtypes = [
                ctypes.c_void_p, ctypes.c_size_t,
                ctypes.POINTER(ctypes.c_char_p),
                ctypes.POINTER(ctypes.c_int64)]
            lib.qopt_run_dynamic.argtypes = [
                ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(_Tensor),
                ctypes.c_size_t, ctypes.POINTER(_Output), ctypes.c_size_t]
            lib.qopt_free.argtypes = [ctypes.c_void_p]
        self._m = ctypes.c_void_p()
        w = None if weights is None else os.fsencode(weights)
        self._check(lib.qopt_model_load(w, ctypes.byref(self._m)))
        self.dynamic = bool(self._has_dynamic and
                            lib.qopt_model_is_dynamic(self._m))
        self.inputs = [self._info(lib.qopt_model_input_info, i)
                       for i in range(lib.qopt_model_num_inputs(self._m))]
        self.outputs = [self._info(lib.qopt_model_output_info, i)
                        for i in range(lib.qopt_model_num_outputs(self._m))]
        # Named dims -> their maximum (0: unbounded).
        self.dims = {}
        for i in range(lib.qopt_model_num_dims(self._m)
                       if self._has_dynamic else 0):
            name, mx = ctypes.c_char_p(), ctypes.c_int64()
            self._check(lib.qopt_model_dim(self._m, i, ctypes.byref(name),
                                           ctypes.byref(mx)))
            self.dims[name.value.decode("utf-8", "replace")] = mx.value

    def _check(self, status):
        if status != 0:
            raise QOptError(self._lib.qopt_last_error().decode("utf-8",
                                                               "replace"))

    def _info(self, fn, i):
        info = _Info()
        self._check(fn(self._m, i, ctypes.byref(info)))
        names = None
        if self.dynamic:
            dim_name = (self._lib.qopt_model_input_dim_name
                        if fn == self._lib.qopt_model_input_info
                        else self._lib.qopt_model_output_dim_name)
            names = [dim_name(self._m, i, d).decode("utf-8", "replace")
                     for d in range(info.rank)]
        return TensorInfo(info, names)

    def set_num_threads(self, n):
        self._lib.qopt_set_num_threads(int(n))

    def run(self, inputs):
        named = isinstance(inputs, dict)
        if named:
            arrays = [inputs[i.name] if i.name in inputs else None
                      for i in self.inputs]
            missing = [i.name for i, a in zip(self.inputs, arrays) if a is None]
            if missing:
                raise QOptError("missing inputs: %s" % ", ".join(missing))
        else:
            arrays = list(inputs)
        if len(arrays) != len(self.inputs):
            raise QOptError("model has %d inputs, got %d" %
                            (len(self.inputs), len(arrays)))
        keep = []
        ins = (_Tensor * max(1, len(arrays)))()
        for k, (info, a) in enumerate(zip(self.inputs, arrays)):
            a = np.ascontiguousarray(a)
            want = _DTYPES.get(info.dtype)
            if want is not None and a.dtype != want:
                raise QOptError("input '%s': dtype %s given, model expects %s"
                                % (info.name, a.dtype, np.dtype(want)))
            shape = (ctypes.c_int64 * max(1, a.ndim))(*a.shape)
            keep += [a, shape]
            ins[k] = _Tensor(None, info.dtype, a.ndim, shape,
                             a.ctypes.data_as(ctypes.c_void_p))
        if self.dynamic:
            results = self._run_dynamic(ins, len(arrays))
        else:
            results = self._run_static(ins, len(arrays), keep)
        if named:
            return {i.name: r for i, r in zip(self.outputs, results)}
        return results

    def _run_static(self, ins, n, keep):
        results = []
        outs = (_Tensor * max(1, len(self.outputs)))()
        for k, info in enumerate(self.outputs):
            r = np.empty(info.shape, dtype=_DTYPES[info.dtype])
            shape = (ctypes.c_int64 * max(1, r.ndim))(*r.shape)
            keep += [shape]
            results.append(r)
            outs[k] = _Tensor(None, info.dtype, r.ndim, shape,
                              r.ctypes.data_as(ctypes.c_void_p))
        self._check(self._lib.qopt_run(self._m, ins, n, outs,
                                       len(self.outputs)))
        return results

    def _run_dynamic(self, ins, n):
        outs = (_Output * max(1, len(self.outputs)))()
        self._check(self._lib.qopt_run_dynamic(None, self._m, ins, n, outs,
                                               len(self.outputs)))
        return [self._array(o) for o in outs[:len(self.outputs)]]

    def _array(self, o):
        """The runtime's buffer as an array that frees it when collected."""
        dtype = np.dtype(_DTYPES[o.dtype])
        shape = tuple(o.shape[d] for d in range(o.rank))
        if not o.owned or not o.num_bytes:
            return np.zeros(shape, dtype)
        buf = (ctypes.c_uint8 * o.num_bytes).from_address(o.data)
        weakref.finalize(buf, self._lib.qopt_free, o.data)
        return np.frombuffer(buf, dtype).reshape(shape)

    def decoder(self, max_length=0):
        """A KVDecoder over this model (compiled with in-place caches)."""
        return KVDecoder(self, max_length)

    def __del__(self):
        m = getattr(self, "_m", None)
        if m:
            self._lib.qopt_model_free(m)
            self._m = None


class KVDecoder:
    """qopt_decoder: caches allocated once for max_length positions and
    updated in place; step() runs new tokens and returns the last logits."""

    def __init__(self, model, max_length=0):
        lib = model._lib
        if not hasattr(lib, "qopt_decoder_create"):
            raise QOptError("this library has no qopt_decoder API")
        lib.qopt_decoder_create.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                            ctypes.POINTER(ctypes.c_void_p)]
        lib.qopt_decoder_step.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64),
            ctypes.c_int64, ctypes.POINTER(ctypes.c_float), ctypes.c_int]
        for f in ("length", "max_length", "vocab"):
            fn = getattr(lib, "qopt_decoder_" + f)
            fn.argtypes = [ctypes.c_void_p]
            fn.restype = ctypes.c_int64
        lib.qopt_decoder_reset.argtypes = [ctypes.c_void_p]
        lib.qopt_decoder_free.argtypes = [ctypes.c_void_p]
        self._model, self._lib = model, lib  # the model outlives the decoder
        self._d = ctypes.c_void_p()
        model._check(lib.qopt_decoder_create(model._m, int(max_length),
                                             ctypes.byref(self._d)))
        self.vocab = lib.qopt_decoder_vocab(self._d)
        self.max_length = lib.qopt_decoder_max_length(self._d)

    @property
    def length(self):
        return self._lib.qopt_decoder_length(self._d)

    def reset(self):
        self._lib.qopt_decoder_reset(self._d)

    def step(self, ids, all_rows=False):
        ids = np.ascontiguousarray(ids, np.int64).reshape(-1)
        out = np.empty((len(ids) if all_rows else 1, self.vocab), np.float32)
        self._model._check(self._lib.qopt_decoder_step(
            None, self._d, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
            len(ids), out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            int(all_rows)))
        return out if all_rows else out[0]

    def __del__(self):
        d = getattr(self, "_d", None)
        if d:
            self._lib.qopt_decoder_free(d)
            self._d = None
