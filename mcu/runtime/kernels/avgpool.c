/* tinynas int8 runtime: TN_OP_AVGPOOL (see avgpool.h). */
#include "avgpool.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"
#include "../tinynas_window.h"

int tn_avgpool_check(const tn_model *model, const tn_layer *layer) {
  const int32_t cells = tn_checked_mul(layer->kernel_h, layer->kernel_w);
  (void)model;
  if (cells < 1 || cells > TN_MAX_POOL_CELLS) return TN_ERROR_BAD_LAYER;
  return tn_check_pool(layer);
}

/* sum of (x - zero_point) over a rows x cols block, rows in_w apart; the
 * check keeps rows * cols * 255 within int32. */
static int32_t block_sum(const int8_t *in, int32_t in_w, int32_t rows,
                         int32_t cols, int32_t zero_point) {
  int32_t sum = 0;
  int32_t r, c;
  for (r = 0; r < rows; ++r) {
    for (c = 0; c < cols; ++c) sum += (int32_t)in[r * in_w + c] - zero_point;
  }
  return sum;
}

void tn_avgpool_run(const tn_model *model, const tn_layer *layer,
                    int8_t *arena) {
  const tn_layer *l = layer;
  /* count_include_pad: the divisor is the whole window. */
  const int32_t count = l->kernel_h * l->kernel_w;
  const int32_t zp = l->in_zero_point;
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
        int32_t sum;
        tn_window_range(ox, l->stride_w, l->pad_w, l->kernel_w, l->in_w,
                        &kx0, &kx1, &ix);
        sum = block_sum(in + iy * l->in_w + ix, l->in_w, ky1 - ky0,
                        kx1 - kx0, zp);
        out[oy * l->out_w + ox] = (int8_t)tn_clamp32(
            tn_divide_round_away(sum, count) + zp, l->act_min, l->act_max);
      }
    }
  }
}
