/*
 * tinynas int8 runtime: portable C99, no dynamic allocation, no floating
 * point. One kernel per operation; every activation lives in one arena whose
 * layout (the offsets in the layer table) comes from the project's greedy
 * planner (common/memory_planner.h).
 *
 * Numerics follow the TensorFlow Lite int8 specification and its reference
 * kernels: weights symmetric int8 per output channel (zero point 0), biases
 * int32 at scale s_in * s_w, activations asymmetric int8 per tensor,
 * requantisation by a Q31 multiplier and a shift (positive = left) with
 * TFLite's rounding (SaturatingRoundingDoublingHighMul, then
 * RoundingDivideByPOT), so every platform computes the same bits.
 *
 * Layouts are LibTorch's: activations channel-major {C, H, W} (H = 1 for 1-D
 * and flat tensors), weights [out][in][kh][kw] (depthwise [C][kh][kw]).
 */
#ifndef TINYNAS_RUNTIME_H_
#define TINYNAS_RUNTIME_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Operations; the numbers are nas.v1.Int8Op's. */
#define TN_OP_CONV 1           /* CONV2D, POINTWISE_CONV2D, CONV1D */
#define TN_OP_DEPTHWISE 2      /* DEPTHWISE_CONV1D/2D, lone BATCHNORM */
#define TN_OP_LINEAR 3         /* in_c features -> out_c features */
#define TN_OP_MAXPOOL 4        /* padded cells are skipped */
#define TN_OP_AVGPOOL 5        /* padded cells count as zero (LibTorch) */
#define TN_OP_GLOBAL_AVGPOOL 6 /* {C, H, W} -> {C} */
#define TN_OP_CLAMP 7          /* in place: out = clamp(in, act_min, act_max) */
#define TN_OP_COUNT 8

/* Return codes of tn_invoke. */
#define TN_OK 0
#define TN_ERROR_BAD_OP 1    /* unknown op number */
#define TN_ERROR_BAD_LAYER 2 /* a field out of range (shape, offset, ...) */

/*
 * One operation. All fields are int32_t so that the table has the same size
 * and layout on every platform: sizeof(tn_layer) == TN_LAYER_FIELDS * 4.
 * Pooling and CLAMP keep the input's scale and zero point.
 */
typedef struct {
  int32_t op;
  int32_t in_c, in_h, in_w;
  int32_t out_c, out_h, out_w;
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t pad_h, pad_w;
  int32_t in_offset;  /* arena byte offset of the input */
  int32_t out_offset; /* arena byte offset of the output (== in: in place) */
  int32_t in_zero_point;
  int32_t out_zero_point;
  int32_t act_min, act_max;  /* output clamp, within -128..127 */
  int32_t weights_offset;    /* into tn_model.weights; weighted ops only */
  int32_t channel_offset;    /* into biases/multipliers/shifts; weighted ops */
} tn_layer;
#define TN_LAYER_FIELDS 21

/* A model: the layer table and the constant arrays it indexes. */
typedef struct {
  const tn_layer *layers;
  int32_t num_layers;
  const int8_t *weights;
  const int32_t *biases;      /* one per output channel of weighted ops */
  const int32_t *multipliers; /* Q31, one per output channel */
  const int8_t *shifts;       /* one per output channel; > 0 = left */
  int32_t arena_bytes;
  int32_t input_offset, input_bytes;
  int32_t output_offset, output_bytes;
} tn_model;

/*
 * Runs the model on one input: copies `input` (input_bytes int8 values) into
 * the arena at input_offset, runs every layer in order, copies output_bytes
 * values from output_offset to `output`. `arena` must hold arena_bytes
 * bytes. Returns TN_OK, or TN_ERROR_* naming the first bad layer's problem
 * (nothing is computed then).
 */
int tn_invoke(const tn_model *model, int8_t *arena, const int8_t *input,
              int8_t *output);

/* Checks every layer of a model (op, shapes, offsets within the arena)
 * without running it; returns TN_OK or TN_ERROR_*, and the index of the
 * first bad layer in *bad_layer when not NULL. */
int tn_check_model(const tn_model *model, int32_t *bad_layer);

/* TFLite's requantisation: round(x * multiplier * 2^shift / 2^31) with
 * its reference rounding; exposed for tests. */
int32_t tn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                            int32_t shift);

#ifdef __cplusplus
}
#endif

#endif /* TINYNAS_RUNTIME_H_ */
