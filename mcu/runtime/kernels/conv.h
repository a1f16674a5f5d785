/* tinynas int8 runtime: TN_OP_CONV, a convolution (CONV2D,
 * POINTWISE_CONV2D, CONV1D).
 * For each output channel c and position (oy, ox):
 *   acc = bias[ch] + sum over input channels ic and kernel cells (ky, kx)
 *         whose input cell (oy * stride_h - pad_h + ky,
 *         ox * stride_w - pad_w + kx) is inside the input (padding is zero
 *         in the real domain, so padded cells add nothing) of
 *         (x - in_zero_point) * w[c][ic][ky][kx]
 *   out = clamp(MBQM(acc, multipliers[ch], shifts[ch]) + out_zero_point,
 *               act_min, act_max)
 * with ch = channel_offset + c and weights from weights_offset. Not in
 * place. */
#ifndef TINYNAS_KERNELS_CONV_H_
#define TINYNAS_KERNELS_CONV_H_

#include <stdint.h>

#include "../tinynas_runtime.h"

int tn_conv_check(const tn_model *model, const tn_layer *layer);
void tn_conv_run(const tn_model *model, const tn_layer *layer, int8_t *arena);

#endif /* TINYNAS_KERNELS_CONV_H_ */
