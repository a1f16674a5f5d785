/*
 * tinynas int8 runtime: checks shared by several operations' check
 * functions. Static inline, portable C99.
 */
#ifndef TINYNAS_CHECK_H_
#define TINYNAS_CHECK_H_

#include <stddef.h>
#include <stdint.h>

#include "tinynas_runtime.h"
#include "tinynas_window.h"

static inline int tn_in_place(const tn_layer *l) {
  return l->in_offset == l->out_offset;
}

/* A weighted op's constants: the arrays exist, and weights_offset + weights
 * and channel_offset + out_c fit in int32 (so no index overflows). The
 * arrays' lengths are not in tn_model: the C++ side (BuildTables) and the
 * code generator check them. */
static inline int tn_check_weighted(const tn_model *m, const tn_layer *l,
                                    int32_t weights) {
  if (m->weights == NULL || m->biases == NULL || m->multipliers == NULL ||
      m->shifts == NULL) {
    return TN_ERROR_BAD_LAYER;
  }
  if (weights < 1 || l->weights_offset < 0 || l->channel_offset < 0) {
    return TN_ERROR_BAD_LAYER;
  }
  if ((int64_t)l->weights_offset + weights > INT32_MAX ||
      (int64_t)l->channel_offset + l->out_c > INT32_MAX) {
    return TN_ERROR_BAD_LAYER;
  }
  return TN_OK;
}

/* A pooling window: no in place, the input's zero point kept, the output
 * shape of the window, and padding at most half the kernel (LibTorch's
 * rule; it makes every window hold at least one input cell). */
static inline int tn_check_pool(const tn_layer *l) {
  if (tn_in_place(l) || l->out_c != l->in_c ||
      l->out_zero_point != l->in_zero_point || !tn_layer_window_ok(l)) {
    return TN_ERROR_BAD_LAYER;
  }
  if (l->pad_h > l->kernel_h / 2 || l->pad_w > l->kernel_w / 2) {
    return TN_ERROR_BAD_LAYER;
  }
  return TN_OK;
}

#endif /* TINYNAS_CHECK_H_ */
