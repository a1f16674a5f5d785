#ifndef NAS_COMMON_DATA_UCR_TEXT_FORMAT_H_
#define NAS_COMMON_DATA_UCR_TEXT_FORMAT_H_

#include "absl/status/statusor.h"
#include "common/data/formats.h"

namespace nas::data {

// UCR text (UCR_TSV), raw or gzip: one sample a row, the label first, then
// C*L values (C from input_shape, see RowCollector in series.h), separated
// by tabs, by commas, or by any run of blanks (the archive's older .txt
// form); numbers may use scientific notation. Every row holds as many
// values as the first; NaN, infinities and non-numbers are refused with the
// line and field. Empty lines are skipped. Labels are kept as text, numbers
// written canonically (CanonicalLabel).
absl::StatusOr<RawSamples> ReadUcrText(const DataFile& file,
                                       const v1::DatasetSpec& spec,
                                       const ReadOptions& options);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_UCR_TEXT_FORMAT_H_
