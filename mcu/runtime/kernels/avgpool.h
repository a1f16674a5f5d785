/* tinynas int8 runtime: TN_OP_AVGPOOL, LibTorch's average pool with
 * count_include_pad=True: out = round(sum over the window's cells inside
 * the input of (x - zp) / (kernel_h * kernel_w)) + zp, ties away from zero
 * (padded cells count as a real zero), clamped to act_min..act_max. Keeps
 * the input's scale and zero point; padding at most half the kernel, and
 * at most TN_MAX_POOL_CELLS cells a window. Not in place. */
#ifndef TINYNAS_KERNELS_AVGPOOL_H_
#define TINYNAS_KERNELS_AVGPOOL_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_avgpool_check(const tn_model *model, const tn_layer *layer);
void tn_avgpool_run(const tn_model *model, const tn_layer *layer,
                     int8_t *arena);

#endif /* TINYNAS_KERNELS_AVGPOOL_H_ */
