/*===- Decoder.c - generation loop over in-place KV caches --------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * A model compiled with in-place caches (`cache` lines) takes each cache as
 * a buffer of some capacity and writes the new rows at the past length
 * (present length - new length). The decoder allocates those buffers once,
 * for max_length positions, and feeds the same buffers at every step; the
 * mask (all ones) and the position ids (0, 1, 2, ...) are built once too,
 * and each step passes a prefix / window of them.
 *===----------------------------------------------------------------------===*/
#include "Internal.h"

#include <stdlib.h>
#include <string.h>

enum role { ROLE_IDS, ROLE_MASK, ROLE_POS, ROLE_CACHE };

typedef struct slot {
  enum role role;
  int64_t shape[QOPT_MAX_RANK];
  int32_t axis;  /* ROLE_CACHE: the capacity axis */
  void *data;    /* ROLE_CACHE: the buffer */
} slot;

struct qopt_decoder {
  const qopt_model *m;
  int64_t max_length, length, vocab;
  size_t num_slots;
  slot *slots;          /* one per model input */
  qopt_tensor *inputs;  /* rebuilt per step */
  int64_t *ones, *positions;
  float *logits;        /* the last step's rows */
  int64_t logits_rows;
};

static int role_of(const char *name, enum role *r) {
  if (!strcmp(name, "input_ids")) *r = ROLE_IDS;
  else if (!strcmp(name, "attention_mask")) *r = ROLE_MASK;
  else if (!strcmp(name, "position_ids")) *r = ROLE_POS;
  else return 0;
  return 1;
}

void qopt_decoder_free(qopt_decoder *d) {
  if (!d) return;
  /* Not through d->m: freeing may come after the model's (GC order). */
  for (size_t i = 0; d->slots && i < d->num_slots; ++i)
    free(d->slots[i].data);
  free(d->slots);
  free(d->inputs);
  free(d->ones);
  free(d->positions);
  free(d->logits);
  free(d);
}

/* The cache of model input k, or NULL. */
static const qopt_cache *cache_of(const qopt_model *m, size_t k) {
  for (size_t c = 0; c < m->num_caches; ++c)
    if (m->caches[c].input == k) return &m->caches[c];
  return NULL;
}

static qopt_status check_model(const qopt_model *m, int64_t *vocab) {
  if (!m->num_caches)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                      "decoder: the model has no in-place KV caches "
                      "(compile a KV decoder in the Optimum layout with "
                      "qopt-compile --kv-cache=inplace)");
  if (m->num_outputs != 1 || strcmp(m->ios[m->num_inputs].name, "logits"))
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                      "decoder: the model must have exactly one output, "
                      "'logits'");
  const qopt_io *lo = &m->ios[m->num_inputs];
  if (lo->dtype != QOPT_DTYPE_FLOAT || lo->rank != 3 || lo->shape[2] <= 0)
    return qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                      "decoder: output 'logits' must be float32 [batch, "
                      "sequence, vocab] with a static vocab");
  *vocab = lo->shape[2];
  for (size_t k = 0; k < m->num_inputs; ++k) {
    const qopt_io *io = &m->ios[k];
    enum role r;
    if (cache_of(m, k)) continue;
    if (!role_of(io->name, &r))
      return qopt__fail(QOPT_ERROR_NAME_MISMATCH,
                        "decoder: input '%s' is not a cache, input_ids, "
                        "attention_mask or position_ids",
                        io->name);
    if (io->dtype != QOPT_DTYPE_INT64 || io->rank != 2)
      return qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                        "decoder: input '%s' must be int64 [batch, length]",
                        io->name);
  }
  return QOPT_OK;
}

/* The present length's bound, if the model has one (--dim-max). */
static int64_t bound_of(const qopt_model *m) {
  return m->dim_max[m->caches[0].total_dim];
}

qopt_status qopt_decoder_create(const qopt_model *m, int64_t max_length,
                                qopt_decoder **out) {
  if (!m || !out)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "NULL argument");
  *out = NULL;
  int64_t vocab;
  qopt_status st = check_model(m, &vocab);
  if (st) return st;
  int64_t bound = bound_of(m);
  if (max_length <= 0) max_length = bound;
  if (max_length <= 0)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                      "decoder: give a max_length (the model has no "
                      "--dim-max for %s)", m->dim_name[m->caches[0].total_dim]);
  if (bound > 0 && max_length > bound)
    return qopt__fail(QOPT_ERROR_DIM_TOO_LARGE,
                      "decoder: max_length %lld is over the model's "
                      "--dim-max %lld",
                      (long long)max_length, (long long)bound);
  qopt_decoder *d = calloc(1, sizeof *d);
  if (!d) return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  d->m = m;
  d->max_length = max_length;
  d->vocab = vocab;
  d->slots = calloc(m->num_inputs, sizeof *d->slots);
  d->num_slots = d->slots ? m->num_inputs : 0;
  d->inputs = calloc(m->num_inputs, sizeof *d->inputs);
  d->ones = malloc((size_t)max_length * sizeof(int64_t));
  d->positions = malloc((size_t)max_length * sizeof(int64_t));
  if (!d->slots || !d->inputs || !d->ones || !d->positions) goto oom;
  for (int64_t i = 0; i < max_length; ++i) {
    d->ones[i] = 1;
    d->positions[i] = i;
  }
  for (size_t k = 0; k < m->num_inputs; ++k) {
    const qopt_io *io = &m->ios[k];
    slot *s = &d->slots[k];
    const qopt_cache *kv = cache_of(m, k);
    if (!kv) {
      role_of(io->name, &s->role);
      continue;
    }
    s->role = ROLE_CACHE;
    s->axis = kv->axis;
    if (io->rank > QOPT_MAX_RANK) {
      qopt_decoder_free(d);
      return qopt__fail(QOPT_ERROR_SHAPE_MISMATCH, "decoder: cache '%s' has "
                        "rank %d", io->name, (int)io->rank);
    }
    size_t bytes = qopt_dtype_size(io->dtype);
    for (int32_t i = 0; i < io->rank; ++i) {
      int64_t v = io->shape[i];
      if (i == kv->axis) v = max_length;
      else if (v < 0 && i == 0) v = 1; /* batch */
      else if (v < 0) {
        qopt_decoder_free(d);
        return qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                          "decoder: cache '%s' has a dynamic dim %d (%s) "
                          "besides the batch and the length",
                          io->name, (int)i, io->dim_names[i]);
      }
      s->shape[i] = v;
      bytes *= (size_t)v;
    }
    /* Zeroed: rows past the length are never read, but stay defined. */
    s->data = calloc(1, bytes ? bytes : 1);
    if (!s->data) goto oom;
  }
  *out = d;
  qopt__clear_error();
  return QOPT_OK;
oom:
  qopt_decoder_free(d);
  return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
}

void qopt_decoder_reset(qopt_decoder *d) {
  if (d) d->length = 0;
}
int64_t qopt_decoder_length(const qopt_decoder *d) { return d ? d->length : 0; }
int64_t qopt_decoder_max_length(const qopt_decoder *d) {
  return d ? d->max_length : 0;
}
int64_t qopt_decoder_vocab(const qopt_decoder *d) { return d ? d->vocab : 0; }

qopt_status qopt_decoder_step(qopt_context *ctx, qopt_decoder *d,
                              const int64_t *ids, int64_t n, float *logits,
                              int all_rows) {
  if (!d || !ids)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (n < 1)
    return qopt__fail(QOPT_ERROR_INVALID_ARGUMENT,
                      "decoder: a step needs at least one token, got %lld",
                      (long long)n);
  if (n > d->max_length - d->length)
    return qopt__fail(QOPT_ERROR_DIM_TOO_LARGE,
                      "decoder: %lld tokens in the context + %lld new is "
                      "over max_length %lld",
                      (long long)d->length, (long long)n,
                      (long long)d->max_length);
  const qopt_model *m = d->m;
  int64_t total = d->length + n;
  for (size_t k = 0; k < m->num_inputs; ++k) {
    slot *s = &d->slots[k];
    qopt_tensor *t = &d->inputs[k];
    t->name = m->ios[k].name;
    t->dtype = m->ios[k].dtype;
    t->rank = m->ios[k].rank;
    t->shape = s->shape;
    switch (s->role) {
    case ROLE_IDS:
      s->shape[0] = 1, s->shape[1] = n;
      t->data = (void *)(uintptr_t)ids;
      break;
    case ROLE_MASK:
      s->shape[0] = 1, s->shape[1] = total;
      t->data = d->ones;
      break;
    case ROLE_POS:
      s->shape[0] = 1, s->shape[1] = n;
      t->data = d->positions + d->length;
      break;
    case ROLE_CACHE:
      t->data = s->data;
      break;
    }
  }
  size_t need = (size_t)n * (size_t)d->vocab * sizeof(float);
  if (n > d->logits_rows) {
    float *l = realloc(d->logits, need);
    if (!l) return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
    d->logits = l;
    d->logits_rows = n;
  }
  qopt_output o;
  memset(&o, 0, sizeof o);
  o.name = "logits";
  o.data = d->logits;
  o.capacity = need;
  qopt_status st = qopt_run_dynamic(ctx, m, d->inputs, m->num_inputs, &o, 1);
  if (st) return st;
  if (o.owned) { /* cannot happen with a buffer of the computed size */
    qopt_free(o.data);
    return qopt__fail(QOPT_ERROR_SHAPE_MISMATCH,
                      "decoder: logits came out with %zu bytes, not %zu",
                      o.num_bytes, need);
  }
  d->length = total;
  if (logits) {
    if (all_rows)
      memcpy(logits, d->logits, need);
    else
      memcpy(logits, d->logits + (size_t)(n - 1) * (size_t)d->vocab,
             (size_t)d->vocab * sizeof(float));
  }
  return QOPT_OK;
}
