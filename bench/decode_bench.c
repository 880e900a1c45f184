// Prefill / decode speed of a compiled KV decoder through the runtime's
// qopt_decoder (in-place caches), from C (no host-language overhead per
// step), measured as bench/ort_generate.js --bench measures ONNX Runtime:
//   prefill: one step with P prompt tokens (past 0), median over reps;
//   decode:  prefill C tokens (untimed), then N single-token steps timed
//            together, median over reps.
//   ONE_PREFILL=1 (for large models, whose prefill of C tokens takes long):
//            per context one prefill of C tokens, then reps + 1 runs of N
//            steps back to back (the first a warm-up), so run r starts at
//            context C + r * N; median over the reps.
// Prints JSON lines like bench/qopt_generate_bench.py.
//   clang-22 -O2 bench/decode_bench.c -ldl -o decode_bench
//   ./decode_bench MODEL.so [THREADS=1] [REPS=5] [PREFILL=128] [CONTEXTS=128,1024] [N=64] [ONE_PREFILL=0]
// DECODE_BENCH_CPU_TIME=1 times with the process's CPU time instead of the
// wall clock: with THREADS=1 on a shared, loaded machine it leaves out the
// time the process waited for a core (not for more threads: it sums them).
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*load_fn)(const char *, void **);
typedef int (*create_fn)(void *, int64_t, void **);
typedef int (*step_fn)(void *, void *, const int64_t *, int64_t, float *, int);
typedef void (*reset_fn)(void *);
typedef int64_t (*vocab_fn)(void *);
typedef void (*threads_fn)(int);
typedef const char *(*error_fn)(void);

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec t;
  clock_gettime(clock_id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *cpu = getenv("DECODE_BENCH_CPU_TIME");
  if (cpu && *cpu == '1') clock_id = CLOCK_PROCESS_CPUTIME_ID;
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.so [THREADS] [REPS] [PREFILL] [CONTEXTS] [N]\n", argv[0]);
    return 2;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 1, reps = argc > 3 ? atoi(argv[3]) : 5;
  int prefill = argc > 4 ? atoi(argv[4]) : 128, n = argc > 6 ? atoi(argv[6]) : 64;
  int one_prefill = argc > 7 ? atoi(argv[7]) : 0;
  const char *ctxs = argc > 5 ? argv[5] : "128,1024";
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  load_fn load = (load_fn)dlsym(h, "qopt_model_load");
  create_fn create = (create_fn)dlsym(h, "qopt_decoder_create");
  step_fn step = (step_fn)dlsym(h, "qopt_decoder_step");
  reset_fn reset = (reset_fn)dlsym(h, "qopt_decoder_reset");
  vocab_fn vocab = (vocab_fn)dlsym(h, "qopt_decoder_vocab");
  threads_fn set_threads = (threads_fn)dlsym(h, "qopt_set_num_threads");
  error_fn err = (error_fn)dlsym(h, "qopt_last_error");
  if (!load || !create || !step || !reset || !vocab || !set_threads || !err) {
    fprintf(stderr, "%s: not a qopt model with the decoder API\n", argv[1]);
    return 1;
  }
  set_threads(threads);
  int cmax = prefill;
  for (const char *c = ctxs; *c; c = strchr(c, ',') ? strchr(c, ',') + 1 : "")
    if (atoi(c) > cmax) cmax = atoi(c);
  void *m, *d;
  int64_t len = cmax + (one_prefill ? (int64_t)(reps + 1) * n : n);
  if (load(NULL, &m) || create(m, len, &d)) { fprintf(stderr, "%s\n", err()); return 1; }
  int64_t V = vocab(d);
  int64_t *ids = malloc(len * sizeof *ids);
  float *logits = malloc(V * sizeof *logits);
  double *t = malloc((reps + 1) * sizeof *t);
  for (int64_t i = 0; i < len; ++i) ids[i] = (32 + (i * 7919) % 95) % V;
  const char *base = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
  for (int r = 0; r <= reps; ++r) { // r = 0: warm-up
    reset(d);
    double t0 = now();
    if (step(NULL, d, ids, prefill, logits, 0)) { fprintf(stderr, "%s\n", err()); return 1; }
    t[r] = now() - t0;
  }
  qsort(t + 1, reps, sizeof *t, cmp);
  printf("{\"bench\": \"prefill\", \"model\": \"%s\", \"threads\": %d, \"tokens\": %d, "
         "\"reps\": %d, \"median_ms\": %.4f, \"tok_s\": %.1f}\n",
         base, threads, prefill, reps, t[1 + reps / 2] * 1e3, prefill / t[1 + reps / 2]);
  for (const char *c = ctxs; *c; c = strchr(c, ',') ? strchr(c, ',') + 1 : "") {
    int ctx = atoi(c);
    if (one_prefill) {
      reset(d);
      if (step(NULL, d, ids, ctx, logits, 0)) { fprintf(stderr, "%s\n", err()); return 1; }
    }
    for (int r = 0; r <= reps; ++r) {
      int64_t at = ctx;
      if (one_prefill) {
        at = ctx + (int64_t)r * n;
      } else {
        reset(d);
        step(NULL, d, ids, ctx, logits, 0);
      }
      double t0 = now();
      for (int k = 0; k < n; ++k)
        if (step(NULL, d, ids + at + k, 1, logits, 0)) { fprintf(stderr, "%s\n", err()); return 1; }
      t[r] = now() - t0;
    }
    qsort(t + 1, reps, sizeof *t, cmp);
    double med = t[1 + reps / 2];
    printf("{\"bench\": \"decode\", \"model\": \"%s\", \"threads\": %d, \"context\": %d, "
           "\"tokens\": %d, \"reps\": %d, \"median_ms\": %.4f, \"ms_per_token\": %.4f, "
           "\"tok_s\": %.1f}\n", base, threads, ctx, n, reps, med * 1e3, med * 1e3 / n, n / med);
  }
  return 0;
}
