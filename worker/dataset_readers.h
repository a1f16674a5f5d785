#ifndef NAS_WORKER_DATASET_READERS_H_
#define NAS_WORKER_DATASET_READERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nas::worker {

// File-format readers behind LoadDataset (dataset.h). Stateless functions;
// every error message names the file and the problem.

// Reads a whole file, decompressing it when it is gzip (zlib reads plain
// files unchanged). NotFound when the file cannot be opened, DataLoss when
// the gzip stream is corrupt or truncated.
absl::StatusOr<std::string> ReadMaybeGzipFile(const std::string& path);

// An idx3-ubyte image file: magic 0x00000803, then count, rows, cols (big
// endian), then count*rows*cols pixels.
struct IdxImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;
};
// Reads an idx3-ubyte file (gzip or raw) straight into IdxImages::pixels:
// one allocation of the payload's size, no copy of the whole file on the
// way. Errors as ReadMaybeGzipFile's, and InvalidArgument naming the file for
// a bad header or a payload of the wrong size (including a header that
// claims more pixels than the file could hold).
absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path);

// An idx1-ubyte label file: magic 0x00000801, count, then count bytes.
absl::StatusOr<std::vector<int32_t>> ParseIdxLabels(absl::string_view bytes,
                                                    const std::string& path);

// A UCR time-series file before label mapping: one row per sample, the first
// field the label (kept as text), then `length` finite numbers. Empty lines
// are skipped; every row must have the same length.
struct UcrRows {
  std::vector<std::string> labels;
  std::vector<float> values;  // labels.size() * length.
  int64_t length = 0;
};
absl::StatusOr<UcrRows> ParseUcrTsv(absl::string_view text,
                                    const std::string& path);

// The distinct label texts in class order: numeric order when every label is
// a number ("2" < "10"), text order otherwise. A label's class index is its
// position in this list.
std::vector<std::string> SortedDistinctLabels(
    const std::vector<std::string>& labels);

}  // namespace nas::worker

#endif  // NAS_WORKER_DATASET_READERS_H_
