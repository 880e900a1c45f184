/*===- npy_main.c - a standalone executable around an --emit=obj model ----===*
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * For targets whose code cannot be loaded by qopt-run (cross targets such as
 * --target=neon on x86): link this file, runtime/lib/Runtime.c and the
 * model's `qopt-compile --emit=obj -o OUT.o` object into one executable,
 * e.g. for aarch64 under qemu-aarch64 (scripts/aarch64-link.sh):
 *
 *   ./model [-w OUT.weights] DIR name=in.npy ...
 *                                 writes DIR/<output name>.npy
 *
 * A model with dynamic dims takes inputs of any size it accepts and writes
 * its outputs with the shapes it computed.
 *
 * -w names the weights file qopt-compile wrote next to OUT.o (without it,
 * every weight must be embedded: --weight-threshold=1000000000).
 *
 * Only what the models' ABI needs: little-endian C-order .npy (v1/v2) of
 * f4, i1, u1, i4, i8, b1.
 *===----------------------------------------------------------------------===*/
#include "qopt/qopt_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const char *what, const char *arg) {
  fprintf(stderr, "error: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
  return 1;
}

static const char *descr_of(int32_t dt) {
  switch (dt) {
  case QOPT_DTYPE_FLOAT: return "<f4";
  case QOPT_DTYPE_UINT8: return "|u1";
  case QOPT_DTYPE_INT8: return "|i1";
  case QOPT_DTYPE_INT32: return "<i4";
  case QOPT_DTYPE_INT64: return "<i8";
  case QOPT_DTYPE_BOOL: return "|b1";
  default: return NULL;
  }
}

/* Reads an .npy file whose dtype must be `dt`; shape into t. */
static int read_npy(const char *path, int32_t dt, qopt_tensor *t,
                    int64_t *shape) {
  FILE *f = fopen(path, "rb");
  if (!f) return die("cannot open", path);
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6))
    return fclose(f), die("not an .npy file", path);
  size_t hl = pre[8] | pre[9] << 8;
  if (pre[6] >= 2) { /* v2: 4-byte header length */
    unsigned char b[2];
    if (fread(b, 1, 2, f) != 2) return fclose(f), die("truncated", path);
    hl |= (size_t)b[0] << 16 | (size_t)b[1] << 24;
  }
  char *h = calloc(1, hl + 1);
  if (!h || fread(h, 1, hl, f) != hl) return fclose(f), die("truncated", path);
  const char *want = descr_of(dt), *d = strstr(h, "'descr': '");
  if (!want || !d || strncmp(d + 10, want, 3) || strstr(h, "'fortran_order': True"))
    return fclose(f), die("unsupported dtype/order (want C-order of the model's dtype)", path);
  const char *s = strstr(h, "'shape': (");
  if (!s) return fclose(f), die("no shape", path);
  s += 10;
  size_t n = 1;
  int r = 0;
  while (*s && *s != ')') {
    char *e;
    long long v = strtoll(s, &e, 10);
    if (e == s) break;
    shape[r++] = v;
    n *= (size_t)v;
    s = e;
    while (*s == ',' || *s == ' ') s++;
  }
  free(h);
  size_t bytes = n * qopt_dtype_size(dt);
  void *data = malloc(bytes ? bytes : 1);
  if (!data || fread(data, 1, bytes, f) != bytes)
    return fclose(f), die("truncated data", path);
  fclose(f);
  t->dtype = dt;
  t->rank = r;
  t->shape = shape;
  t->data = data;
  return 0;
}

static int write_npy(const char *path, const qopt_tensor *t) {
  char h[256];
  int p = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                   descr_of(t->dtype));
  size_t n = 1;
  for (int i = 0; i < t->rank; ++i) {
    p += snprintf(h + p, sizeof h - p, "%lld,", (long long)t->shape[i]);
    n *= (size_t)t->shape[i];
  }
  p += snprintf(h + p, sizeof h - p, "), }");
  while ((10 + p + 1) % 64) h[p++] = ' ';
  h[p++] = '\n';
  FILE *f = fopen(path, "wb");
  if (!f) return die("cannot write", path);
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(p & 0xff), (unsigned char)(p >> 8)};
  fwrite(pre, 1, 10, f);
  fwrite(h, 1, p, f);
  fwrite(t->data, 1, n * qopt_dtype_size(t->dtype), f);
  return fclose(f) ? die("cannot write", path) : 0;
}

int main(int argc, char **argv) {
  const char *weights = "/dev/null"; /* all embedded */
  if (argc > 2 && !strcmp(argv[1], "-w")) {
    weights = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc < 2)
    return die("usage: model [-w OUT.weights] OUTDIR name=in.npy ...", NULL);
  qopt_model *m;
  if (qopt_model_load(weights, &m) != QOPT_OK)
    return die(qopt_last_error(), weights);
  size_t ni = qopt_model_num_inputs(m), no = qopt_model_num_outputs(m);
  qopt_tensor *in = calloc(ni + 1, sizeof *in), *out = calloc(no + 1, sizeof *out);
  int64_t (*shapes)[16] = calloc(ni + no + 1, sizeof *shapes);
  for (size_t i = 0; i < ni; ++i) {
    qopt_tensor_info ti;
    qopt_model_input_info(m, i, &ti);
    const char *name = ti.name;
    int32_t dt = ti.dtype;
    size_t nl = strlen(name);
    int found = 0;
    for (int a = 2; a < argc && !found; ++a)
      if (!strncmp(argv[a], name, nl) && argv[a][nl] == '=') {
        in[i].name = name;
        if (read_npy(argv[a] + nl + 1, dt, &in[i], shapes[i])) return 1;
        found = 1;
      }
    if (!found) return die("missing input", name);
  }
  if (qopt_model_is_dynamic(m)) {
    /* Run-time output shapes; the runtime allocates the outputs. */
    qopt_output *dout = calloc(no + 1, sizeof *dout);
    if (qopt_run_dynamic(NULL, m, in, ni, dout, no) != QOPT_OK)
      return die(qopt_last_error(), NULL);
    for (size_t i = 0; i < no; ++i) {
      qopt_tensor_info ti;
      qopt_model_output_info(m, i, &ti);
      out[i] = (qopt_tensor){ti.name, dout[i].dtype, dout[i].rank,
                             dout[i].shape, dout[i].data};
    }
  } else {
    for (size_t i = 0; i < no; ++i) {
      qopt_tensor_info ti;
      qopt_model_output_info(m, i, &ti);
      out[i] = (qopt_tensor){ti.name, ti.dtype, ti.rank, ti.shape,
                             calloc(ti.num_bytes ? ti.num_bytes : 1, 1)};
    }
    if (qopt_run(m, in, ni, out, no) != QOPT_OK)
      return die(qopt_last_error(), NULL);
  }
  for (size_t i = 0; i < no; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", argv[1], out[i].name);
    if (write_npy(path, &out[i])) return 1;
  }
  qopt_model_free(m);
  return 0;
}
