/* tinynas int8 runtime: TN_OP_DEPTHWISE (see depthwise.h). */
#include "depthwise.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"
#include "../tinynas_window.h"

int tn_depthwise_check(const tn_model *model, const tn_layer *layer) {
  const tn_layer *l = layer;
  if (l->out_c != l->in_c || !tn_layer_window_ok(l)) {
    return TN_ERROR_BAD_LAYER;
  }
  /* In place, output cell i reads input cell i only, before writing it. */
  if (tn_in_place(l) &&
      (l->kernel_h != 1 || l->kernel_w != 1 || l->stride_h != 1 ||
       l->stride_w != 1 || l->pad_h != 0 || l->pad_w != 0)) {
    return TN_ERROR_BAD_LAYER;
  }
  return tn_check_weighted(
      model, l,
      tn_checked_mul(tn_checked_mul(l->out_c, l->kernel_h), l->kernel_w));
}

/* Channel c: the accumulators of a tile of columns are filled from the
 * input before any output of the tile is written, so in place (kernel 1)
 * reads every cell before it is overwritten. */
static void depthwise_channel(const tn_model *model, const tn_layer *l,
                              int8_t *arena, int32_t c) {
  const int32_t ch = l->channel_offset + c;
  const int8_t *in = arena + l->in_offset + c * l->in_h * l->in_w;
  int8_t *out = arena + l->out_offset + c * l->out_h * l->out_w;
  const int8_t *w =
      model->weights + l->weights_offset + c * l->kernel_h * l->kernel_w;
  uint32_t acc[TN_ACC_TILE];
  int32_t oy, c0, j, ky0, ky1, iy, ky;
  for (oy = 0; oy < l->out_h; ++oy) {
    tn_window_range(oy, l->stride_h, l->pad_h, l->kernel_h, l->in_h, &ky0,
                    &ky1, &iy);
    for (c0 = 0; c0 < l->out_w; c0 += TN_ACC_TILE) {
      const int32_t c1 =
          l->out_w - c0 < TN_ACC_TILE ? l->out_w : c0 + TN_ACC_TILE;
      for (j = 0; j < c1 - c0; ++j) acc[j] = (uint32_t)model->biases[ch];
      for (ky = ky0; ky < ky1; ++ky) {
        tn_window_accumulate(acc, c0, c1, in + (iy + ky - ky0) * l->in_w,
                             w + ky * l->kernel_w, l);
      }
      for (j = 0; j < c1 - c0; ++j) {
        out[oy * l->out_w + c0 + j] = tn_requantize(
            acc[j], model->multipliers[ch], model->shifts[ch],
            l->out_zero_point, l->act_min, l->act_max);
      }
    }
  }
}

void tn_depthwise_run(const tn_model *model, const tn_layer *layer,
                      int8_t *arena) {
  tn_layer flat = *layer;
  int32_t c;
  tn_flatten_unit_window(&flat); /* pointwise / lone BatchNorm */
  for (c = 0; c < flat.out_c; ++c) depthwise_channel(model, &flat, arena, c);
}
