/* tinynas int8 runtime: TN_OP_DEPTHWISE, a depthwise convolution
 * (DEPTHWISE_CONV1D/2D; a lone BATCHNORM as kernel 1). As TN_OP_CONV, but
 * output channel c sees input channel c only: weights [C][kh][kw],
 * in_c == out_c. In place (in_offset == out_offset) only with kernel 1,
 * stride 1 and no padding. */
#ifndef TINYNAS_KERNELS_DEPTHWISE_H_
#define TINYNAS_KERNELS_DEPTHWISE_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_depthwise_check(const tn_model *model, const tn_layer *layer);
void tn_depthwise_run(const tn_model *model, const tn_layer *layer,
                       int8_t *arena);

#endif /* TINYNAS_KERNELS_DEPTHWISE_H_ */
