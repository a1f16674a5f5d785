/*
 * tinynas int8 runtime: the operation registry. One row per operation,
 * indexed by its number (TN_OP_*): its name, the check of a layer's
 * op-specific fields and the kernel that runs it. Adding an operation is a
 * kernels/<op>.{h,c} pair plus one row here (the way tflite-micro adds an
 * op).
 *
 * tn_check_model (tinynas_runtime.c) checks the fields every operation
 * shares first: op number, positive shapes, input and output buffers inside
 * the arena and not partly overlapping, zero points and the output clamp
 * within -128..127. A check function adds the rest (output shape, weights,
 * whether in place is allowed); a run function may then assume all of it.
 */
#ifndef TINYNAS_OPS_H_
#define TINYNAS_OPS_H_

#include <stdint.h>

#include "tinynas_runtime.h"

/* Returns TN_OK or TN_ERROR_BAD_LAYER. */
typedef int (*tn_check_fn)(const tn_model *model, const tn_layer *layer);
/* Computes the layer's output in the arena. */
typedef void (*tn_run_fn)(const tn_model *model, const tn_layer *layer,
                          int8_t *arena);

typedef struct {
  const char *name; /* nas.v1.Int8Op's name, e.g. "INT8_CONV" */
  tn_check_fn check;
  tn_run_fn run;
} tn_op_registration;

/* Row i is operation i; row 0 (no operation) has NULL functions. */
extern const tn_op_registration tn_ops[TN_OP_COUNT];

#endif /* TINYNAS_OPS_H_ */
