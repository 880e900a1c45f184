/*===- ABI.c - the ABI description text of a compiled model -------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * Reads versions 1 and 2 of the text in docs/abi.md into a qopt_model.
 *===----------------------------------------------------------------------===*/
#include "Internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Percent-decodes s[0..n); "%" alone is the empty name. */
static char *decode_name(const char *s, size_t n) {
  char *out = malloc(n + 1);
  size_t j = 0;
  if (!out) return NULL;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
        hexval(s[i + 2]) >= 0) {
      out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (s[i] == '%' && n == 1) {
      /* "%" alone encodes the empty name */
    } else {
      out[j++] = s[i];
    }
  }
  out[j] = 0;
  return out;
}

static void free_dims(qopt_model *m) {
  for (size_t i = 0; i < m->num_dims; ++i) free(m->dim_name[i]);
  free(m->dim_name);
  free(m->dim_max);
  m->dim_name = NULL;
  m->dim_max = NULL;
  m->num_dims = 0;
}

void qopt__free_ios(qopt_model *m) {
  free_dims(m);
  for (size_t c = 0; c < m->num_caches; ++c) free(m->caches[c].present);
  free(m->caches);
  m->caches = NULL;
  m->num_caches = 0;
  if (!m->ios) return;
  for (size_t i = 0; i < m->num_inputs + m->num_outputs; ++i) {
    qopt_io *io = &m->ios[i];
    for (int32_t d = 0; io->dim_names && d < io->rank; ++d)
      free(io->dim_names[d]);
    free(io->dim_names);
    free(io->dim_ref);
    free(io->name);
    free(io->shape);
  }
  free(m->ios);
  m->ios = NULL;
}

/* Index of the named dim `name` (added with max 0 if new); -1: no memory. */
static long dim_index(qopt_model *m, const char *name) {
  for (size_t i = 0; i < m->num_dims; ++i)
    if (!strcmp(m->dim_name[i], name)) return (long)i;
  char **names = realloc(m->dim_name, (m->num_dims + 1) * sizeof(char *));
  if (!names) return -1;
  m->dim_name = names;
  int64_t *maxes = realloc(m->dim_max, (m->num_dims + 1) * sizeof(int64_t));
  if (!maxes) return -1;
  m->dim_max = maxes;
  if (!(names[m->num_dims] = strdup(name))) return -1;
  maxes[m->num_dims] = 0;
  return (long)m->num_dims++;
}

enum { PARSE_OK, PARSE_BAD, PARSE_OOM };

/* Dims of `shape` ("scalar" or tokens joined by x: a number, `?` or, from
 * version 2, a dim name) into io. */
static int parse_shape(const char *shape, int version, qopt_io *io) {
  if (!strcmp(shape, "scalar")) return PARSE_OK;
  int rank = 1;
  for (const char *c = shape; *c; ++c) rank += *c == 'x';
  io->shape = calloc((size_t)rank, sizeof(int64_t));
  io->dim_names = calloc((size_t)rank, sizeof(char *));
  io->dim_ref = calloc((size_t)rank, sizeof(int32_t));
  if (!io->shape || !io->dim_names || !io->dim_ref) return PARSE_OOM;
  io->rank = rank;
  const char *c = shape;
  for (int d = 0; d < rank; ++d) {
    const char *end = strchr(c, 'x');
    size_t len = end ? (size_t)(end - c) : strlen(c);
    io->dim_ref[d] = -1;
    if (len == 0) return PARSE_BAD;
    if (c[0] >= '0' && c[0] <= '9') {
      int64_t v = 0;
      for (size_t i = 0; i < len; ++i) {
        if (c[i] < '0' || c[i] > '9' || v > (INT64_MAX - 9) / 10)
          return PARSE_BAD;
        v = v * 10 + (c[i] - '0');
      }
      io->shape[d] = v;
      io->dim_names[d] = decode_name("", 0);
    } else if (version < 2) {
      return PARSE_BAD;
    } else {
      io->shape[d] = -1;
      io->dim_names[d] =
          len == 1 && c[0] == '?' ? decode_name("", 0) : decode_name(c, len);
    }
    if (!io->dim_names[d]) return PARSE_OOM;
    c += len + (end ? 1 : 0);
  }
  return PARSE_OK;
}

/* Static byte size of io (0 if a dim is dynamic); 0 on overflow via *ok. */
static size_t static_bytes(const qopt_io *io, int *ok) {
  size_t n = qopt_dtype_size(io->dtype);
  for (int32_t d = 0; d < io->rank; ++d) {
    if (io->shape[d] < 0) return 0;
    if (io->shape[d] && n > ((size_t)1 << 47) / (size_t)io->shape[d]) {
      *ok = 0;
      return 0;
    }
    n *= (size_t)io->shape[d];
  }
  return n;
}

/* `cache <input> <present> <axis> <total-dim> <new-dim>`: the input must
 * already be declared (inputs precede `cache` lines). */
static int parse_cache(const char *line, qopt_model *m) {
  char in[2048], present[2048], total[1024], fresh[1024], tail;
  int axis;
  if (sscanf(line, "cache %2047s %2047s %d %1023s %1023s%c", in, present,
             &axis, total, fresh, &tail) != 5 || axis < 0)
    return PARSE_BAD;
  qopt_cache *nc = realloc(m->caches, (m->num_caches + 1) * sizeof *nc);
  if (!nc) return PARSE_OOM;
  m->caches = nc;
  qopt_cache *kv = &nc[m->num_caches];
  memset(kv, 0, sizeof *kv);
  char *name = decode_name(in, strlen(in));
  if (!name) return PARSE_OOM;
  kv->input = (size_t)-1;
  for (size_t i = 0; i < m->num_inputs; ++i)
    if (!strcmp(m->ios[i].name, name)) kv->input = i;
  free(name);
  kv->present = decode_name(present, strlen(present));
  if (!kv->present) return PARSE_OOM;
  ++m->num_caches;
  kv->axis = axis;
  char *t = decode_name(total, strlen(total)), *f = decode_name(fresh, strlen(fresh));
  long kt = t ? dim_index(m, t) : -1, kf = f ? dim_index(m, f) : -1;
  free(t);
  free(f);
  if (kt < 0 || kf < 0) return PARSE_OOM;
  kv->total_dim = (int32_t)kt;
  kv->new_dim = (int32_t)kf;
  return kv->input == (size_t)-1 ? PARSE_BAD : PARSE_OK;
}

static int parse_lines(const char *abi, qopt_model *m, size_t *wbytes,
                       size_t *cap) {
  int version = 0, entry = -1, seen_output = 0;
  const char *p = abi;
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char line[4096];
    if (len >= sizeof line) return PARSE_BAD;
    memcpy(line, p, len);
    line[len] = 0;
    p += len + (eol ? 1 : 0);
    if (len == 0) continue;
    char kind[16], name[2048], shape[1024], tail;
    int dtype;
    unsigned long long wb;
    long long max;
    if (!version) {
      if (!strcmp(line, "qopt-abi 1")) version = 1;
      else if (!strcmp(line, "qopt-abi 2")) version = 2;
      else return PARSE_BAD;
    } else if (sscanf(line, "weights %llu%c", &wb, &tail) == 1) {
      *wbytes = (size_t)wb;
    } else if (version >= 2 && !strcmp(line, "entry static")) {
      entry = 0;
    } else if (version >= 2 && !strcmp(line, "entry dynamic")) {
      entry = 1;
    } else if (version >= 2 &&
               sscanf(line, "dim %2047s %lld%c", name, &max, &tail) == 2) {
      char *n = decode_name(name, strlen(name));
      if (!n) return PARSE_OOM;
      long k = dim_index(m, n);
      free(n);
      if (k < 0) return PARSE_OOM;
      if (max < 0) return PARSE_BAD;
      m->dim_max[k] = max;
    } else if (version >= 2 && !strncmp(line, "cache ", 6)) {
      int st = parse_cache(line, m);
      if (st) return st;
    } else if (sscanf(line, "%15s %2047s %d %1023s%c", kind, name, &dtype,
                      shape, &tail) == 4 &&
               (!strcmp(kind, "input") || !strcmp(kind, "output"))) {
      int is_in = !strcmp(kind, "input");
      if (is_in && seen_output) return PARSE_BAD;
      seen_output |= !is_in;
      size_t n = m->num_inputs + m->num_outputs;
      if (n == *cap) {
        qopt_io *nios = realloc(m->ios, 2 * *cap * sizeof(qopt_io));
        if (!nios) return PARSE_OOM;
        memset(nios + *cap, 0, *cap * sizeof(qopt_io));
        m->ios = nios;
        *cap *= 2;
      }
      qopt_io *io = &m->ios[n];
      if (is_in) ++m->num_inputs; else ++m->num_outputs;
      io->name = decode_name(name, strlen(name));
      io->dtype = dtype;
      if (!io->name) return PARSE_OOM;
      if (qopt_dtype_size(dtype) == 0) return PARSE_BAD;
      int st = parse_shape(shape, version, io);
      if (st) return st;
    } else {
      return PARSE_BAD;
    }
  }
  if (!version) return PARSE_BAD;
  /* Named dims refer to the table; sizes; the entry convention. */
  int any_dynamic = 0;
  for (size_t i = 0; i < m->num_inputs + m->num_outputs; ++i) {
    qopt_io *io = &m->ios[i];
    int ok = 1;
    for (int32_t d = 0; d < io->rank; ++d) {
      any_dynamic |= io->shape[d] < 0;
      if (!io->dim_names[d][0]) continue;
      long k = dim_index(m, io->dim_names[d]);
      if (k < 0) return PARSE_OOM;
      io->dim_ref[d] = (int32_t)k;
    }
    io->bytes = static_bytes(io, &ok);
    if (!ok) return PARSE_BAD;
    if (i < m->num_inputs) m->in_dims += (size_t)io->rank;
    else m->out_dims += (size_t)io->rank;
  }
  if (entry < 0) entry = 0;
  if (any_dynamic && !entry) return PARSE_BAD;
  for (size_t c = 0; c < m->num_caches; ++c) {
    qopt_cache *kv = &m->caches[c];
    if (kv->input >= m->num_inputs ||
        kv->axis >= m->ios[kv->input].rank ||
        m->ios[kv->input].shape[kv->axis] >= 0)
      return PARSE_BAD;
  }
  /* An int8 cache (--kv-cache=int8) has exactly one float32 scale cache
   * with the same present and lengths, shaped like it with the last dim 1. */
  for (size_t c = 0; c < m->num_caches; ++c) {
    const qopt_cache *kv = &m->caches[c];
    const qopt_io *q = &m->ios[kv->input];
    if (q->dtype != QOPT_DTYPE_INT8) continue;
    int found = 0;
    for (size_t e = 0; e < m->num_caches; ++e) {
      const qopt_cache *sc = &m->caches[e];
      const qopt_io *s = &m->ios[sc->input];
      if (e == c || strcmp(sc->present, kv->present)) continue;
      if (s->dtype != QOPT_DTYPE_FLOAT || s->rank != q->rank ||
          sc->axis != kv->axis || sc->total_dim != kv->total_dim ||
          sc->new_dim != kv->new_dim || kv->axis + 1 >= q->rank ||
          s->shape[q->rank - 1] != 1)
        return PARSE_BAD;
      for (int32_t d = 0; d + 1 < q->rank; ++d)
        if (s->shape[d] != q->shape[d] ||
            strcmp(s->dim_names[d], q->dim_names[d]))
          return PARSE_BAD;
      ++found;
    }
    if (found != 1) return PARSE_BAD;
  }
  m->dynamic = entry;
  return PARSE_OK;
}

qopt_status qopt__parse_abi(const char *abi, qopt_model *m, size_t *wbytes) {
  size_t cap = 8;
  m->ios = calloc(cap, sizeof(qopt_io));
  m->num_inputs = m->num_outputs = 0;
  if (!m->ios) return qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  *wbytes = 0;
  int st = parse_lines(abi, m, wbytes, &cap);
  if (st == PARSE_OK) return QOPT_OK;
  qopt__free_ios(m);
  m->num_inputs = m->num_outputs = 0;
  return st == PARSE_OOM
             ? qopt__fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory")
             : qopt__fail(QOPT_ERROR_FORMAT, "malformed model ABI description");
}
