#ifndef NAS_COMMON_DATA_ZIP_ARCHIVE_H_
#define NAS_COMMON_DATA_ZIP_ARCHIVE_H_

// The zip container of a NumPy .npz: the central directory, and each entry
// as a ByteSource (stored or deflated, checked against its CRC-32).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/data/byte_source.h"

namespace nas::data {

// A zip archive open for reading its entries; closes the file on
// destruction. Entry sources borrow the archive and must not outlive it.
// Not thread-safe.
class ZipArchive {
 public:
  // NotFound when the file cannot be opened; InvalidArgument naming the
  // file when it is not a zip archive, spans several disks, or is a ZIP64
  // archive (over 4 GiB or 65,535 entries: not supported).
  static absl::StatusOr<std::unique_ptr<ZipArchive>> Open(
      const std::string& path);
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;
  ~ZipArchive();

  // The entry names, in directory order.
  std::vector<std::string> Names() const;
  bool Has(const std::string& name) const;

  // The uncompressed bytes of entry `name`. InvalidArgument "PATH: NAME:
  // ..." for an absent, encrypted or otherwise compressed entry, or sizes
  // the file cannot hold (a deflated entry claiming more than 1032 times
  // its compressed size); the source reports DataLoss for corrupt deflate
  // data or a CRC mismatch.
  absl::StatusOr<std::unique_ptr<ByteSource>> OpenEntry(
      const std::string& name) const;

  const std::string& path() const { return path_; }

 private:
  struct Entry {
    std::string name;
    uint16_t flags = 0;
    uint16_t method = 0;
    uint32_t crc = 0;
    uint64_t compressed = 0;
    uint64_t uncompressed = 0;
    uint64_t local_offset = 0;
  };

  ZipArchive(std::string path, int fd, int64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  absl::Status ReadDirectory();
  absl::Status ParseDirectory(const std::string& directory, uint64_t count);

  const std::string path_;
  const int fd_;
  const int64_t size_;
  uint64_t directory_offset_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_ZIP_ARCHIVE_H_
