#ifndef NAS_COMMON_DATA_BYTE_SOURCE_H_
#define NAS_COMMON_DATA_BYTE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nas::data {

// A stream of bytes the binary readers consume front to back: a gzip or
// plain file (gz_input.h), or one entry of a zip archive (zip_archive.h).
// Implementations are not thread-safe; one reader uses one source.
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Reads up to `size` bytes into `out`; fewer only at the end of the data.
  // DataLoss for a corrupt stream, Internal for a failed read.
  virtual absl::StatusOr<size_t> Read(void* out, size_t size) = 0;

  // After the data ran out: DataLoss when the stream ended early or fails
  // its checksum, else OK.
  virtual absl::Status Finish() = 0;

  // The most bytes the whole stream can hold (an exact figure where the
  // container records it): header claims beyond it are refused before
  // anything is allocated.
  virtual int64_t MaxBytes() const = 0;
};

// A regular file opened read-only (non-blocking, so a FIFO given as a data
// file cannot hang the open) and its size. The caller owns `fd`.
struct OpenedFile {
  int fd = -1;
  int64_t size = 0;
};
// NotFound when the file cannot be opened, InvalidArgument when it is not a
// regular file (a directory, a FIFO, a device); both name `path`.
absl::StatusOr<OpenedFile> OpenRegularFile(const std::string& path);

// Reads and drops what is left in `source`; returns the byte count.
absl::StatusOr<int64_t> CountRest(ByteSource* source);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_BYTE_SOURCE_H_
