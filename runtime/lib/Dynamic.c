/*===- Dynamic.c - run-time shapes: checks, qopt_run_dynamic ------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * Input shapes are checked against the ABI before the model runs (rank,
 * static dims, named dims agreeing across inputs and within their maximum),
 * so the generated code never reads out of bounds. A dynamic model's entry
 * (`qopt_entry_dyn`, docs/abi.md) returns its outputs in buffers it
 * allocated; qopt_run_dynamic hands them over or copies them into the
 * caller's buffers, qopt_run copies them into outputs of the right shape.
 *===----------------------------------------------------------------------===*/
#include "Internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qopt_free(void *data) { free(data); }

/* Scratch arrays of one run (one allocation). */
typedef struct run_state {
  void **in_data, **out_alloc, **out_data;
  int64_t *in_dims, *out_dims;
  int64_t *bound;          /* per named dim: its size, -1 unbound */
  size_t *bound_by;        /* input index that bound it */
  int32_t *bound_dim;      /* and its dim */
  size_t *slot;            /* model output k -> caller's index */
  const qopt_tensor **order; /* model input k -> the caller's tensor */
  void *block;
} run_state;

static qopt_status state_init(const qopt_model *m, run_state *s) {
  size_t np = 2 * m->num_inputs + 2 * m->num_outputs, nd = m->num_dims;
  size_t ni64 = m->in_dims + m->out_dims + nd;
  size_t bytes = np * sizeof(void *) + ni64 * sizeof(int64_t) +
                 nd * sizeof(size_t) + nd * sizeof(int32_t) +
                 m->num_outputs * sizeof(size_t) + 1;
  char *p = malloc(bytes);
  if (!p) return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  s->block = p;
  s->in_data = (void **)p;
  s->out_alloc = s->in_data + m->num_inputs;
  s->out_data = s->out_alloc + m->num_outputs;
  s->order = (const qopt_tensor **)(void *)(s->out_data + m->num_outputs);
  s->in_dims = (int64_t *)(s->order + m->num_inputs);
  s->out_dims = s->in_dims + m->in_dims;
  s->bound = s->out_dims + m->out_dims;
  s->bound_by = (size_t *)(s->bound + nd);
  s->slot = s->bound_by + nd;
  s->bound_dim = (int32_t *)(s->slot + m->num_outputs);
  for (size_t j = 0; j < nd; ++j) s->bound[j] = -1;
  for (size_t k = 0; k < m->num_outputs; ++k) s->out_alloc[k] = NULL;
  return QOPT_OK;
}

/* "[batch_size, 4]" (model dims with their names) or "[2, 4]". */
static void format_dims(char *buf, size_t cap, const qopt_io *io,
                        int32_t rank, const int64_t *shape) {
  size_t o = snprintf(buf, cap, "[");
  for (int32_t d = 0; d < rank && o < cap; ++d) {
    const char *sep = d ? ", " : "";
    if (io && io->shape[d] < 0)
      o += snprintf(buf + o, cap - o, "%s%s", sep,
                    io->dim_names[d][0] ? io->dim_names[d] : "?");
    else
      o += snprintf(buf + o, cap - o, "%s%lld", sep,
                    (long long)(io ? io->shape[d] : shape[d]));
  }
  if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* Model input k given as t: dtype, rank, dims, named dims, data. */
static qopt_status check_input(const qopt_model *m, size_t k,
                               const qopt_tensor *t, run_state *s,
                               int64_t *dims) {
  const qopt_io *io = &m->ios[k];
  char want[512], got[512];
  if (t->dtype != io->dtype)
    return qopt__fail(QOPT_ERROR_DTYPE_MISMATCH,
                      "input '%s': dtype %d given, model expects %d", io->name,
                      (int)t->dtype, (int)io->dtype);
  /* The texts of messages are made only on failure (this runs per call). */
  if (t->rank != io->rank || (t->rank > 0 && !t->shape)) {
    format_dims(want, sizeof want, io, io->rank, NULL);
    return qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                      "input '%s': rank %d given, model expects rank %d %s",
                      io->name, (int)t->rank, (int)io->rank, want);
  }
#define QOPT_DIMS_TEXT()                                                       \
  (format_dims(want, sizeof want, io, io->rank, NULL),                         \
   format_dims(got, sizeof got, NULL, t->rank, t->shape))
  for (int32_t d = 0; d < io->rank; ++d) {
    int64_t v = t->shape[d];
    if (v < 0)
      return QOPT_DIMS_TEXT(),
             qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                        "input '%s': shape %s has a negative dim %d", io->name,
                        got, (int)d);
    if (io->shape[d] >= 0 && v != io->shape[d])
      return QOPT_DIMS_TEXT(), qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                        "input '%s': dim %d is %lld, model expects %lld "
                        "(shape %s given, model expects %s)",
                        io->name, (int)d, (long long)v,
                        (long long)io->shape[d], got, want);
    int32_t j = io->dim_ref[d];
    if (j >= 0 && io->shape[d] < 0) {
      const char *name = m->dim_name[j];
      if (s->bound[j] >= 0 && s->bound[j] != v)
        return qopt__fail(
            QOPT_ERROR_DIM_MISMATCH,
            "input '%s': dim %d (%s) is %lld, but input '%s' has %s = %lld "
            "(dim %d)",
            io->name, (int)d, name, (long long)v,
            m->ios[s->bound_by[j]].name, name, (long long)s->bound[j],
            (int)s->bound_dim[j]);
      if (m->dim_max[j] > 0 && v > m->dim_max[j])
        return qopt__fail(QOPT_ERROR_DIM_TOO_LARGE,
                          "input '%s': dim %d (%s) is %lld, over its maximum "
                          "%lld (--dim-max)",
                          io->name, (int)d, name, (long long)v,
                          (long long)m->dim_max[j]);
      if (s->bound[j] < 0) {
        s->bound[j] = v;
        s->bound_by[j] = k;
        s->bound_dim[j] = d;
      }
    }
    dims[d] = v;
  }
  /* Bytes (0 if a dim is 0); more than the x86-64 user address space
     cannot be real data. */
  size_t bytes = qopt_dtype_size(io->dtype);
  for (int32_t d = 0; d < io->rank; ++d)
    if (t->shape[d] == 0) bytes = 0;
  for (int32_t d = 0; bytes && d < io->rank; ++d) {
    if (bytes > ((size_t)1 << 47) / (size_t)t->shape[d])
      return QOPT_DIMS_TEXT(), qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                        "input '%s': shape %s is too large (more than 2^47 "
                        "bytes)", io->name, got);
    bytes *= (size_t)t->shape[d];
  }
  if (!t->data && bytes != 0)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "input '%s': data is NULL",
                      io->name);
  s->in_data[k] = t->data ? t->data : (void *)qopt__no_data;
  return QOPT_OK;
}
#undef QOPT_DIMS_TEXT

/* In-place caches: the model writes rows [total - new, total) of each, so
 * new <= total <= capacity. */
static qopt_status check_caches(const qopt_model *m, const run_state *s) {
  for (size_t c = 0; c < m->num_caches; ++c) {
    const qopt_cache *kv = &m->caches[c];
    const char *tn = m->dim_name[kv->total_dim], *nn = m->dim_name[kv->new_dim];
    int64_t total = s->bound[kv->total_dim], fresh = s->bound[kv->new_dim];
    if (total < 0 || fresh < 0)
      return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                        "cache '%s': no input sets %s and %s",
                        m->ios[kv->input].name, tn, nn);
    size_t off = 0;
    for (size_t k = 0; k < kv->input; ++k) off += (size_t)m->ios[k].rank;
    int64_t cap = s->in_dims[off + (size_t)kv->axis];
    if (fresh > total)
      return qopt__fail(QOPT_ERROR_DIM_MISMATCH,
                        "%s = %lld is less than %s = %lld (the present "
                        "length covers the past and the new tokens)",
                        tn, (long long)total, nn, (long long)fresh);
    if (total > cap)
      return qopt__fail(QOPT_ERROR_DIM_TOO_LARGE,
                        "input '%s': cache capacity (dim %d) is %lld, less "
                        "than %s = %lld",
                        m->ios[kv->input].name, (int)kv->axis, (long long)cap,
                        tn, (long long)total);
  }
  return QOPT_OK;
}

/* Index of the caller's tensor `name` among model ios [base, base+n). */
static qopt_status find_io(const qopt_model *m, size_t base, size_t n,
                           const char *name, const char *what, size_t *k) {
  for (*k = 0; *k < n; ++*k)
    if (!strcmp(m->ios[base + *k].name, name)) return QOPT_OK;
  return qopt__fail(QOPT_ERROR_NAME_MISMATCH, "model has no %s named '%s'",
                    what, name);
}

/* Matches the given inputs to the model's (by name, or position) and checks
 * them in model order; fills s->in_data and s->in_dims. */
static qopt_status bind_inputs(const qopt_model *m, const qopt_tensor *given,
                               size_t n, run_state *s) {
  if (n != m->num_inputs)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                      "model has %zu inputs, got %zu", m->num_inputs, n);
  if (n && !given)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "inputs array is NULL");
  const qopt_tensor **order = s->order;
  for (size_t k = 0; k < n; ++k) order[k] = NULL;
  for (size_t i = 0; i < n; ++i) {
    size_t k = i;
    if (given[i].name) {
      qopt_status st = find_io(m, 0, n, given[i].name, "input", &k);
      if (st) return st;
    }
    if (order[k])
      return qopt__fail(QOPT_ERROR_NAME_MISMATCH, "input '%s' given twice",
                        m->ios[k].name);
    order[k] = &given[i];
  }
  int64_t *dims = s->in_dims;
  for (size_t k = 0; k < n; ++k) {
    qopt_status st = check_input(m, k, order[k], s, dims);
    if (st) return st;
    dims += m->ios[k].rank;
  }
  return check_caches(m, s);
}

/* s->slot[k]: the caller's output for model output k. */
static qopt_status bind_output_names(const qopt_model *m, size_t n,
                                     const char *(*name_of)(const void *,
                                                            size_t),
                                     const void *outputs, run_state *s) {
  if (n != m->num_outputs)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                      "model has %zu outputs, got %zu", m->num_outputs, n);
  if (n && !outputs)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "outputs array is NULL");
  for (size_t k = 0; k < n; ++k) s->slot[k] = (size_t)-1;
  for (size_t i = 0; i < n; ++i) {
    size_t k = i;
    const char *name = name_of(outputs, i);
    if (name) {
      qopt_status st = find_io(m, m->num_inputs, n, name, "output", &k);
      if (st) return st;
    }
    if (s->slot[k] != (size_t)-1)
      return qopt__fail(QOPT_ERROR_NAME_MISMATCH, "output '%s' given twice",
                        m->ios[m->num_inputs + k].name);
    s->slot[k] = i;
  }
  return QOPT_OK;
}

static const char *tensor_name(const void *a, size_t i) {
  return ((const qopt_tensor *)a)[i].name;
}
static const char *output_name(const void *a, size_t i) {
  return ((const qopt_output *)a)[i].name;
}

static size_t bytes_of(const qopt_io *io, const int64_t *dims) {
  size_t n = qopt_dtype_size(io->dtype);
  for (int32_t d = 0; d < io->rank; ++d) n *= (size_t)dims[d];
  return n;
}

/* Calls a dynamic model's entry; its outputs' buffers are then owned by s. */
static qopt_status call_dynamic(const qopt_model *m, int threads,
                                run_state *s) {
  void *args[6] = {s->in_data, s->in_dims, s->out_alloc, s->out_data,
                   s->out_dims, (void *)(uintptr_t)m->weights};
  qopt__set_threads(threads);
  m->entry(args);
  const int64_t *dims = s->out_dims;
  for (size_t k = 0; k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    if (!s->out_data[k] && bytes_of(io, dims) != 0)
      return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY,
                        "output '%s': the model could not allocate it",
                        io->name);
    dims += io->rank;
  }
  return QOPT_OK;
}

static void free_outputs(const qopt_model *m, run_state *s) {
  for (size_t k = 0; k < m->num_outputs; ++k) {
    free(s->out_alloc[k]);
    s->out_alloc[k] = NULL;
  }
}

qopt_status qopt__run_dynamic_compat(const qopt_model *m, int threads,
                                     const qopt_tensor *inputs, size_t ni,
                                     qopt_tensor *outputs, size_t no) {
  run_state s;
  qopt_status st = state_init(m, &s);
  if (st) return st;
  st = bind_inputs(m, inputs, ni, &s);
  if (!st) st = bind_output_names(m, no, tensor_name, outputs, &s);
  for (size_t k = 0; !st && k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    const qopt_tensor *t = &outputs[s.slot[k]];
    if (t->dtype != io->dtype)
      st = qopt__fail(QOPT_ERROR_DTYPE_MISMATCH,
                      "output '%s': dtype %d given, model expects %d",
                      io->name, (int)t->dtype, (int)io->dtype);
    else if (t->rank != io->rank || (t->rank > 0 && !t->shape))
      st = qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                      "output '%s': rank %d given, model expects rank %d",
                      io->name, (int)t->rank, (int)io->rank);
  }
  if (!st) st = call_dynamic(m, threads, &s);
  /* Every output must have the computed shape before any is written. */
  const int64_t *dims = s.out_dims;
  for (size_t k = 0; !st && k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    const qopt_tensor *t = &outputs[s.slot[k]];
    if (memcmp(t->shape, dims, (size_t)io->rank * sizeof(int64_t))) {
      char a[512], b[512];
      format_dims(a, sizeof a, NULL, io->rank, dims);
      format_dims(b, sizeof b, NULL, t->rank, t->shape);
      st = qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                      "output '%s': the model computed shape %s, %s given "
                      "(qopt_run_dynamic returns run-time shapes)",
                      io->name, a, b);
    } else if (!t->data && bytes_of(io, dims)) {
      st = qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "output '%s': data is NULL",
                      io->name);
    }
    dims += io->rank;
  }
  dims = s.out_dims;
  for (size_t k = 0; !st && k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    size_t n = bytes_of(io, dims);
    if (n) memcpy(outputs[s.slot[k]].data, s.out_data[k], n);
    dims += io->rank;
  }
  free_outputs(m, &s);
  free(s.block);
  if (!st) qopt__clear_error();
  return st;
}

/* Where output k's n bytes go: the caller's buffer, or a buffer handed over
 * (the model's own when it can be freed as is). */
typedef struct placed {
  void *data;
  int owned, copy;
} placed;

static qopt_status place_output(const qopt_output *o, void *alloc, void *data,
                                size_t n, placed *p) {
  p->owned = p->copy = 0;
  p->data = o->data;
  if (n == 0) return QOPT_OK;
  if (o->data && o->capacity >= n) {
    p->copy = 1;
    return QOPT_OK;
  }
  p->owned = 1;
  p->data = data;
  if (alloc == data) return QOPT_OK;
  /* The data does not start at the allocation: hand over a copy. */
  p->data = malloc(n);
  p->copy = 1;
  return p->data ? QOPT_OK
                 : qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
}

static void report(qopt_output *o, const qopt_io *io, const int64_t *dims,
                   size_t n, const placed *p) {
  o->data = p->data;
  o->owned = p->owned;
  o->dtype = io->dtype;
  o->rank = io->rank;
  memcpy(o->shape, dims, (size_t)io->rank * sizeof(int64_t));
  o->num_bytes = n;
}

static qopt_status run_dynamic_model(const qopt_model *m, int threads,
                                     qopt_output *outputs, run_state *s) {
  qopt_status st = call_dynamic(m, threads, s);
  placed *pl = st ? NULL : calloc(m->num_outputs + 1, sizeof(placed));
  if (!st && !pl) st = qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  const int64_t *dims = s->out_dims;
  size_t k = 0;
  for (; !st && k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    st = place_output(&outputs[s->slot[k]], s->out_alloc[k], s->out_data[k],
                      bytes_of(io, dims), &pl[k]);
    dims += io->rank;
  }
  if (st) { /* undo the copies placed so far */
    for (size_t j = 0; pl && j < k; ++j)
      if (pl[j].owned && pl[j].copy) free(pl[j].data);
    free(pl);
    return st;
  }
  dims = s->out_dims;
  for (k = 0; k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    size_t n = bytes_of(io, dims);
    if (pl[k].copy) memcpy(pl[k].data, s->out_data[k], n);
    if (pl[k].owned && !pl[k].copy) s->out_alloc[k] = NULL; /* handed over */
    report(&outputs[s->slot[k]], io, dims, n, &pl[k]);
    dims += io->rank;
  }
  free(pl);
  return QOPT_OK;
}

/* A static model: outputs written in place where they fit, else into
 * buffers allocated here and handed over. */
static qopt_status run_static_model(const qopt_model *m, int threads,
                                    qopt_output *outputs, run_state *s) {
  size_t total = m->num_inputs + m->num_outputs + 1;
  void **args = malloc(total * sizeof(void *));
  if (!args) return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  memcpy(args, s->in_data, m->num_inputs * sizeof(void *));
  qopt_status st = QOPT_OK;
  for (size_t k = 0; k < m->num_outputs; ++k) {
    const qopt_io *io = &m->ios[m->num_inputs + k];
    const qopt_output *o = &outputs[s->slot[k]];
    void *p = o->data;
    if (io->bytes && !(o->data && o->capacity >= io->bytes)) {
      if (posix_memalign(&p, 64, io->bytes)) {
        st = qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
        break;
      }
      s->out_alloc[k] = p;
    }
    args[m->num_inputs + k] = p && io->bytes ? p : (void *)qopt__no_data;
  }
  if (!st) {
    args[total - 1] = (void *)(uintptr_t)m->weights;
    qopt__set_threads(threads);
    m->entry(args);
    for (size_t k = 0; k < m->num_outputs; ++k) {
      const qopt_io *io = &m->ios[m->num_inputs + k];
      qopt_output *o = &outputs[s->slot[k]];
      placed p = {s->out_alloc[k] ? s->out_alloc[k] : o->data,
                  s->out_alloc[k] != NULL, 0};
      s->out_alloc[k] = NULL;
      report(o, io, io->shape, io->bytes, &p);
    }
  }
  free(args);
  return st;
}

qopt_status qopt_run_dynamic(qopt_context *ctx, const qopt_model *m,
                             const qopt_tensor *inputs, size_t ni,
                             qopt_output *outputs, size_t no) {
  if (!m) return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "model is NULL");
  for (size_t k = 0; k < m->num_outputs; ++k)
    if (m->ios[m->num_inputs + k].rank > QOPT_MAX_RANK)
      return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                        "output '%s' has rank %d, more than QOPT_MAX_RANK "
                        "(%d)", m->ios[m->num_inputs + k].name,
                        (int)m->ios[m->num_inputs + k].rank, QOPT_MAX_RANK);
  run_state s;
  qopt_status st = state_init(m, &s);
  if (st) return st;
  st = bind_inputs(m, inputs, ni, &s);
  if (!st) st = bind_output_names(m, no, output_name, outputs, &s);
  if (!st)
    st = m->dynamic ? run_dynamic_model(m, qopt__threads(ctx), outputs, &s)
                    : run_static_model(m, qopt__threads(ctx), outputs, &s);
  free_outputs(m, &s);
  free(s.block);
  if (!st) qopt__clear_error();
  return st;
}
