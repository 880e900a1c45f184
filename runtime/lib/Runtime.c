/*===- Runtime.c - the C runtime of qopt-compiled models ----------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * Parses the ABI text (docs/abi.md), maps the weights, checks every tensor
 * handed to qopt_run and calls the generated `qopt_entry(void **args)` with
 * args = inputs..., outputs..., weights.
 *===----------------------------------------------------------------------===*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "qopt/qopt_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

/* Provided by the generated code when linked into a model .so. */
extern void qopt_entry(void **args) __attribute__((weak));
extern const char qopt_model_abi[] __attribute__((weak));
/* Provided by libomp when the model uses OpenMP. */
extern void omp_set_num_threads(int) __attribute__((weak));

typedef struct qopt_io {
  char *name;
  int32_t dtype;
  int32_t rank;
  int64_t *shape;
  size_t bytes;
} qopt_io;

struct qopt_model {
  size_t num_inputs, num_outputs;
  qopt_io *ios; /* inputs then outputs */
  qopt_entry_fn entry;
  const void *weights;
  size_t weights_size;
  void *map;
  size_t map_size;
};

struct qopt_context {
  int num_threads;
};

static _Thread_local char g_error[2048];
static int g_num_threads; /* accessed with __atomic builtins */

static qopt_status fail(qopt_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
  return st;
}

const char *qopt_last_error(void) { return g_error; }

size_t qopt_dtype_size(int32_t dt) {
  switch (dt) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  default: return 0;
  }
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

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

static void free_ios(qopt_model *m) {
  if (!m->ios) return;
  for (size_t i = 0; i < m->num_inputs + m->num_outputs; ++i) {
    free(m->ios[i].name);
    free(m->ios[i].shape);
  }
  free(m->ios);
  m->ios = NULL;
}

/* Parses the ABI text into `m`; returns the weights byte count via *wbytes. */
static qopt_status parse_abi(const char *abi, qopt_model *m, size_t *wbytes) {
  size_t cap = 8, n = 0, nin = 0, nout = 0;
  int seen_header = 0, seen_output = 0;
  qopt_io *ios = calloc(cap, sizeof(qopt_io));
  if (!ios) return fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  *wbytes = 0;
  const char *p = abi;
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char line[4096];
    if (len >= sizeof line) goto bad;
    memcpy(line, p, len);
    line[len] = 0;
    p += len + (eol ? 1 : 0);
    if (len == 0) continue;
    char kind[16], name[2048], shape[1024];
    int dtype;
    unsigned long long wb;
    if (!seen_header) {
      if (strcmp(line, "qopt-abi 1") != 0) goto bad;
      seen_header = 1;
    } else if (sscanf(line, "weights %llu", &wb) == 1) {
      *wbytes = (size_t)wb;
    } else if (sscanf(line, "%15s %2047s %d %1023s", kind, name, &dtype,
                      shape) == 4 &&
               (!strcmp(kind, "input") || !strcmp(kind, "output"))) {
      int is_in = !strcmp(kind, "input");
      if (is_in && seen_output) goto bad;
      seen_output |= !is_in;
      if (n == cap) {
        qopt_io *nios = realloc(ios, 2 * cap * sizeof(qopt_io));
        if (!nios) goto oom;
        memset(nios + cap, 0, cap * sizeof(qopt_io));
        ios = nios;
        cap *= 2;
      }
      qopt_io *io = &ios[n++];
      io->name = decode_name(name, strlen(name));
      io->dtype = dtype;
      if (!io->name) goto oom;
      if (qopt_dtype_size(dtype) == 0) goto bad;
      size_t count = 1;
      if (strcmp(shape, "scalar") != 0) {
        int rank = 1;
        for (const char *c = shape; *c; ++c) rank += *c == 'x';
        io->shape = calloc((size_t)rank, sizeof(int64_t));
        if (!io->shape) goto oom;
        const char *c = shape;
        for (int d = 0; d < rank; ++d) {
          char *end;
          long long v = strtoll(c, &end, 10);
          if (end == c || v < 0 || (*end != 'x' && *end != 0)) goto bad;
          io->shape[d] = v;
          count *= (size_t)v;
          c = *end ? end + 1 : end;
        }
        io->rank = rank;
      }
      io->bytes = count * qopt_dtype_size(dtype);
      if (is_in) ++nin; else ++nout;
    } else {
      goto bad;
    }
  }
  if (!seen_header) goto bad;
  m->ios = ios;
  m->num_inputs = nin;
  m->num_outputs = nout;
  return QOPT_OK;
bad:
  m->ios = ios; m->num_inputs = n; m->num_outputs = 0; free_ios(m);
  return fail(QOPT_ERROR_FORMAT, "malformed model ABI description");
oom:
  m->ios = ios; m->num_inputs = n; m->num_outputs = 0; free_ios(m);
  return fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
}

/* Linux gives a process the AMX tile registers only after it asks for
 * them (XFEATURE_XTILEDATA); a model compiled for --target=avx512-amx
 * would otherwise die with SIGILL on its first tile instruction. Asking
 * costs one syscall per model and fails harmlessly where there is no AMX. */
static void request_amx(void) {
#if defined(__linux__) && defined(__x86_64__)
  (void)syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
                18 /* XFEATURE_XTILEDATA */);
#endif
}

qopt_status qopt_model_create(const char *abi, qopt_entry_fn entry,
                              const void *weights, size_t weights_size,
                              qopt_model **model) {
  if (!model) return fail(QOPT_ERROR_INVALID_ARGUMENT, "model is NULL");
  request_amx();
  *model = NULL;
  if (!abi || !entry)
    return fail(QOPT_ERROR_NO_MODEL, "no compiled model (ABI or entry missing)");
  qopt_model *m = calloc(1, sizeof *m);
  if (!m) return fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  size_t wbytes;
  qopt_status st = parse_abi(abi, m, &wbytes);
  if (st) { free(m); return st; }
  if (wbytes && (!weights || weights_size < wbytes)) {
    free_ios(m); free(m);
    return fail(QOPT_ERROR_FORMAT,
                "weights blob has %zu bytes, the model needs %zu",
                weights ? weights_size : (size_t)0, wbytes);
  }
  m->entry = entry;
  m->weights = weights;
  m->weights_size = weights_size;
  *model = m;
  return QOPT_OK;
}

qopt_status qopt_model_load(const char *weights_path, qopt_model **model) {
  if (!model) return fail(QOPT_ERROR_INVALID_ARGUMENT, "model is NULL");
  *model = NULL;
  if (!qopt_entry || !qopt_model_abi)
    return fail(QOPT_ERROR_NO_MODEL,
                "qopt_model_load: this image contains no compiled model");
  qopt_model tmp = {0};
  size_t wbytes;
  qopt_status st = parse_abi(qopt_model_abi, &tmp, &wbytes);
  if (st) return st;
  free_ios(&tmp);
  char path[4096];
  if (!weights_path) {
    Dl_info info;
    if (!dladdr((void *)&qopt_model_load, &info) || !info.dli_fname)
      return fail(QOPT_ERROR_IO, "cannot locate the model library");
    size_t l = strlen(info.dli_fname);
    if (l + 16 >= sizeof path) return fail(QOPT_ERROR_IO, "path too long");
    strcpy(path, info.dli_fname);
    if (l > 3 && !strcmp(path + l - 3, ".so")) path[l - 3] = 0;
    strcat(path, ".weights");
    weights_path = path;
  }
  void *map = NULL;
  size_t map_size = 0;
  if (wbytes) {
    int fd = open(weights_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return fail(QOPT_ERROR_IO, "cannot open weights file '%s': %s",
                  weights_path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < wbytes) {
      close(fd);
      return fail(QOPT_ERROR_FORMAT,
                  "weights file '%s' has %lld bytes, the model needs %zu",
                  weights_path, (long long)sb.st_size, wbytes);
    }
    map_size = (size_t)sb.st_size;
    map = mmap(NULL, map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
      return fail(QOPT_ERROR_IO, "cannot map weights file '%s': %s",
                  weights_path, strerror(errno));
  }
  st = qopt_model_create(qopt_model_abi, qopt_entry, map, map_size, model);
  if (st) {
    if (map) munmap(map, map_size);
    return st;
  }
  (*model)->map = map;
  (*model)->map_size = map_size;
  return QOPT_OK;
}

void qopt_model_free(qopt_model *m) {
  if (!m) return;
  if (m->map) munmap(m->map, m->map_size);
  free_ios(m);
  free(m);
}

size_t qopt_model_num_inputs(const qopt_model *m) { return m ? m->num_inputs : 0; }
size_t qopt_model_num_outputs(const qopt_model *m) { return m ? m->num_outputs : 0; }

static qopt_status info_of(const qopt_model *m, size_t idx, size_t n,
                           size_t base, qopt_tensor_info *info,
                           const char *what) {
  if (!m || !info) return fail(QOPT_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (idx >= n)
    return fail(QOPT_ERROR_INVALID_ARGUMENT, "%s index %zu out of range (%zu)",
                what, idx, n);
  const qopt_io *io = &m->ios[base + idx];
  info->name = io->name;
  info->dtype = io->dtype;
  info->rank = io->rank;
  info->shape = io->shape;
  info->num_bytes = io->bytes;
  return QOPT_OK;
}

qopt_status qopt_model_input_info(const qopt_model *m, size_t i,
                                  qopt_tensor_info *info) {
  return info_of(m, i, m ? m->num_inputs : 0, 0, info, "input");
}
qopt_status qopt_model_output_info(const qopt_model *m, size_t i,
                                   qopt_tensor_info *info) {
  return info_of(m, i, m ? m->num_outputs : 0, m ? m->num_inputs : 0, info,
                 "output");
}

static void format_shape(char *buf, size_t cap, int32_t rank,
                         const int64_t *shape) {
  size_t o = 0;
  o += snprintf(buf + o, cap - o, "[");
  for (int32_t d = 0; d < rank && o < cap; ++d)
    o += snprintf(buf + o, cap - o, "%s%lld", d ? "x" : "", (long long)shape[d]);
  if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* Matches `given` against the model inputs (or outputs) into args. */
static qopt_status bind(const qopt_model *m, const qopt_tensor *given,
                        size_t n, int is_output, void **args) {
  /* Outputs follow the inputs (also when there are no inputs). */
  size_t base = is_output ? m->num_inputs : 0;
  size_t expected = is_output ? m->num_outputs : m->num_inputs;
  const char *what = is_output ? "output" : "input";
  if (n != expected)
    return fail(QOPT_ERROR_INVALID_ARGUMENT, "model has %zu %ss, got %zu",
                expected, what, n);
  if (n && !given)
    return fail(QOPT_ERROR_INVALID_ARGUMENT, "%ss array is NULL", what);
  for (size_t i = 0; i < n; ++i) args[base + i] = NULL;
  for (size_t i = 0; i < n; ++i) {
    const qopt_tensor *t = &given[i];
    size_t k = i;
    if (t->name) {
      for (k = 0; k < n; ++k)
        if (!strcmp(m->ios[base + k].name, t->name)) break;
      if (k == n)
        return fail(QOPT_ERROR_NAME_MISMATCH, "model has no %s named '%s'",
                    what, t->name);
    }
    const qopt_io *io = &m->ios[base + k];
    if (args[base + k])
      return fail(QOPT_ERROR_NAME_MISMATCH, "%s '%s' given twice", what,
                  io->name);
    if (t->dtype != io->dtype)
      return fail(QOPT_ERROR_DTYPE_MISMATCH,
                  "%s '%s': dtype %d given, model expects %d", what, io->name,
                  (int)t->dtype, (int)io->dtype);
    int same = t->rank == io->rank && (t->rank == 0 || t->shape);
    for (int32_t d = 0; same && d < t->rank; ++d)
      same = t->shape[d] == io->shape[d];
    if (!same) {
      char a[256] = "?", b[256];
      if (t->rank >= 0 && (t->rank == 0 || t->shape))
        format_shape(a, sizeof a, t->rank, t->shape);
      format_shape(b, sizeof b, io->rank, io->shape);
      return fail(QOPT_ERROR_SHAPE_MISMATCH,
                  "%s '%s': shape %s given, model expects %s", what, io->name,
                  a, b);
    }
    /* A zero-element tensor has no bytes: its data may be NULL. */
    if (!t->data && io->bytes != 0)
      return fail(QOPT_ERROR_INVALID_ARGUMENT, "%s '%s': data is NULL", what,
                  io->name);
    /* The generated code never dereferences it; pass an aligned non-NULL
       address so that "given twice" detection (and alignment assumptions of
       the generated code) still hold. */
    static _Alignas(64) char no_data[64];
    args[base + k] = t->data ? t->data : (void *)no_data;
  }
  return QOPT_OK;
}

static qopt_status run_impl(const qopt_model *m, int threads,
                            const qopt_tensor *inputs, size_t ni,
                            qopt_tensor *outputs, size_t no) {
  if (!m) return fail(QOPT_ERROR_INVALID_ARGUMENT, "model is NULL");
  void *stack_args[64];
  size_t total = m->num_inputs + m->num_outputs + 1;
  void **args = total <= 64 ? stack_args : malloc(total * sizeof(void *));
  if (!args) return fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  qopt_status st = bind(m, inputs, ni, 0, args);
  if (!st)
    st = bind(m, outputs, no, 1, args);
  if (!st) {
    args[total - 1] = (void *)(uintptr_t)m->weights;
    if (threads > 0 && omp_set_num_threads)
      omp_set_num_threads(threads); /* per calling thread (ICV) */
    m->entry(args);
    g_error[0] = 0;
  }
  if (args != stack_args) free(args);
  return st;
}

qopt_status qopt_run(const qopt_model *m, const qopt_tensor *inputs, size_t ni,
                     qopt_tensor *outputs, size_t no) {
  return run_impl(m, __atomic_load_n(&g_num_threads, __ATOMIC_RELAXED), inputs,
                  ni, outputs, no);
}

void qopt_set_num_threads(int n) {
  __atomic_store_n(&g_num_threads, n, __ATOMIC_RELAXED);
}

qopt_status qopt_context_create(qopt_context **ctx) {
  if (!ctx) return fail(QOPT_ERROR_INVALID_ARGUMENT, "ctx is NULL");
  *ctx = calloc(1, sizeof **ctx);
  return *ctx ? QOPT_OK : fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
}
void qopt_context_set_num_threads(qopt_context *ctx, int n) {
  if (ctx) ctx->num_threads = n;
}
qopt_status qopt_context_run(qopt_context *ctx, const qopt_model *m,
                             const qopt_tensor *inputs, size_t ni,
                             qopt_tensor *outputs, size_t no) {
  int n = ctx && ctx->num_threads > 0
              ? ctx->num_threads
              : __atomic_load_n(&g_num_threads, __ATOMIC_RELAXED);
  return run_impl(m, n, inputs, ni, outputs, no);
}
void qopt_context_free(qopt_context *ctx) { free(ctx); }
