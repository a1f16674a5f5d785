#include "mcu/model_tables.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace nas::mcu {
namespace {

static_assert(sizeof(tn_layer) == TN_LAYER_FIELDS * 4,
              "tn_layer must be 21 int32 fields on every platform");
static_assert(TN_LAYER_FIELDS == 21, "kInt8LayerRowBytes assumes 21 fields");

constexpr int64_t kMaxIndex = std::numeric_limits<int32_t>::max();

// The product of positive factors, or -1 when one is not positive or the
// product exceeds int32 (no runtime index could address it).
int64_t CappedProduct(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f <= 0) return -1;
    product *= f;
    if (product > kMaxIndex) return -1;
  }
  return product;
}

std::string LayerName(int index, int op) {
  const std::string name =
      v1::Int8Op_IsValid(op) ? v1::Int8Op_Name(static_cast<v1::Int8Op>(op))
                             : absl::StrCat("op ", op);
  return absl::StrCat("int8 layer ", index, " (", name, ")");
}

absl::Status LayerError(int index, const v1::Int8Layer& l,
                        absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(LayerName(index, l.op()), ": ", problem));
}

bool IsWeighted(int op) {
  return op == TN_OP_CONV || op == TN_OP_DEPTHWISE || op == TN_OP_LINEAR;
}

// Weights a weighted op must carry (-1: a shape too large or not positive,
// which tn_check_model names later).
int64_t ExpectedWeights(const v1::Int8Layer& l) {
  switch (l.op()) {
    case TN_OP_CONV:
      return CappedProduct({l.out_c(), l.in_c(), l.kernel_h(), l.kernel_w()});
    case TN_OP_DEPTHWISE:
      return CappedProduct({l.out_c(), l.kernel_h(), l.kernel_w()});
    default:  // TN_OP_LINEAR.
      return CappedProduct({l.out_c(), l.in_c(), l.in_h(), l.in_w()});
  }
}

absl::Status CheckQuantisation(int index, const v1::Int8Layer& l) {
  auto int8 = [](int32_t v) { return v >= -128 && v <= 127; };
  if (!int8(l.input_zero_point()) || !int8(l.output_zero_point())) {
    return LayerError(
        index, l,
        absl::StrCat("zero points ", l.input_zero_point(), " and ",
                     l.output_zero_point(), " must lie within -128..127"));
  }
  if (!int8(l.act_min()) || !int8(l.act_max()) || l.act_min() > l.act_max()) {
    return LayerError(index, l,
                      absl::StrCat("output clamp ", l.act_min(), "..",
                                   l.act_max(), " is not a range within "
                                   "-128..127"));
  }
  return absl::OkStatus();
}

absl::Status CheckChannelArrays(int index, const v1::Int8Layer& l) {
  const int64_t c = l.out_c();
  if (l.biases_size() != c || l.multipliers_size() != c ||
      l.shifts_size() != c) {
    return LayerError(
        index, l,
        absl::StrCat(l.biases_size(), " biases, ", l.multipliers_size(),
                     " multipliers and ", l.shifts_size(),
                     " shifts, expected ", c, " of each (one per output "
                     "channel)"));
  }
  for (int i = 0; i < c; ++i) {
    if (l.shifts(i) < -31 || l.shifts(i) > 30) {
      return LayerError(index, l,
                        absl::StrCat("shift ", l.shifts(i), " of channel ", i,
                                     " is outside -31..30"));
    }
    if (l.multipliers(i) < 0) {
      return LayerError(index, l,
                        absl::StrCat("multiplier ", l.multipliers(i),
                                     " of channel ", i, " is negative"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckConstants(int index, const v1::Int8Layer& l) {
  if (!IsWeighted(l.op())) {
    if (!l.weights().empty() || l.biases_size() > 0 ||
        l.multipliers_size() > 0 || l.shifts_size() > 0) {
      return LayerError(index, l,
                        "carries weights or per-channel parameters, but the "
                        "operation takes none");
    }
    return absl::OkStatus();
  }
  const int64_t expected = ExpectedWeights(l);
  if (expected < 0) {
    return LayerError(index, l,
                      "its shape is not positive or needs more than 2^31 "
                      "weights");
  }
  if (static_cast<int64_t>(l.weights().size()) != expected) {
    return LayerError(index, l,
                      absl::StrCat(l.weights().size(), " weights, expected ",
                                   expected));
  }
  return CheckChannelArrays(index, l);
}

tn_layer ToRow(const v1::Int8Layer& l, int32_t weights_offset,
               int32_t channel_offset) {
  tn_layer row;
  row.op = l.op();
  row.in_c = l.in_c();
  row.in_h = l.in_h();
  row.in_w = l.in_w();
  row.out_c = l.out_c();
  row.out_h = l.out_h();
  row.out_w = l.out_w();
  row.kernel_h = l.kernel_h();
  row.kernel_w = l.kernel_w();
  row.stride_h = l.stride_h();
  row.stride_w = l.stride_w();
  row.pad_h = l.pad_h();
  row.pad_w = l.pad_w();
  row.in_offset = l.in_offset();
  row.out_offset = l.out_offset();
  row.in_zero_point = l.input_zero_point();
  row.out_zero_point = l.output_zero_point();
  row.act_min = l.act_min();
  row.act_max = l.act_max();
  row.weights_offset = weights_offset;
  row.channel_offset = channel_offset;
  return row;
}

// Checks layer `index` and appends its row and constants to `tables`.
absl::Status AppendLayer(int index, const v1::Int8Layer& l,
                         ModelTables& tables) {
  if (l.op() <= 0 || l.op() >= TN_OP_COUNT) {
    return LayerError(index, l, "unknown operation");
  }
  NAS_RETURN_IF_ERROR(CheckQuantisation(index, l));
  NAS_RETURN_IF_ERROR(CheckConstants(index, l));
  if (static_cast<int64_t>(tables.weights.size() + l.weights().size()) >
          kMaxIndex ||
      static_cast<int64_t>(tables.biases.size()) + l.biases_size() >
          kMaxIndex) {
    return LayerError(index, l, "the model's constants exceed 2^31 entries");
  }
  // Operations without constants get offsets 0.
  const bool weighted = IsWeighted(l.op());
  tables.layers.push_back(ToRow(
      l, weighted ? static_cast<int32_t>(tables.weights.size()) : 0,
      weighted ? static_cast<int32_t>(tables.biases.size()) : 0));
  for (char w : l.weights()) tables.weights.push_back(static_cast<int8_t>(w));
  tables.biases.insert(tables.biases.end(), l.biases().begin(),
                       l.biases().end());
  tables.multipliers.insert(tables.multipliers.end(),
                            l.multipliers().begin(), l.multipliers().end());
  for (int32_t s : l.shifts()) tables.shifts.push_back(static_cast<int8_t>(s));
  return absl::OkStatus();
}

// The model's input and output: the first layer's input, the last layer's
// output, matching input_shape and num_classes when those are set.
absl::Status SetInputOutput(const v1::QuantizedModel& model,
                            ModelTables& tables) {
  const tn_layer& first = tables.layers.front();
  const tn_layer& last = tables.layers.back();
  const int64_t in = CappedProduct({first.in_c, first.in_h, first.in_w});
  const int64_t out = CappedProduct({last.out_c, last.out_h, last.out_w});
  if (in < 0 || out < 0) {
    return absl::InvalidArgumentError(
        "int8 model: the first layer's input or the last layer's output "
        "is not a positive shape within 2^31 bytes");
  }
  if (model.input_shape().dims_size() > 0) {
    int64_t dims = 1;
    for (int64_t d : model.input_shape().dims()) {
      dims = (d <= 0 || d > kMaxIndex) ? -1 : std::min(dims * d, kMaxIndex + 1);
      if (dims < 0) break;
    }
    if (dims != in) {
      return absl::InvalidArgumentError(absl::StrCat(
          "int8 model: input_shape holds ", dims, " values, but layer 0 "
          "reads ", in));
    }
  }
  if (model.num_classes() > 0 && model.num_classes() != out) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 model: ", model.num_classes(), " classes, but the last layer "
        "writes ", out, " values"));
  }
  if (model.input_offset() != first.in_offset ||
      model.output_offset() != last.out_offset) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 model: input_offset ", model.input_offset(), " and "
        "output_offset ", model.output_offset(), " must be layer 0's input (",
        first.in_offset, ") and the last layer's output (", last.out_offset,
        ")"));
  }
  tables.input_offset = model.input_offset();
  tables.output_offset = model.output_offset();
  tables.input_bytes = static_cast<int32_t>(in);
  tables.output_bytes = static_cast<int32_t>(out);
  return absl::OkStatus();
}

absl::Status RuntimeRejection(const ModelTables& tables, int32_t bad_layer,
                              const v1::QuantizedModel& model) {
  if (bad_layer < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 model: the runtime rejects it (arena ", tables.arena_bytes,
        " bytes, input ", tables.input_bytes, " bytes at ",
        tables.input_offset, ", output ", tables.output_bytes, " bytes at ",
        tables.output_offset, ")"));
  }
  const tn_layer& r = tables.layers[bad_layer];
  return LayerError(
      bad_layer, model.layers(bad_layer),
      absl::StrCat("the runtime rejects its shape or buffers (input ", r.in_c,
                   "x", r.in_h, "x", r.in_w, " at byte ", r.in_offset,
                   ", output ", r.out_c, "x", r.out_h, "x", r.out_w,
                   " at byte ", r.out_offset, ", kernel ", r.kernel_h, "x",
                   r.kernel_w, ", stride ", r.stride_h, "x", r.stride_w,
                   ", padding ", r.pad_h, "x", r.pad_w, ", arena ",
                   tables.arena_bytes, " bytes)"));
}

}  // namespace

int64_t ModelTables::ConstantBytes() const {
  return static_cast<int64_t>(weights.size()) +
         4 * static_cast<int64_t>(biases.size()) +
         4 * static_cast<int64_t>(multipliers.size()) +
         static_cast<int64_t>(shifts.size()) +
         static_cast<int64_t>(layers.size() * sizeof(tn_layer));
}

tn_model ModelTables::View() const {
  tn_model m;
  m.layers = layers.data();
  m.num_layers = static_cast<int32_t>(layers.size());
  m.weights = weights.data();
  m.biases = biases.data();
  m.multipliers = multipliers.data();
  m.shifts = shifts.data();
  m.arena_bytes = arena_bytes;
  m.input_offset = input_offset;
  m.input_bytes = input_bytes;
  m.output_offset = output_offset;
  m.output_bytes = output_bytes;
  return m;
}

absl::StatusOr<ModelTables> BuildTables(const v1::QuantizedModel& model) {
  if (model.format_version() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 model: format_version ", model.format_version(),
        ", expected 1"));
  }
  if (model.layers().empty()) {
    return absl::InvalidArgumentError("int8 model: no layers");
  }
  if (model.arena_bytes() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 model: arena_bytes ", model.arena_bytes(), " is not positive"));
  }
  ModelTables tables;
  tables.arena_bytes = model.arena_bytes();
  for (int i = 0; i < model.layers_size(); ++i) {
    NAS_RETURN_IF_ERROR(AppendLayer(i, model.layers(i), tables));
  }
  NAS_RETURN_IF_ERROR(SetInputOutput(model, tables));
  const tn_model view = tables.View();
  int32_t bad_layer = -1;
  if (tn_check_model(&view, &bad_layer) != TN_OK) {
    return RuntimeRejection(tables, bad_layer, model);
  }
  return tables;
}

absl::StatusOr<Int8Interpreter> Int8Interpreter::Create(
    const v1::QuantizedModel& model) {
  NAS_ASSIGN_OR_RETURN(ModelTables tables, BuildTables(model));
  return Int8Interpreter(std::move(tables));
}

Int8Interpreter::Int8Interpreter(ModelTables tables)
    : tables_(std::move(tables)),
      arena_(static_cast<size_t>(tables_.arena_bytes)) {}

absl::Status Int8Interpreter::Invoke(absl::Span<const int8_t> input,
                                     absl::Span<int8_t> output) {
  if (input.size() != static_cast<size_t>(tables_.input_bytes) ||
      output.size() != static_cast<size_t>(tables_.output_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "int8 interpreter: input of ", input.size(), " and output of ",
        output.size(), " values, expected ", tables_.input_bytes, " and ",
        tables_.output_bytes));
  }
  const tn_model view = tables_.View();
  const int status =
      tn_invoke(&view, arena_.data(), input.data(), output.data());
  if (status != TN_OK) {
    return absl::InternalError(
        absl::StrCat("int8 interpreter: tn_invoke returned ", status));
  }
  return absl::OkStatus();
}

}  // namespace nas::mcu
