/*===- Internal.h - shared state of the C runtime -----------------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *===----------------------------------------------------------------------===*/
#ifndef QOPT_RUNTIME_INTERNAL_H
#define QOPT_RUNTIME_INTERNAL_H

#include "qopt/qopt_runtime.h"

/* One input or output as the ABI text describes it (docs/abi.md). */
typedef struct qopt_io {
  char *name;
  int32_t dtype;
  int32_t rank;
  int64_t *shape;    /* -1: dynamic */
  char **dim_names;  /* rank entries, "" for a static or unnamed dim */
  int32_t *dim_ref;  /* index into the model's named dims, or -1 */
  size_t bytes;      /* 0 when a dim is dynamic */
} qopt_io;

/* An input the model updates in place as a KV cache (`cache` line): rows
 * [total - new, total) of its `axis` (the capacity) are written. */
typedef struct qopt_cache {
  size_t input;      /* model input index */
  char *present;     /* the ONNX output it replaces */
  int32_t axis;
  int32_t total_dim, new_dim; /* indices into the named dims */
} qopt_cache;

struct qopt_model {
  size_t num_inputs, num_outputs;
  qopt_io *ios; /* inputs then outputs */
  int dynamic;  /* `entry dynamic`: entry takes the qopt_entry_dyn pointers */
  size_t num_dims;
  char **dim_name;  /* named dims */
  int64_t *dim_max; /* 0: unbounded */
  size_t in_dims, out_dims; /* sum of the input / output ranks */
  size_t num_caches;
  qopt_cache *caches;
  qopt_entry_fn entry;
  const void *weights;
  size_t weights_size;
  void *map;
  size_t map_size;
};

struct qopt_context {
  int num_threads;
};

/* Sets the thread's error message; returns `st`. */
qopt_status qopt__fail(qopt_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void qopt__clear_error(void);
/* Parses the ABI text into `m`; the weights byte count into *wbytes. */
qopt_status qopt__parse_abi(const char *abi, qopt_model *m, size_t *wbytes);
void qopt__free_ios(qopt_model *m);
/* "[2x?x4]"-style text of a shape into buf. */
void qopt__format_shape(char *buf, size_t cap, int32_t rank,
                        const int64_t *shape);
/* Sets the calling thread's OpenMP thread count (n > 0). */
void qopt__set_threads(int n);
/* The thread count for a run with `ctx` (may be NULL). */
int qopt__threads(const qopt_context *ctx);
/* An aligned non-NULL address for zero-byte tensors given as NULL. */
extern char qopt__no_data[64];

/* Runs a dynamic model with caller-shaped outputs (qopt_run on it). */
qopt_status qopt__run_dynamic_compat(const qopt_model *m, int threads,
                                     const qopt_tensor *inputs, size_t ni,
                                     qopt_tensor *outputs, size_t no);

#endif
