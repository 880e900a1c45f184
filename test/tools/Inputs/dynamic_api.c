/* The C API on a model with dynamic dims (Inputs/dynamic.mlir, compiled to
 * a .so): info (-1 dims, dim names, dim maxima), qopt_run_dynamic with
 * runtime-allocated, large-enough and too-small caller buffers, qopt_run
 * with matching and mismatching output shapes (nothing written), and every
 * input shape error. Prints one line per check; exits non-zero on a
 * failed check. */
#include "qopt/qopt_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      printf("FAILED line %d: %s (%s)\n", __LINE__, #c, qopt_last_error());   \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static float xs[64 * 4 + 4], ys[64 * 4 + 4], ps[2 * 5 * 3];

typedef struct inputs {
  int64_t xshape[2], yshape[2], pshape[4];
  qopt_tensor t[3];
} inputs;

static void make(inputs *in, int64_t n, int64_t ny, int64_t past) {
  int64_t xs_[2] = {n, 4}, ys_[2] = {ny, 4}, ps_[4] = {1, 2, past, 3};
  memcpy(in->xshape, xs_, sizeof xs_);
  memcpy(in->yshape, ys_, sizeof ys_);
  memcpy(in->pshape, ps_, sizeof ps_);
  in->t[0] = (qopt_tensor){"x", QOPT_DTYPE_FLOAT, 2, in->xshape, xs};
  in->t[1] = (qopt_tensor){"y", QOPT_DTYPE_FLOAT, 2, in->yshape, ys};
  in->t[2] = (qopt_tensor){"past", QOPT_DTYPE_FLOAT, 4, in->pshape,
                           past ? ps : NULL};
}

static qopt_status run(const qopt_model *m, inputs *in, qopt_output *out) {
  memset(out, 0, 4 * sizeof *out);
  return qopt_run_dynamic(NULL, m, in->t, 3, out, 4);
}

static void release(qopt_output *out) {
  for (int k = 0; k < 4; ++k)
    if (out[k].owned) qopt_free(out[k].data);
}

int main(void) {
  for (int i = 0; i < 64 * 4 + 4; ++i) xs[i] = (float)i, ys[i] = 100.0f;
  for (int i = 0; i < 30; ++i) ps[i] = (float)i;
  qopt_model *m;
  if (qopt_model_load(NULL, &m) != QOPT_OK) {
    printf("load: %s\n", qopt_last_error());
    return 1;
  }
  /* Info. */
  qopt_tensor_info info;
  CHECK(qopt_model_is_dynamic(m) == 1);
  CHECK(qopt_model_input_info(m, 2, &info) == QOPT_OK);
  CHECK(info.rank == 4 && info.shape[2] == -1 && info.shape[3] == 3 &&
        info.num_bytes == 0);
  CHECK(!strcmp(qopt_model_input_dim_name(m, 2, 2), "past_len"));
  CHECK(!strcmp(qopt_model_input_dim_name(m, 2, 1), ""));
  CHECK(qopt_model_input_dim_name(m, 2, 4) == NULL);
  CHECK(qopt_model_output_info(m, 2, &info) == QOPT_OK);
  CHECK(info.rank == 1 && info.shape[0] == 512 && info.num_bytes == 2048);
  CHECK(qopt_model_num_dims(m) == 2);
  const char *dn;
  int64_t dmax;
  CHECK(qopt_model_dim(m, 0, &dn, &dmax) == QOPT_OK && !strcmp(dn, "n") &&
        dmax == 64);
  CHECK(qopt_model_dim(m, 1, &dn, &dmax) == QOPT_OK &&
        !strcmp(dn, "past_len") && dmax == 0);
  printf("info ok\n");

  /* Two sizes from one model, outputs allocated by the runtime. */
  inputs in;
  qopt_output out[4];
  for (int64_t n = 1; n <= 64; n += 63) {
    make(&in, n, n, 2);
    CHECK(run(m, &in, out) == QOPT_OK);
    CHECK(out[0].rank == 2 && out[0].shape[0] == n && out[0].shape[1] == 4);
    CHECK(out[0].owned && out[0].num_bytes == (size_t)n * 16);
    float *s = out[0].data, *xo = out[1].data, *w = out[2].data,
          *sc = out[3].data;
    CHECK(s[0] == 100.0f && s[n * 4 - 1] == (float)(n * 4 - 1) + 100.0f);
    CHECK(xo != xs && xo[n * 4 - 1] == (float)(n * 4 - 1));
    CHECK(out[2].shape[0] == 512 && w[511] == 0.5f);
    CHECK(out[3].shape[2] == 2 && sc[11] == 5.5f);
    release(out);
  }
  printf("run_dynamic sizes 1 and 64 ok\n");

  /* Zero-size past: a zero-byte output keeps the given data (NULL). */
  make(&in, 3, 3, 0);
  CHECK(run(m, &in, out) == QOPT_OK);
  CHECK(out[3].rank == 4 && out[3].shape[2] == 0 && out[3].num_bytes == 0 &&
        !out[3].owned);
  release(out);
  printf("zero-size ok\n");

  /* Caller buffers: used when large enough, else replaced by the runtime's. */
  static float big[1024], small[2];
  make(&in, 3, 3, 1);
  memset(out, 0, sizeof out);
  out[0] = (qopt_output){"sum", big, sizeof big};
  out[1] = (qopt_output){"x_out", small, sizeof small};
  out[2].name = "w";
  out[3].name = "scaled";
  CHECK(qopt_run_dynamic(NULL, m, in.t, 3, out, 4) == QOPT_OK);
  CHECK(out[0].data == big && !out[0].owned && big[11] == 111.0f);
  CHECK(out[1].data != small && out[1].owned &&
        ((float *)out[1].data)[11] == 11.0f);
  release(out);
  printf("caller buffers ok\n");

  /* qopt_run: outputs must have the computed shapes; nothing written when
   * one does not. */
  int64_t s34[2] = {3, 4}, s24[2] = {2, 4}, s512[1] = {512},
          sp[4] = {1, 2, 1, 3};
  static float o0[12], o1[12], o2[512], o3[6];
  qopt_tensor touts[4] = {{NULL, 1, 2, s34, o0}, {NULL, 1, 2, s34, o1},
                          {NULL, 1, 1, s512, o2}, {NULL, 1, 4, sp, o3}};
  CHECK(qopt_run(m, in.t, 3, touts, 4) == QOPT_OK);
  CHECK(o0[11] == 111.0f && o1[11] == 11.0f && o2[0] == 0.5f);
  memset(o0, 0, sizeof o0);
  touts[1].shape = s24;
  qopt_status st = qopt_run(m, in.t, 3, touts, 4);
  printf("qopt_run mismatch: %d %s\n", (int)st, qopt_last_error());
  CHECK(st == QOPT_ERROR_SHAPE_MISMATCH && o0[11] == 0.0f);

  /* Input shape errors. */
  make(&in, 3, 4, 1);
  printf("named dims: %d %s\n", (int)run(m, &in, out), qopt_last_error());
  make(&in, 65, 65, 1);
  printf("over max: %d %s\n", (int)run(m, &in, out), qopt_last_error());
  make(&in, 3, 3, 1);
  in.xshape[1] = 5;
  printf("static dim: %d %s\n", (int)run(m, &in, out), qopt_last_error());
  make(&in, 3, 3, 1);
  in.t[2].rank = 3;
  printf("rank: %d %s\n", (int)run(m, &in, out), qopt_last_error());
  make(&in, 3, 3, 1);
  in.pshape[2] = -2;
  printf("negative: %d %s\n", (int)run(m, &in, out), qopt_last_error());
  make(&in, 3, 3, 1);
  in.t[1].data = NULL;
  printf("null data: %d %s\n", (int)run(m, &in, out), qopt_last_error());
  qopt_model_free(m);
  printf(failures ? "FAILURES %d\n" : "OK\n", failures);
  return failures != 0;
}
