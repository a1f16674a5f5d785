/* tinynas int8 runtime: TN_OP_LINEAR (see linear.h). */
#include "linear.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"
#include "../tinynas_window.h"

int tn_linear_check(const tn_model *model, const tn_layer *layer) {
  const tn_layer *l = layer;
  const int32_t inputs =
      tn_checked_mul(tn_checked_mul(l->in_c, l->in_h), l->in_w);
  if (tn_in_place(l) || l->out_h != 1 || l->out_w != 1) {
    return TN_ERROR_BAD_LAYER;
  }
  return tn_check_weighted(model, l, tn_checked_mul(l->out_c, inputs));
}

void tn_linear_run(const tn_model *model, const tn_layer *layer,
                   int8_t *arena) {
  const tn_layer *l = layer;
  const int8_t *in = arena + l->in_offset;
  int8_t *out = arena + l->out_offset;
  const int32_t n = l->in_c * l->in_h * l->in_w;
  const int32_t zero_point = l->in_zero_point;
  int32_t o, i;
  for (o = 0; o < l->out_c; ++o) {
    const int32_t ch = l->channel_offset + o;
    const int8_t *w = model->weights + l->weights_offset + o * n;
    uint32_t acc = (uint32_t)model->biases[ch];
    for (i = 0; i < n; ++i) {
      acc += (uint32_t)(((int32_t)in[i] - zero_point) * (int32_t)w[i]);
    }
    out[o] = tn_requantize(acc, model->multipliers[ch], model->shifts[ch],
                           l->out_zero_point, l->act_min, l->act_max);
  }
}
