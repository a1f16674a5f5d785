/* tinynas int8 runtime: the operation registry (see tinynas_ops.h). */
#include "tinynas_ops.h"

#include <stddef.h>

#include "kernels/avgpool.h"
#include "kernels/clamp.h"
#include "kernels/conv.h"
#include "kernels/depthwise.h"
#include "kernels/global_avgpool.h"
#include "kernels/linear.h"
#include "kernels/maxpool.h"

const tn_op_registration tn_ops[TN_OP_COUNT] = {
    {"INT8_OP_UNSPECIFIED", NULL, NULL},
    {"INT8_CONV", tn_conv_check, tn_conv_run},
    {"INT8_DEPTHWISE", tn_depthwise_check, tn_depthwise_run},
    {"INT8_LINEAR", tn_linear_check, tn_linear_run},
    {"INT8_MAXPOOL", tn_maxpool_check, tn_maxpool_run},
    {"INT8_AVGPOOL", tn_avgpool_check, tn_avgpool_run},
    {"INT8_GLOBAL_AVGPOOL", tn_global_avgpool_check, tn_global_avgpool_run},
    {"INT8_CLAMP", tn_clamp_check, tn_clamp_run},
};
