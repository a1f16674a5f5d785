/* tinynas int8 runtime: TN_OP_MAXPOOL: the maximum over the window's
 * cells inside the input (padded cells are skipped), clamped to
 * act_min..act_max. Keeps the input's scale and zero point; padding at most
 * half the kernel. Not in place. */
#ifndef TINYNAS_KERNELS_MAXPOOL_H_
#define TINYNAS_KERNELS_MAXPOOL_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_maxpool_check(const tn_model *model, const tn_layer *layer);
void tn_maxpool_run(const tn_model *model, const tn_layer *layer,
                     int8_t *arena);

#endif /* TINYNAS_KERNELS_MAXPOOL_H_ */
