/* Several threads run ONE loaded model at the same time, each on its own
 * inputs, and compare every result with the single-threaded one. Half the
 * threads use qopt_run, half a qopt_context with 1 thread; every thread also
 * makes a failing call and checks that qopt_last_error() (thread-local)
 * reports its own error. Prints "OK <threads> threads x <iters> runs". */
#include "qopt/qopt_runtime.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 8
#define ITERS 25
#define MAXOUT 4

static qopt_model *model;
static size_t nout;
static qopt_tensor_info in_info, out_info[MAXOUT];
static pthread_barrier_t barrier;

typedef struct {
  int id;
  float *x;
  float *ref[MAXOUT];
  int failures;
} job;

static void fill(float *x, size_t n, int seed) {
  unsigned s = 12345u + 977u * (unsigned)seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1103515245u + 12345u;
    x[i] = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
  }
}

static int run(qopt_context *ctx, float *x, float **outs) {
  qopt_tensor in = {in_info.name, in_info.dtype, in_info.rank, in_info.shape, x};
  qopt_tensor out[MAXOUT];
  for (size_t k = 0; k < nout; ++k)
    out[k] = (qopt_tensor){NULL, out_info[k].dtype, out_info[k].rank,
                           out_info[k].shape, outs[k]};
  qopt_status st = ctx ? qopt_context_run(ctx, model, &in, 1, out, nout)
                       : qopt_run(model, &in, 1, out, nout);
  if (st != QOPT_OK)
    fprintf(stderr, "run failed: %s\n", qopt_last_error());
  return st == QOPT_OK;
}

static void *worker(void *arg) {
  job *j = arg;
  qopt_context *ctx = NULL;
  if (j->id % 2) {
    if (qopt_context_create(&ctx) != QOPT_OK) { j->failures++; return NULL; }
    qopt_context_set_num_threads(ctx, 1);
  }
  float *outs[MAXOUT];
  for (size_t k = 0; k < nout; ++k) outs[k] = malloc(out_info[k].num_bytes);
  pthread_barrier_wait(&barrier);
  for (int it = 0; it < ITERS; ++it) {
    for (size_t k = 0; k < nout; ++k) memset(outs[k], 0xff, out_info[k].num_bytes);
    if (!run(ctx, j->x, outs)) { j->failures++; continue; }
    for (size_t k = 0; k < nout; ++k) {
      size_t n = out_info[k].num_bytes / sizeof(float);
      for (size_t i = 0; i < n; ++i)
        if (!(fabsf(outs[k][i] - j->ref[k][i]) <= 1e-5f)) {
          fprintf(stderr, "thread %d iter %d output %zu[%zu]: %g != %g\n", j->id,
                  it, k, i, outs[k][i], j->ref[k][i]);
          j->failures++;
          break;
        }
    }
    if (it == ITERS / 2) {  /* a failing call: wrong rank */
      qopt_tensor bad = {in_info.name, in_info.dtype, 1, in_info.shape, j->x};
      qopt_tensor out[MAXOUT];
      for (size_t k = 0; k < nout; ++k)
        out[k] = (qopt_tensor){NULL, out_info[k].dtype, out_info[k].rank,
                               out_info[k].shape, outs[k]};
      if (qopt_run(model, &bad, 1, out, nout) == QOPT_OK ||
          !strstr(qopt_last_error(), in_info.name)) {
        fprintf(stderr, "thread %d: bad call not reported: '%s'\n", j->id,
                qopt_last_error());
        j->failures++;
      }
    }
  }
  for (size_t k = 0; k < nout; ++k) free(outs[k]);
  qopt_context_free(ctx);
  return NULL;
}

int main(void) {
  if (qopt_model_load(NULL, &model) != QOPT_OK) {
    fprintf(stderr, "load: %s\n", qopt_last_error());
    return 1;
  }
  nout = qopt_model_num_outputs(model);
  if (qopt_model_num_inputs(model) != 1 || nout < 1 || nout > MAXOUT ||
      qopt_model_input_info(model, 0, &in_info) != QOPT_OK ||
      in_info.dtype != QOPT_DTYPE_FLOAT) {
    fprintf(stderr, "unexpected model signature\n");
    return 1;
  }
  for (size_t k = 0; k < nout; ++k)
    if (qopt_model_output_info(model, k, &out_info[k]) != QOPT_OK ||
        out_info[k].dtype != QOPT_DTYPE_FLOAT)
      return fprintf(stderr, "bad output %zu\n", k), 1;

  /* Reference results, one thread at a time. */
  job jobs[NTHREADS];
  size_t nx = in_info.num_bytes / sizeof(float);
  for (int t = 0; t < NTHREADS; ++t) {
    jobs[t].id = t;
    jobs[t].failures = 0;
    jobs[t].x = malloc(in_info.num_bytes);
    fill(jobs[t].x, nx, t);
    for (size_t k = 0; k < nout; ++k) jobs[t].ref[k] = malloc(out_info[k].num_bytes);
    if (!run(NULL, jobs[t].x, jobs[t].ref)) return 1;
  }
  /* Different inputs must give different outputs (else the test is void). */
  if (!memcmp(jobs[0].ref[0], jobs[1].ref[0], out_info[0].num_bytes))
    return fprintf(stderr, "inputs do not matter?\n"), 1;

  pthread_barrier_init(&barrier, NULL, NTHREADS);
  pthread_t th[NTHREADS];
  for (int t = 0; t < NTHREADS; ++t) pthread_create(&th[t], NULL, worker, &jobs[t]);
  int failures = 0;
  for (int t = 0; t < NTHREADS; ++t) {
    pthread_join(th[t], NULL);
    failures += jobs[t].failures;
  }
  qopt_model_free(model);
  if (failures) {
    fprintf(stderr, "FAILED: %d mismatches/errors\n", failures);
    return 1;
  }
  printf("OK %d threads x %d runs\n", NTHREADS, ITERS);
  return 0;
}
