/*
 * tinynas int8 runtime: helpers for sliding-window kernels (convolution,
 * depthwise convolution, pooling) and for the checks of their shapes.
 * Static inline, portable C99.
 */
#ifndef TINYNAS_WINDOW_H_
#define TINYNAS_WINDOW_H_

#include <stdint.h>

#include "tinynas_runtime.h"

/* The kernel cells [*k0, *k1) whose input index o * stride - pad + k lies
 * in [0, in); *first is the input index of cell *k0. The range is empty
 * (*k0 == *k1) when no cell does. The checks bound in + 2 * pad by
 * INT32_MAX, so nothing here overflows. */
static inline void tn_window_range(int32_t o, int32_t stride, int32_t pad,
                                   int32_t kernel, int32_t in, int32_t *k0,
                                   int32_t *k1, int32_t *first) {
  const int32_t start = o * stride - pad;
  int32_t lo = start < 0 ? -start : 0;
  int32_t hi = in - start;
  if (hi > kernel) hi = kernel;
  if (hi < lo) hi = lo;
  *k0 = lo;
  *k1 = hi;
  *first = start + lo;
}

/* Output columns computed together: the accumulators live on the stack
 * (TN_ACC_TILE * 4 bytes), no scratch buffer in the arena. */
#define TN_ACC_TILE 32

/* The outputs [*lo, *hi) of [0, out) whose kernel cell k reads an input
 * index o * stride - pad + k inside [0, in). The loops run about
 * pad / stride times. */
static inline void tn_output_span(int32_t k, int32_t stride, int32_t pad,
                                  int32_t in, int32_t out, int32_t *lo,
                                  int32_t *hi) {
  int32_t a = 0;
  int32_t b = out;
  while (a < b && a * stride - pad + k < 0) ++a;
  while (b > a && (b - 1) * stride - pad + k >= in) --b;
  *lo = a;
  *hi = b;
}

/* Adds one input row times one kernel row to the accumulators of output
 * columns [c0, c1) (acc[0] is column c0): for every kernel column kx, the
 * columns whose input cell is inside the row get (x - zero_point) * w.
 * The innermost loop is contiguous for stride 1, without branches. */
static inline void tn_window_accumulate(uint32_t *acc, int32_t c0,
                                        int32_t c1, const int8_t *in_row,
                                        const int8_t *w_row,
                                        const tn_layer *l) {
  const int32_t stride = l->stride_w;
  const int32_t zp = l->in_zero_point;
  int32_t kx, j;
  for (kx = 0; kx < l->kernel_w; ++kx) {
    int32_t lo, hi;
    const int8_t *restrict x;
    uint32_t *restrict a;
    int32_t w;
    tn_output_span(kx, stride, l->pad_w, l->in_w, l->out_w, &lo, &hi);
    if (lo < c0) lo = c0;
    if (hi > c1) hi = c1;
    if (lo >= hi) continue;
    x = in_row + (lo * stride - l->pad_w + kx);
    a = acc + (lo - c0);
    w = w_row[kx];
    if (stride == 1) {
      for (j = 0; j < hi - lo; ++j) a[j] += (uint32_t)((x[j] - zp) * w);
    } else {
      for (j = 0; j < hi - lo; ++j) {
        a[j] += (uint32_t)((x[j * stride] - zp) * w);
      }
    }
  }
}

/* a * b when both are positive and the product is at most INT32_MAX,
 * else -1. */
static inline int32_t tn_checked_mul(int32_t a, int32_t b) {
  int64_t p;
  if (a <= 0 || b <= 0) return -1;
  p = (int64_t)a * (int64_t)b;
  return p > INT32_MAX ? -1 : (int32_t)p;
}

/* Whether out == (in + 2 * pad - kernel) / stride + 1 (floor), with
 * kernel, stride >= 1, pad >= 0, a window that fits the padded input and
 * in + 2 * pad within int32. */
static inline int tn_window_shape_ok(int32_t in, int32_t kernel,
                                     int32_t stride, int32_t pad,
                                     int32_t out) {
  int64_t padded;
  if (kernel < 1 || stride < 1 || pad < 0 || in < 1 || out < 1) return 0;
  padded = (int64_t)in + 2 * (int64_t)pad;
  if (padded > INT32_MAX || padded < kernel) return 0;
  /* int32 division: a Cortex-M needs no 64-bit division routine. */
  return (int32_t)(padded - kernel) / stride + 1 == out;
}

/* Both dimensions of a layer's window. */
static inline int tn_layer_window_ok(const tn_layer *l) {
  return tn_window_shape_ok(l->in_h, l->kernel_h, l->stride_h, l->pad_h,
                            l->out_h) &&
         tn_window_shape_ok(l->in_w, l->kernel_w, l->stride_w, l->pad_w,
                            l->out_w);
}

/* A 1x1 window of stride 1 without padding sees each plane as one long
 * row: rewrites *l so that the kernels run longer contiguous inner loops. */
static inline void tn_flatten_unit_window(tn_layer *l) {
  if (l->kernel_h == 1 && l->kernel_w == 1 && l->stride_h == 1 &&
      l->stride_w == 1 && l->pad_h == 0 && l->pad_w == 0) {
    l->in_w = l->out_w = l->in_h * l->in_w;
    l->in_h = l->out_h = 1;
  }
}

#endif /* TINYNAS_WINDOW_H_ */
