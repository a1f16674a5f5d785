/* tinynas int8 runtime: TN_OP_GLOBAL_AVGPOOL: {C, H, W} ->
 * {C, 1, 1}, out[c] = round(sum (x - zp) / (H * W)) + zp, ties away from
 * zero, clamped to act_min..act_max. Keeps the input's scale and zero
 * point; H * W at most TN_MAX_POOL_CELLS. Not in place. */
#ifndef TINYNAS_KERNELS_GLOBAL_AVGPOOL_H_
#define TINYNAS_KERNELS_GLOBAL_AVGPOOL_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_global_avgpool_check(const tn_model *model, const tn_layer *layer);
void tn_global_avgpool_run(const tn_model *model, const tn_layer *layer,
                            int8_t *arena);

#endif /* TINYNAS_KERNELS_GLOBAL_AVGPOOL_H_ */
