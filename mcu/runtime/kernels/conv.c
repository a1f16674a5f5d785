/* tinynas int8 runtime: TN_OP_CONV (see conv.h). */
#include "conv.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"
#include "../tinynas_window.h"

int tn_conv_check(const tn_model *model, const tn_layer *layer) {
  int32_t weights;
  if (tn_in_place(layer) || !tn_layer_window_ok(layer)) {
    return TN_ERROR_BAD_LAYER;
  }
  weights = tn_checked_mul(layer->out_c, layer->in_c);
  weights = tn_checked_mul(weights, layer->kernel_h);
  weights = tn_checked_mul(weights, layer->kernel_w);
  return tn_check_weighted(model, layer, weights);
}

/* Output row oy, columns [c0, c1), of the output channel whose weights
 * start at `w`: the accumulators with the bias, then every input channel's
 * rows under the kernel. */
static void conv_tile(const tn_layer *l, const int8_t *in, const int8_t *w,
                      int32_t oy, int32_t c0, int32_t c1, uint32_t *acc) {
  int32_t ky0, ky1, iy, ic, ky;
  tn_window_range(oy, l->stride_h, l->pad_h, l->kernel_h, l->in_h, &ky0,
                  &ky1, &iy);
  for (ic = 0; ic < l->in_c; ++ic) {
    const int8_t *plane = in + ic * l->in_h * l->in_w;
    const int8_t *kernel = w + ic * l->kernel_h * l->kernel_w;
    for (ky = ky0; ky < ky1; ++ky) {
      tn_window_accumulate(acc, c0, c1, plane + (iy + ky - ky0) * l->in_w,
                           kernel + ky * l->kernel_w, l);
    }
  }
}

static void conv_channel(const tn_model *model, const tn_layer *l,
                         const int8_t *in, int8_t *out, int32_t c) {
  const int32_t ch = l->channel_offset + c;
  const int8_t *w = model->weights + l->weights_offset +
                    c * l->in_c * l->kernel_h * l->kernel_w;
  const uint32_t bias = (uint32_t)model->biases[ch];
  uint32_t acc[TN_ACC_TILE];
  int32_t oy, c0, j;
  for (oy = 0; oy < l->out_h; ++oy) {
    for (c0 = 0; c0 < l->out_w; c0 += TN_ACC_TILE) {
      const int32_t c1 =
          l->out_w - c0 < TN_ACC_TILE ? l->out_w : c0 + TN_ACC_TILE;
      int8_t *row = out + (c * l->out_h + oy) * l->out_w;
      for (j = 0; j < c1 - c0; ++j) acc[j] = bias;
      conv_tile(l, in, w, oy, c0, c1, acc);
      for (j = 0; j < c1 - c0; ++j) {
        row[c0 + j] = tn_requantize(acc[j], model->multipliers[ch],
                                    model->shifts[ch], l->out_zero_point,
                                    l->act_min, l->act_max);
      }
    }
  }
}

void tn_conv_run(const tn_model *model, const tn_layer *layer,
                 int8_t *arena) {
  tn_layer flat = *layer;
  int32_t c;
  tn_flatten_unit_window(&flat); /* pointwise / lone BatchNorm */
  for (c = 0; c < flat.out_c; ++c) {
    conv_channel(model, &flat, arena + flat.in_offset,
                 arena + flat.out_offset, c);
  }
}
