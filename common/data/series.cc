#include "common/data/series.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/data/text_fields.h"

namespace nas::data {

int64_t SeriesChannels(const v1::DatasetSpec& spec) {
  const auto& dims = spec.input_shape().dims();
  return dims.size() >= 2 ? std::max<int64_t>(dims[0], 1) : 1;
}

int64_t TargetLength(const v1::DatasetSpec& spec, bool unequal_lengths) {
  if (spec.length() > 0) return spec.length();
  const auto& dims = spec.input_shape().dims();
  if (unequal_lengths && !dims.empty())
    return std::max<int64_t>(dims[dims.size() - 1], 0);
  return 0;
}

void AppendChannelMajor(absl::Span<const float> row, int64_t channels,
                        v1::SeriesLayout layout, std::vector<float>* out) {
  if (layout != v1::TIME_MAJOR || channels == 1) {
    out->insert(out->end(), row.begin(), row.end());
    return;
  }
  const int64_t length = static_cast<int64_t>(row.size()) / channels;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t t = 0; t < length; ++t) out->push_back(row[t * channels + c]);
  }
}

SeriesBuilder::SeriesBuilder(int64_t channels, int64_t target_length,
                             v1::PadSide pad, bool keep_values, RawSamples* out)
    : channels_(channels),
      target_(target_length),
      pad_start_(pad == v1::PAD_START),
      keep_values_(keep_values),
      out_(out) {}

void SeriesBuilder::Add(absl::Span<const float> series, int64_t length,
                        std::string label) {
  if (out_->count == 0) {
    if (target_ == 0) target_ = length;
    out_->shape = {channels_, target_};
    out_->min_length = out_->max_length = length;
  }
  out_->min_length = std::min(out_->min_length, length);
  out_->max_length = std::max(out_->max_length, length);
  if (length < target_) ++out_->padded;
  if (length > target_) ++out_->cut;
  ++out_->count;
  out_->labels.push_back(std::move(label));
  if (!keep_values_) return;
  const int64_t kept = std::min(length, target_);
  const int64_t zeros = target_ - kept;
  // PAD_START keeps the end of a long series and pads a short one in front.
  const int64_t skip = pad_start_ ? length - kept : 0;
  for (int64_t c = 0; c < channels_; ++c) {
    const float* channel = series.data() + c * length;
    if (pad_start_) out_->values.insert(out_->values.end(), zeros, 0.0f);
    out_->values.insert(out_->values.end(), channel + skip,
                        channel + skip + kept);
    if (!pad_start_) out_->values.insert(out_->values.end(), zeros, 0.0f);
  }
}

RowCollector::RowCollector(const v1::DatasetSpec& spec,
                           const ReadOptions& options, RawSamples* out)
    : spec_(spec), keep_values_(options.keep_values), out_(out) {
  const auto& dims = spec.input_shape().dims();
  if (dims.size() == 3) image_shape_.assign(dims.begin(), dims.end());
}

absl::Status RowCollector::Add(absl::Span<const float> row, std::string label,
                               absl::string_view path, int64_t line) {
  const auto size = static_cast<int64_t>(row.size());
  if (row_size_ == 0) {
    const int64_t channels = SeriesChannels(spec_);
    if (!image_shape_.empty()) {
      const int64_t want = image_shape_[0] * image_shape_[1] * image_shape_[2];
      if (size != want) {
        return LineError(
            path, line,
            absl::StrCat(size, " values, input_shape ", ShapeText(image_shape_),
                         " needs ", want));
      }
    } else if (size == 0 || size % channels != 0) {
      return LineError(path, line,
                       absl::StrCat(size, " values, not a multiple of the ",
                                    channels, " channels of input_shape"));
    } else {
      series_ =
          std::make_unique<SeriesBuilder>(channels, TargetLength(spec_, false),
                                          spec_.pad(), keep_values_, out_);
    }
    row_size_ = size;
  } else if (size != row_size_) {
    return LineError(
        path, line,
        absl::StrCat(size, " values, expected ", row_size_, " (ragged rows)"));
  }
  if (series_ != nullptr) {
    const int64_t channels = SeriesChannels(spec_);
    reordered_.clear();
    if (keep_values_) {
      AppendChannelMajor(row, channels, spec_.layout(), &reordered_);
    }
    series_->Add(reordered_, size / channels, std::move(label));
    return absl::OkStatus();
  }
  out_->shape = image_shape_;
  ++out_->count;
  out_->labels.push_back(std::move(label));
  if (keep_values_)
    out_->values.insert(out_->values.end(), row.begin(), row.end());
  return absl::OkStatus();
}

}  // namespace nas::data
