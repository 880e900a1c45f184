/*===- qopt_runtime.h - C ABI of a qopt-compiled model -------------------===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * A model compiled by `qopt-compile -o model.so` is a shared library that
 * exports these functions; its weights live in `model.weights` next to it.
 *
 *   qopt_model *m;
 *   if (qopt_model_load(NULL, &m) != QOPT_OK) puts(qopt_last_error());
 *   qopt_tensor in = {"x", QOPT_DTYPE_FLOAT, 2, shape, data};
 *   qopt_tensor out = {NULL, QOPT_DTYPE_FLOAT, 2, oshape, odata};
 *   qopt_run(m, &in, 1, &out, 1);
 *   qopt_model_free(m);
 *
 * Every input/output is checked (count, name, dtype, rank, shape, non-NULL
 * data unless the tensor has zero elements) before the model runs. Data is dense, row-major (C order), and must
 * not overlap between inputs and outputs. qopt_run may be called from several
 * threads on the same model at once. Errors: a non-zero qopt_status and a
 * message in qopt_last_error() (thread-local).
 *
 * Models with dynamic dims (qopt_model_is_dynamic): the info calls report
 * -1 for a dynamic dim (its ONNX dim_param name from *_dim_name). Inputs
 * may have any size along them, checked before the run (rank, static dims,
 * a named dim equal across all inputs, a named dim within its --dim-max).
 * qopt_run_dynamic returns the outputs' run-time shapes:
 *
 *   qopt_output out = {NULL, NULL, 0};        (data NULL: runtime allocates)
 *   qopt_run_dynamic(NULL, m, &in, 1, &out, 1);
 *   ... out.shape[0 .. out.rank), out.data ...
 *   if (out.owned) qopt_free(out.data);
 *===----------------------------------------------------------------------===*/
#ifndef QOPT_RUNTIME_H
#define QOPT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define QOPT_API
#else
#define QOPT_API __attribute__((visibility("default")))
#endif

typedef enum qopt_status {
  QOPT_OK = 0,
  QOPT_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad count */
  QOPT_ERROR_IO = 2,               /* weights file missing / unreadable */
  QOPT_ERROR_FORMAT = 3,           /* malformed ABI description / weights */
  QOPT_ERROR_NAME_MISMATCH = 4,    /* unknown or duplicate tensor name */
  QOPT_ERROR_DTYPE_MISMATCH = 5,
  QOPT_ERROR_SHAPE_MISMATCH = 6,
  QOPT_ERROR_OUT_OF_MEMORY = 7,
  QOPT_ERROR_NO_MODEL = 8,         /* this image contains no compiled model */
  QOPT_ERROR_DIM_MISMATCH = 9,     /* a named dim differs between inputs */
  QOPT_ERROR_DIM_TOO_LARGE = 10    /* a named dim is over its maximum */
} qopt_status;

/* ONNX TensorProto data type numbers. */
enum {
  QOPT_DTYPE_FLOAT = 1, QOPT_DTYPE_UINT8 = 2, QOPT_DTYPE_INT8 = 3,
  QOPT_DTYPE_UINT16 = 4, QOPT_DTYPE_INT16 = 5, QOPT_DTYPE_INT32 = 6,
  QOPT_DTYPE_INT64 = 7, QOPT_DTYPE_BOOL = 9, QOPT_DTYPE_FLOAT16 = 10,
  QOPT_DTYPE_DOUBLE = 11, QOPT_DTYPE_UINT32 = 12, QOPT_DTYPE_UINT64 = 13,
  QOPT_DTYPE_BFLOAT16 = 16
};

typedef struct qopt_model qopt_model;
/* Per-caller settings (thread count); optional, see qopt_context_run. */
typedef struct qopt_context qopt_context;

/* A tensor passed to qopt_run. `name` may be NULL: then the tensor is
 * matched by position. Bool tensors use one byte per element. */
typedef struct qopt_tensor {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
  void *data;
} qopt_tensor;

/* Description of a model input/output; pointers live as long as the model.
 * `shape[d]` is -1 for a dynamic dim; `num_bytes` is 0 when a dim is
 * dynamic. */
typedef struct qopt_tensor_info {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
  size_t num_bytes;
} qopt_tensor_info;

/* Largest output rank qopt_run_dynamic reports. */
#define QOPT_MAX_RANK 16

/* An output of qopt_run_dynamic. In: `name` (NULL: by position), `data` +
 * `capacity` (a caller buffer, or NULL / 0). Out: when the output fits in
 * `capacity` bytes it is written there (owned = 0); otherwise `data` is set
 * to the runtime's allocation (owned = 1; free it with qopt_free). A
 * zero-byte output leaves `data` as given (owned = 0). On error nothing is
 * written. */
typedef struct qopt_output {
  const char *name;
  void *data;
  size_t capacity;
  int32_t dtype;
  int32_t rank;
  int64_t shape[QOPT_MAX_RANK];
  size_t num_bytes;
  int32_t owned;
} qopt_output;

/* The generated entry point (docs/abi.md). For a static model args are the
 * input, output and weights pointers; for a dynamic one the six pointers of
 * qopt_entry_dyn_fn, in order. */
typedef void (*qopt_entry_fn)(void **args);
/* `qopt_entry_dyn` of a dynamic model: inputs' data and dims (all inputs'
 * dims concatenated), per output the pointer to free, the data pointer and
 * the dims (concatenated), and the weights blob. */
typedef void (*qopt_entry_dyn_fn)(void **in_data, const int64_t *in_dims,
                                  void **out_alloc, void **out_data,
                                  int64_t *out_dims, const void *weights);

/* Loads the model compiled into this shared library. `weights_path` NULL:
 * the library's path with `.so` replaced by `.weights` (mmapped read-only). */
QOPT_API qopt_status qopt_model_load(const char *weights_path,
                                     qopt_model **model);
/* Builds a model from an entry point and ABI text (JIT use). `weights` is
 * borrowed and must stay valid and 64-byte aligned while the model lives. */
QOPT_API qopt_status qopt_model_create(const char *abi, qopt_entry_fn entry,
                                       const void *weights, size_t weights_size,
                                       qopt_model **model);
QOPT_API void qopt_model_free(qopt_model *model);

QOPT_API size_t qopt_model_num_inputs(const qopt_model *model);
QOPT_API size_t qopt_model_num_outputs(const qopt_model *model);
QOPT_API qopt_status qopt_model_input_info(const qopt_model *model,
                                           size_t index,
                                           qopt_tensor_info *info);
QOPT_API qopt_status qopt_model_output_info(const qopt_model *model,
                                            size_t index,
                                            qopt_tensor_info *info);

/* Dynamic models: the ONNX dim_param name of dim `dim` ("" for a static or
 * unnamed dim; NULL for a bad index). */
QOPT_API const char *qopt_model_input_dim_name(const qopt_model *model,
                                               size_t index, int32_t dim);
QOPT_API const char *qopt_model_output_dim_name(const qopt_model *model,
                                                size_t index, int32_t dim);
/* 1 if some input or output has a dynamic dim, else 0. */
QOPT_API int qopt_model_is_dynamic(const qopt_model *model);
/* The named dims (in order of first use) and their --dim-max (0: none). */
QOPT_API size_t qopt_model_num_dims(const qopt_model *model);
QOPT_API qopt_status qopt_model_dim(const qopt_model *model, size_t index,
                                    const char **name, int64_t *max);

/* Outputs must have the shapes the model computes (for a dynamic model
 * they are compared after the run, and nothing is written on a mismatch). */
QOPT_API qopt_status qopt_run(const qopt_model *model,
                              const qopt_tensor *inputs, size_t num_inputs,
                              qopt_tensor *outputs, size_t num_outputs);
/* Any model; returns the outputs' shapes (see qopt_output). `ctx` may be
 * NULL (process-wide thread count). */
QOPT_API qopt_status qopt_run_dynamic(qopt_context *ctx,
                                      const qopt_model *model,
                                      const qopt_tensor *inputs,
                                      size_t num_inputs, qopt_output *outputs,
                                      size_t num_outputs);
/* Frees an output that qopt_run_dynamic handed over (owned = 1). */
QOPT_API void qopt_free(void *data);

/* Process-wide default thread count for qopt_run (<= 0: runtime default). */
QOPT_API void qopt_set_num_threads(int num_threads);

QOPT_API qopt_status qopt_context_create(qopt_context **ctx);
QOPT_API void qopt_context_set_num_threads(qopt_context *ctx, int n);
QOPT_API qopt_status qopt_context_run(qopt_context *ctx,
                                      const qopt_model *model,
                                      const qopt_tensor *inputs,
                                      size_t num_inputs, qopt_tensor *outputs,
                                      size_t num_outputs);
QOPT_API void qopt_context_free(qopt_context *ctx);

/* Text generation over a KV-cache decoder compiled with in-place caches
 * (`cache` lines in the ABI; qopt-compile --kv-cache=auto|inplace on a
 * model in the Hugging Face Optimum layout, docs/abi.md). The decoder owns
 * one buffer per cache, allocated once for `max_length` positions (batch
 * 1), the attention mask and the position ids; each step writes the new
 * tokens' keys/values into the caches in place, with no copy of the past.
 *
 *   qopt_decoder *d;
 *   qopt_decoder_create(m, 0, &d);             (0: the --dim-max bound)
 *   qopt_decoder_step(NULL, d, prompt, n, logits, 0);   (prefill)
 *   qopt_decoder_step(NULL, d, &next, 1, logits, 0);    (one token)
 *   qopt_decoder_free(d);
 *
 * The model's inputs must be the caches and any of input_ids,
 * attention_mask, position_ids (int64, [batch, length]); its one output
 * `logits` float32 [batch, sequence, vocab] with a static vocab. */
typedef struct qopt_decoder qopt_decoder;
/* `max_length` <= 0: the --dim-max bound of the present length (error if
 * it has none). The model must outlive the decoder. */
QOPT_API qopt_status qopt_decoder_create(const qopt_model *model,
                                         int64_t max_length,
                                         qopt_decoder **decoder);
QOPT_API void qopt_decoder_free(qopt_decoder *decoder);
/* Back to an empty context (the caches are reused). */
QOPT_API void qopt_decoder_reset(qopt_decoder *decoder);
/* Tokens in the context so far; the capacity; the vocabulary size. */
QOPT_API int64_t qopt_decoder_length(const qopt_decoder *decoder);
QOPT_API int64_t qopt_decoder_max_length(const qopt_decoder *decoder);
QOPT_API int64_t qopt_decoder_vocab(const qopt_decoder *decoder);
/* Runs `n` >= 1 tokens at positions [length, length + n). `logits`, if not
 * NULL, receives the last token's vocab floats, or all n rows (n * vocab)
 * when `all_rows`. Over max_length: QOPT_ERROR_DIM_TOO_LARGE and nothing
 * changes. `ctx` may be NULL. */
QOPT_API qopt_status qopt_decoder_step(qopt_context *ctx,
                                       qopt_decoder *decoder,
                                       const int64_t *ids, int64_t n,
                                       float *logits, int all_rows);

/* Message of the last failing call on this thread ("" if none). */
QOPT_API const char *qopt_last_error(void);
/* Bytes per element of an ONNX dtype (0: unsupported). */
QOPT_API size_t qopt_dtype_size(int32_t dtype);

#ifdef __cplusplus
}
#endif

#endif /* QOPT_RUNTIME_H */
