#ifndef NAS_COMMON_DATA_CSV_FORMAT_H_
#define NAS_COMMON_DATA_CSV_FORMAT_H_

#include "absl/status/statusor.h"
#include "common/data/formats.h"

namespace nas::data {

// CSV, raw or gzip: a header row, then one sample a row. The column named
// spec.label_column (default "label") holds the label; every other column
// is a feature, in order: C*L values of a {C, L} series in spec.layout, or
// the C*H*W values of a {C, H, W} image (see RowCollector in series.h).
// Fields may be double-quoted ("a,b", "" for a quote inside); a quoted
// field does not span lines. Refused with the line: a row with another
// field count than the header, a feature that is not a finite number, an
// empty label; and a header without the label column (naming the columns
// it has).
absl::StatusOr<RawSamples> ReadCsv(const DataFile& file,
                                   const v1::DatasetSpec& spec,
                                   const ReadOptions& options);

// Splits one CSV line into `fields` (quotes removed). InvalidArgument
// naming the line for an unterminated quote or text after a closing quote.
absl::Status SplitCsvLine(absl::string_view line, absl::string_view path,
                          int64_t line_number,
                          std::vector<std::string>* fields);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_CSV_FORMAT_H_
