/*===- Runtime.c - the C runtime of qopt-compiled models ----------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * Loads a model (ABI text: ABI.c; weights mapped), checks every tensor
 * handed to qopt_run and calls the generated `qopt_entry(void **args)` with
 * args = inputs..., outputs..., weights. Models with dynamic dims run
 * through Dynamic.c.
 *===----------------------------------------------------------------------===*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "Internal.h"

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#include <pthread.h>
#endif
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

static _Thread_local char g_error[2048];
static int g_num_threads; /* accessed with __atomic builtins */

qopt_status qopt__fail(qopt_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
  return st;
}
#define fail qopt__fail

void qopt__clear_error(void) { g_error[0] = 0; }

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

#if defined(__GLIBC__)
static void tune_malloc(void) {
  const char *keep = getenv("QOPT_KEEP_FREED_MEMORY");
  const char *tun = getenv("GLIBC_TUNABLES");
  if ((keep && !strcmp(keep, "0")) || (tun && strstr(tun, "malloc")))
    return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest on 64-bit */
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
#endif

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

/* A model with run-time dims allocates its temporaries per call (sizes
 * follow the inputs). glibc serves blocks over its mmap threshold with
 * fresh mappings, so every call of a large step (prefill's attention
 * scores) page-faults its buffers in again: 15-30 % of a 128-token
 * llama-tiny prefill. Raising the thresholds keeps freed blocks for the
 * next call. Once per process; QOPT_KEEP_FREED_MEMORY=0 leaves glibc's
 * settings alone, as does a GLIBC_TUNABLES naming malloc. */
static void keep_freed_memory(void) {
#if defined(__GLIBC__)
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, tune_malloc);
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
  qopt_status st = qopt__parse_abi(abi, m, &wbytes);
  if (st) { free(m); return st; }
  if (m->dynamic) keep_freed_memory();
  if (wbytes && (!weights || weights_size < wbytes)) {
    qopt__free_ios(m); free(m);
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
  qopt_status st = qopt__parse_abi(qopt_model_abi, &tmp, &wbytes);
  if (st) return st;
  qopt__free_ios(&tmp);
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
  qopt__free_ios(m);
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

static const char *dim_name_of(const qopt_model *m, size_t idx, size_t n,
                               size_t base, int32_t dim) {
  if (!m || idx >= n) return NULL;
  const qopt_io *io = &m->ios[base + idx];
  return dim >= 0 && dim < io->rank ? io->dim_names[dim] : NULL;
}

const char *qopt_model_input_dim_name(const qopt_model *m, size_t i,
                                      int32_t dim) {
  return dim_name_of(m, i, m ? m->num_inputs : 0, 0, dim);
}
const char *qopt_model_output_dim_name(const qopt_model *m, size_t i,
                                       int32_t dim) {
  return dim_name_of(m, i, m ? m->num_outputs : 0, m ? m->num_inputs : 0, dim);
}

int qopt_model_is_dynamic(const qopt_model *m) { return m ? m->dynamic : 0; }
size_t qopt_model_num_dims(const qopt_model *m) { return m ? m->num_dims : 0; }
qopt_status qopt_model_dim(const qopt_model *m, size_t i, const char **name,
                           int64_t *max) {
  if (!m) return fail(QOPT_ERROR_INVALID_ARGUMENT, "model is NULL");
  if (i >= m->num_dims)
    return fail(QOPT_ERROR_INVALID_ARGUMENT, "dim index %zu out of range (%zu)",
                i, m->num_dims);
  if (name) *name = m->dim_name[i];
  if (max) *max = m->dim_max[i];
  return QOPT_OK;
}

void qopt__format_shape(char *buf, size_t cap, int32_t rank,
                        const int64_t *shape) {
  size_t o = 0;
  o += snprintf(buf + o, cap - o, "[");
  for (int32_t d = 0; d < rank && o < cap; ++d) {
    if (shape[d] < 0)
      o += snprintf(buf + o, cap - o, "%s?", d ? "x" : "");
    else
      o += snprintf(buf + o, cap - o, "%s%lld", d ? "x" : "",
                    (long long)shape[d]);
  }
  if (o < cap) snprintf(buf + o, cap - o, "]");
}
#define format_shape qopt__format_shape

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
    args[base + k] = t->data ? t->data : (void *)qopt__no_data;
  }
  return QOPT_OK;
}

_Alignas(64) char qopt__no_data[64];

void qopt__set_threads(int n) {
  if (n > 0 && omp_set_num_threads)
    omp_set_num_threads(n); /* per calling thread (ICV) */
}

static qopt_status run_impl(const qopt_model *m, int threads,
                            const qopt_tensor *inputs, size_t ni,
                            qopt_tensor *outputs, size_t no) {
  if (!m) return fail(QOPT_ERROR_INVALID_ARGUMENT, "model is NULL");
  if (m->dynamic)
    return qopt__run_dynamic_compat(m, threads, inputs, ni, outputs, no);
  void *stack_args[64];
  size_t total = m->num_inputs + m->num_outputs + 1;
  void **args = total <= 64 ? stack_args : malloc(total * sizeof(void *));
  if (!args) return fail(QOPT_ERROR_OUT_OF_MEMORY, "out of memory");
  qopt_status st = bind(m, inputs, ni, 0, args);
  if (!st)
    st = bind(m, outputs, no, 1, args);
  if (!st) {
    args[total - 1] = (void *)(uintptr_t)m->weights;
    qopt__set_threads(threads);
    m->entry(args);
    g_error[0] = 0;
  }
  if (args != stack_args) free(args);
  return st;
}

qopt_status qopt_run(const qopt_model *m, const qopt_tensor *inputs, size_t ni,
                     qopt_tensor *outputs, size_t no) {
  return run_impl(m, qopt__threads(NULL), inputs, ni, outputs, no);
}

int qopt__threads(const qopt_context *ctx) {
  return ctx && ctx->num_threads > 0
             ? ctx->num_threads
             : __atomic_load_n(&g_num_threads, __ATOMIC_RELAXED);
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
  return run_impl(m, qopt__threads(ctx), inputs, ni, outputs, no);
}
void qopt_context_free(qopt_context *ctx) { free(ctx); }
