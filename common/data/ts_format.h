#ifndef NAS_COMMON_DATA_TS_FORMAT_H_
#define NAS_COMMON_DATA_TS_FORMAT_H_

#include "absl/status/statusor.h"
#include "common/data/formats.h"

namespace nas::data {

// The sktime/UEA .ts format, raw or gzip: '#' comment lines, a header of
// '@' lines (@problemName, @timeStamps false, @missing, @univariate,
// @dimensions N, @equalLength, @seriesLength N, @classLabel true LABELS...,
// @data), then one series a line: channels separated by ':', the values of
// a channel by ',', the label last. Refused with the line: @timeStamps true
// (not supported), @classLabel false or absent (classification needs
// labels), a missing value '?', NaN, a channel count other than
// @dimensions or input_shape's, channels of one series of different
// lengths, a label not in @classLabel. Series of unequal length
// (@equalLength not true) are padded or cut to spec.length, else to
// input_shape's last dimension (series.h).
absl::StatusOr<RawSamples> ReadTs(const DataFile& file,
                                  const v1::DatasetSpec& spec,
                                  const ReadOptions& options);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_TS_FORMAT_H_
