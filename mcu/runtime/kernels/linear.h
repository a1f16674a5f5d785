/* tinynas int8 runtime: TN_OP_LINEAR, a fully connected layer: the
 * in_c * in_h * in_w inputs in memory order (LibTorch's flatten) -> out_c
 * outputs (out_h == out_w == 1), weights [out][in]; requantised as
 * TN_OP_CONV. Not in place. */
#ifndef TINYNAS_KERNELS_LINEAR_H_
#define TINYNAS_KERNELS_LINEAR_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_linear_check(const tn_model *model, const tn_layer *layer);
void tn_linear_run(const tn_model *model, const tn_layer *layer, int8_t *arena);

#endif /* TINYNAS_KERNELS_LINEAR_H_ */
