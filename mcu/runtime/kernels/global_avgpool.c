/* tinynas int8 runtime: TN_OP_GLOBAL_AVGPOOL (see global_avgpool.h). */
#include "global_avgpool.h"

#include "../tinynas_check.h"
#include "../tinynas_quant.h"

int tn_global_avgpool_check(const tn_model *model, const tn_layer *layer) {
  const tn_layer *l = layer;
  const int32_t cells = tn_checked_mul(l->in_h, l->in_w);
  (void)model;
  if (cells < 1 || cells > TN_MAX_POOL_CELLS) return TN_ERROR_BAD_LAYER;
  if (tn_in_place(l) || l->out_c != l->in_c || l->out_h != 1 ||
      l->out_w != 1 || l->out_zero_point != l->in_zero_point) {
    return TN_ERROR_BAD_LAYER;
  }
  return TN_OK;
}

void tn_global_avgpool_run(const tn_model *model, const tn_layer *layer,
                           int8_t *arena) {
  const tn_layer *l = layer;
  const int32_t plane = l->in_h * l->in_w;
  const int32_t zp = l->in_zero_point;
  int32_t c, i;
  (void)model;
  for (c = 0; c < l->in_c; ++c) {
    const int8_t *in = arena + l->in_offset + c * plane;
    int32_t sum = 0; /* |sum| <= 255 * plane: checked */
    for (i = 0; i < plane; ++i) sum += (int32_t)in[i] - zp;
    arena[l->out_offset + c] = (int8_t)tn_clamp32(
        tn_divide_round_away(sum, plane) + zp, l->act_min, l->act_max);
  }
}
