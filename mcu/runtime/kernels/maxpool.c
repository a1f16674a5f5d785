/* tinynas int8 runtime: TN_OP_MAXPOOL (see maxpool.h). */
#include "maxpool.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"
#include "../tinynas_window.h"

int tn_maxpool_check(const tn_model *model, const tn_layer *layer) {
  (void)model;
  return tn_check_pool(layer);
}

/* The largest cell of a rows x cols block whose rows are in_w apart. */
static int32_t block_max(const int8_t *in, int32_t in_w, int32_t rows,
                         int32_t cols) {
  int32_t best = -128;
  int32_t r, c;
  for (r = 0; r < rows; ++r) {
    for (c = 0; c < cols; ++c) {
      const int32_t x = in[r * in_w + c];
      best = x > best ? x : best;
    }
  }
  return best;
}

void tn_maxpool_run(const tn_model *model, const tn_layer *layer,
                    int8_t *arena) {
  const tn_layer *l = layer;
  int32_t c, oy, ox;
  (void)model;
  for (c = 0; c < l->out_c; ++c) {
    const int8_t *in = arena + l->in_offset + c * l->in_h * l->in_w;
    int8_t *out = arena + l->out_offset + c * l->out_h * l->out_w;
    for (oy = 0; oy < l->out_h; ++oy) {
      int32_t ky0, ky1, iy;
      tn_window_range(oy, l->stride_h, l->pad_h, l->kernel_h, l->in_h, &ky0,
                      &ky1, &iy);
      for (ox = 0; ox < l->out_w; ++ox) {
        int32_t kx0, kx1, ix;
        tn_window_range(ox, l->stride_w, l->pad_w, l->kernel_w, l->in_w,
                        &kx0, &kx1, &ix);
        /* The check keeps padding <= kernel / 2: never an empty window. */
        out[oy * l->out_w + ox] = (int8_t)tn_clamp32(
            block_max(in + iy * l->in_w + ix, l->in_w, ky1 - ky0, kx1 - kx0),
            l->act_min, l->act_max);
      }
    }
  }
}
