#ifndef NAS_COMMON_DATA_IDX_FORMAT_H_
#define NAS_COMMON_DATA_IDX_FORMAT_H_

#include "absl/status/statusor.h"
#include "common/data/formats.h"

namespace nas::data {

// IDX: an idx3-ubyte images file (magic 0x00000803, then count, rows, cols
// big-endian, then the pixels) and an idx1-ubyte labels file (magic
// 0x00000801, count, one byte a label), each raw or gzip. 8-bit samples
// {1, rows, cols}; labels are the byte values as text ("0".."255"). A
// header that claims more than its file can hold is refused before
// anything is allocated; with keep_values false the pixels are counted, not
// kept.
absl::StatusOr<RawSamples> ReadIdx(const DataFile& file,
                                   const v1::DatasetSpec& spec,
                                   const ReadOptions& options);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_IDX_FORMAT_H_
