/* tinynas int8 runtime: TN_OP_CLAMP, a RELU/RELU6 no weighted op absorbed:
 * out = clamp(in, act_min, act_max), same shape and quantisation. In place
 * (the usual case) or into a disjoint buffer. */
#ifndef TINYNAS_KERNELS_CLAMP_H_
#define TINYNAS_KERNELS_CLAMP_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_clamp_check(const tn_model *model, const tn_layer *layer);
void tn_clamp_run(const tn_model *model, const tn_layer *layer, int8_t *arena);

#endif /* TINYNAS_KERNELS_CLAMP_H_ */
