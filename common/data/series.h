#ifndef NAS_COMMON_DATA_SERIES_H_
#define NAS_COMMON_DATA_SERIES_H_

// What the series readers share: the channel count a spec implies, the
// order of a text row's values (SeriesLayout), and fitting series of any
// length to one length (PadSide), counted in RawSamples.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/data/samples.h"
#include "proto/nas.pb.h"

namespace nas::data {

// C of a {C, L} series under spec.input_shape: its first dimension when it
// has two or more, else 1.
int64_t SeriesChannels(const v1::DatasetSpec& spec);

// The length series are padded or cut to: spec.length when set; else, for a
// file whose series differ in length, input_shape's last dimension; else 0,
// meaning each file keeps the length its series have.
int64_t TargetLength(const v1::DatasetSpec& spec, bool unequal_lengths);

// Appends a flat row of channels * L values stored in `layout` (channel-
// major: all of channel 1, then channel 2...; time-major: step 1 of every
// channel, then step 2...) to `out` in channel-major order. row.size() must
// be a multiple of `channels`.
void AppendChannelMajor(absl::Span<const float> row, int64_t channels,
                        v1::SeriesLayout layout, std::vector<float>* out);

// Adds {C, length} series to a RawSamples, each fitted to one length with
// zeros (padding or cutting at the end, or at the start with PAD_START),
// and keeps the count, shape, labels, min/max length and padded/cut
// figures. Borrows `out` for its own lifetime. Not thread-safe.
class SeriesBuilder {
 public:
  // target_length 0: the first series' length.
  SeriesBuilder(int64_t channels, int64_t target_length, v1::PadSide pad,
                bool keep_values, RawSamples* out);

  // `series` holds channels * length values, channel-major (it may be
  // empty when values are not kept).
  void Add(absl::Span<const float> series, int64_t length, std::string label);

 private:
  const int64_t channels_;
  int64_t target_;
  const bool pad_start_;
  const bool keep_values_;
  RawSamples* out_;
};

// Turns the rows of a text file (UCR, CSV) into samples: {C, H, W} when
// input_shape has three dimensions (a row holds C*H*W values), else {C, L}
// series in spec.layout, L set by the first row and fitted to spec.length
// when set. Borrows `out`. Not thread-safe.
class RowCollector {
 public:
  RowCollector(const v1::DatasetSpec& spec, const ReadOptions& options,
               RawSamples* out);

  // Adds one row. InvalidArgument "PATH: line N: ..." for a row whose
  // value count differs from the first row's (ragged rows) or from what
  // input_shape asks for.
  absl::Status Add(absl::Span<const float> row, std::string label,
                   absl::string_view path, int64_t line);

 private:
  const v1::DatasetSpec& spec_;
  const bool keep_values_;
  RawSamples* out_;
  int64_t row_size_ = 0;              // Set by the first row.
  std::vector<int64_t> image_shape_;  // {C, H, W}, or empty for series.
  std::vector<float> reordered_;
  std::unique_ptr<SeriesBuilder> series_;
};

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_SERIES_H_
