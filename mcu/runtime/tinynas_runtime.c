/* tinynas int8 runtime: checks and the interpreter loop (see
 * tinynas_runtime.h); the kernels are in kernels/, indexed by
 * tinynas_ops.c. */
#include "tinynas_runtime.h"

#include <stddef.h>
#include <string.h>

#include "tinynas_ops.h"
#include "tinynas_quant.h"
#include "tinynas_window.h"

/* sizeof(tn_layer) == TN_LAYER_FIELDS * 4 on every platform (C99 has no
 * static_assert: a negative array size fails the build). */
typedef char tn_layer_size_check[sizeof(tn_layer) == TN_LAYER_FIELDS * 4
                                     ? 1
                                     : -1];

int32_t tn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                            int32_t shift) {
  return tn_mbqm(x, multiplier, shift);
}

/* [offset, offset + bytes) lies inside an arena of arena_bytes. */
static int span_ok(int32_t offset, int32_t bytes, int32_t arena_bytes) {
  return offset >= 0 && bytes >= 0 &&
         (int64_t)offset + bytes <= (int64_t)arena_bytes;
}

static int int8_ok(int32_t v) { return v >= -128 && v <= 127; }

/* The fields every operation shares (see tinynas_ops.h). */
static int check_common(const tn_model *m, const tn_layer *l) {
  const int32_t in_bytes =
      tn_checked_mul(tn_checked_mul(l->in_c, l->in_h), l->in_w);
  const int32_t out_bytes =
      tn_checked_mul(tn_checked_mul(l->out_c, l->out_h), l->out_w);
  if (in_bytes < 1 || out_bytes < 1) return TN_ERROR_BAD_LAYER;
  if (!span_ok(l->in_offset, in_bytes, m->arena_bytes) ||
      !span_ok(l->out_offset, out_bytes, m->arena_bytes)) {
    return TN_ERROR_BAD_LAYER;
  }
  /* Distinct buffers must not overlap; equal offsets mean in place, which
   * the op's check allows or not. */
  if (l->in_offset != l->out_offset &&
      (int64_t)l->in_offset < (int64_t)l->out_offset + out_bytes &&
      (int64_t)l->out_offset < (int64_t)l->in_offset + in_bytes) {
    return TN_ERROR_BAD_LAYER;
  }
  if (!int8_ok(l->in_zero_point) || !int8_ok(l->out_zero_point) ||
      !int8_ok(l->act_min) || !int8_ok(l->act_max) ||
      l->act_min > l->act_max) {
    return TN_ERROR_BAD_LAYER;
  }
  return TN_OK;
}

static int check_layer(const tn_model *m, const tn_layer *l) {
  int status;
  if (l->op <= 0 || l->op >= TN_OP_COUNT || tn_ops[l->op].check == NULL) {
    return TN_ERROR_BAD_OP;
  }
  status = check_common(m, l);
  if (status != TN_OK) return status;
  return tn_ops[l->op].check(m, l);
}

int tn_check_model(const tn_model *model, int32_t *bad_layer) {
  int32_t i;
  if (bad_layer != NULL) *bad_layer = -1;
  if (model == NULL || model->num_layers < 0 ||
      (model->num_layers > 0 && model->layers == NULL) ||
      model->arena_bytes < 0 || model->input_bytes < 1 ||
      model->output_bytes < 1 ||
      !span_ok(model->input_offset, model->input_bytes, model->arena_bytes) ||
      !span_ok(model->output_offset, model->output_bytes,
               model->arena_bytes)) {
    return TN_ERROR_BAD_LAYER;
  }
  for (i = 0; i < model->num_layers; ++i) {
    const int status = check_layer(model, &model->layers[i]);
    if (status != TN_OK) {
      if (bad_layer != NULL) *bad_layer = i;
      return status;
    }
  }
  return TN_OK;
}

int tn_invoke(const tn_model *model, int8_t *arena, const int8_t *input,
              int8_t *output) {
  int32_t i;
  const int status = tn_check_model(model, NULL);
  if (status != TN_OK) return status;
  if (arena == NULL || input == NULL || output == NULL) {
    return TN_ERROR_BAD_LAYER;
  }
  memcpy(arena + model->input_offset, input, (size_t)model->input_bytes);
  for (i = 0; i < model->num_layers; ++i) {
    const tn_layer *l = &model->layers[i];
    tn_ops[l->op].run(model, l, arena);
  }
  memcpy(output, arena + model->output_offset, (size_t)model->output_bytes);
  return TN_OK;
}
