// Machine limits for bench/kernels.sh, per thread count (OpenMP):
//   vpdpbusd zmm peak (int8 GOP/s, 1 vpdpbusd = 64 MACs = 128 ops),
//   FMA zmm peak (f32 GFLOP/s, 1 vfmadd = 16 FMAs = 32 flops),
//   DRAM read bandwidth (GB/s, 512 MiB buffer, AVX-512 loads, best of 5,
//   wall time). The compute peaks are the best of 300 short (~0.2 ms)
//   trials: on a shared machine some trials run uncontended.
// Prints one line: vnni_gops=.. fma_gflops=.. dram_gbs=..
//   clang-22 -O2 -march=native -fopenmp bench/peak.c -o peak && ./peak THREADS
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}


#define CHAINS 12 // independent accumulators: > latency x throughput
static volatile int sink;

static double vnni(long iters) {
  double t0 = now();
#pragma omp parallel
  {
    __m512i acc[CHAINS];
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
    for (int c = 0; c < CHAINS; ++c) acc[c] = _mm512_set1_epi32(c);
    for (long i = 0; i < iters; ++i)
      for (int c = 0; c < CHAINS; ++c)
        acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
    int s = 0;
    for (int c = 0; c < CHAINS; ++c) s += _mm512_reduce_add_epi32(acc[c]);
    sink = s;
  }
  double dt = now() - t0;
  return (double)iters * CHAINS * 128 * omp_get_max_threads() / dt / 1e9;
}

static double fma(long iters) {
  double t0 = now();
#pragma omp parallel
  {
    __m512 acc[CHAINS];
    __m512 a = _mm512_set1_ps(1.0000001f), b = _mm512_set1_ps(0.999999f);
    for (int c = 0; c < CHAINS; ++c) acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < iters; ++i)
      for (int c = 0; c < CHAINS; ++c)
        acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    float s = 0;
    for (int c = 0; c < CHAINS; ++c) s += _mm512_reduce_add_ps(acc[c]);
    sink = (int)s;
  }
  double dt = now() - t0;
  return (double)iters * CHAINS * 32 * omp_get_max_threads() / dt / 1e9;
}

static double dram(char *buf, size_t n) {
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now();
    long total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; i += 256) {
      __m512i x = _mm512_load_si512(buf + i);
      __m512i y = _mm512_load_si512(buf + i + 64);
      __m512i z = _mm512_load_si512(buf + i + 128);
      __m512i w = _mm512_load_si512(buf + i + 192);
      x = _mm512_add_epi32(_mm512_add_epi32(x, y), _mm512_add_epi32(z, w));
      total += _mm512_reduce_add_epi32(x);
    }
    double dt = now() - t0;
    sink = (int)total;
    double gbs = n / dt / 1e9;
    if (gbs > best) best = gbs;
  }
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  omp_set_num_threads(threads);
  size_t n = (size_t)512 << 20;
  char *buf = aligned_alloc(64, n);
  memset(buf, 1, n);
  vnni(1000000); // warm up (clocks, frequency licence)
  double v = 0, f = 0;
  for (int r = 0; r < 300; ++r) {
    double x = vnni(50000), y = fma(50000);
    if (x > v) v = x;
    if (y > f) f = y;
  }
  printf("vnni_gops=%.1f fma_gflops=%.1f dram_gbs=%.1f\n", v, f, dram(buf, n));
  free(buf);
  return 0;
}
