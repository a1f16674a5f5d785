/* tinynas int8 runtime: TN_OP_CLAMP (see clamp.h). */
#include "clamp.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"

int tn_clamp_check(const tn_model *model, const tn_layer *layer) {
  const tn_layer *l = layer;
  (void)model;
  if (l->out_c != l->in_c || l->out_h != l->in_h || l->out_w != l->in_w ||
      l->out_zero_point != l->in_zero_point) {
    return TN_ERROR_BAD_LAYER;
  }
  return TN_OK;
}

void tn_clamp_run(const tn_model *model, const tn_layer *layer,
                  int8_t *arena) {
  const tn_layer *l = layer;
  const int32_t n = l->in_c * l->in_h * l->in_w;
  const int8_t *in = arena + l->in_offset;
  int8_t *out = arena + l->out_offset;
  int32_t i;
  (void)model;
  for (i = 0; i < n; ++i) {
    out[i] = (int8_t)tn_clamp32(in[i], l->act_min, l->act_max);
  }
}
