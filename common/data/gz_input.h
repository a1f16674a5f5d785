#ifndef NAS_COMMON_DATA_GZ_INPUT_H_
#define NAS_COMMON_DATA_GZ_INPUT_H_

// Gzip-or-plain file input for every reader: zlib reads plain files
// unchanged, so a data file may be stored compressed or not.

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/data/byte_source.h"

namespace nas::data {

// Deflate expands at most 1032-fold: no gzip file holds more than this many
// times its own size.
inline constexpr int64_t kMaxGzipExpansion = 1032;

// A gzip or plain file open for reading; closed on destruction. Not
// thread-safe.
class GzInput : public ByteSource {
 public:
  // NotFound when the file is missing or cannot be opened, InvalidArgument
  // when it is not a regular file.
  static absl::StatusOr<std::unique_ptr<GzInput>> Open(const std::string& path);
  GzInput(const GzInput&) = delete;
  GzInput& operator=(const GzInput&) = delete;
  ~GzInput() override;

  absl::StatusOr<size_t> Read(void* out, size_t size) override;
  // DataLoss when the gzip stream ended early (a truncated file) or is
  // corrupt.
  absl::Status Finish() override;
  // The file's size when plain, kMaxGzipExpansion times it when gzip.
  int64_t MaxBytes() const override { return max_bytes_; }

  const std::string& path() const { return path_; }

 private:
  GzInput(std::string path, gzFile file, int64_t max_bytes);
  absl::Status ReadError();

  const std::string path_;
  gzFile file_;
  const int64_t max_bytes_;
};

// Reads a whole file, decompressing it when it is gzip. Errors as
// GzInput's.
absl::StatusOr<std::string> ReadMaybeGzipFile(const std::string& path);

// The lines of a gzip or plain text file, one at a time: split at '\n', a
// trailing '\r' dropped, a UTF-8 byte-order mark at the start dropped. Not
// thread-safe.
class LineReader {
 public:
  // Lines longer than this are refused (binary junk has few newlines).
  static constexpr size_t kMaxLineBytes = size_t{64} << 20;

  // Errors as GzInput::Open's.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(
      const std::string& path);

  // Sets `line` to the next line (valid until the next call) and returns
  // true, or returns false at the end of the file. InvalidArgument naming
  // the line for one over kMaxLineBytes; GzInput's errors otherwise.
  absl::StatusOr<bool> Next(absl::string_view* line);

  // The 1-based number of the line Next returned last.
  int64_t line_number() const { return line_number_; }
  const std::string& path() const { return input_->path(); }

 private:
  explicit LineReader(std::unique_ptr<GzInput> input)
      : input_(std::move(input)) {}
  // Appends the next chunk to buffer_; false at the end of the data.
  absl::StatusOr<bool> Fill();

  std::unique_ptr<GzInput> input_;
  std::string buffer_;
  size_t start_ = 0;  // Where the next line begins in buffer_.
  int64_t line_number_ = 0;
  bool at_end_ = false;
};

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_GZ_INPUT_H_
