#include "common/data/zip_archive.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/data/gz_input.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kDirectorySignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr size_t kEndBytes = 22;
constexpr size_t kDirectoryBytes = 46;
constexpr size_t kLocalBytes = 30;
constexpr uint64_t kMaxDirectoryBytes = uint64_t{16} << 20;
constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;

uint16_t Le16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
uint32_t Le32(const char* p) {
  return uint32_t{Le16(p)} | (uint32_t{Le16(p + 2)} << 16);
}
uint64_t Le64(const char* p) {
  return uint64_t{Le32(p)} | (uint64_t{Le32(p + 4)} << 32);
}

// Reads exactly `size` bytes at `offset`; false when the file is shorter.
bool ReadAt(int fd, uint64_t offset, size_t size, char* out) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n =
        pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// One entry's uncompressed bytes: a slice of the file (stored) or the raw
// deflate stream over it, checked against the directory's size and CRC.
class EntrySource : public ByteSource {
 public:
  EntrySource(std::string where, int fd, uint64_t data_offset,
              uint64_t compressed, uint64_t uncompressed, uint16_t method,
              uint32_t crc)
      : where_(std::move(where)),
        fd_(fd),
        data_offset_(data_offset),
        compressed_(compressed),
        uncompressed_(uncompressed),
        deflated_(method == kDeflated),
        crc_expected_(crc) {
    if (deflated_) {
      std::memset(&stream_, 0, sizeof(stream_));
      inflating_ = inflateInit2(&stream_, -MAX_WBITS) == Z_OK;  // Raw deflate.
    }
  }
  ~EntrySource() override {
    if (inflating_) inflateEnd(&stream_);
  }

  absl::StatusOr<size_t> Read(void* out, size_t size) override {
    size = static_cast<size_t>(
        std::min<uint64_t>(size, uncompressed_ - produced_));
    size_t done = 0;
    if (!deflated_) {
      if (size > 0 && !ReadAt(fd_, data_offset_ + produced_, size,
                              static_cast<char*>(out))) {
        return absl::DataLossError(absl::StrCat(where_, ": truncated entry"));
      }
      done = size;
    } else {
      NAS_ASSIGN_OR_RETURN(done,
                           Inflate(static_cast<unsigned char*>(out), size));
    }
    crc_ = crc32_z(crc_, static_cast<const unsigned char*>(out), done);
    produced_ += done;
    return done;
  }

  absl::Status Finish() override {
    if (produced_ != uncompressed_ || (deflated_ && !stream_end_)) {
      return absl::DataLossError(absl::StrCat(
          where_, ": the deflate data ", stream_end_ ? "ends after " : "holds ",
          produced_, stream_end_ ? " bytes" : " bytes and more",
          ", the zip directory says ", uncompressed_));
    }
    if (crc_ != crc_expected_) {
      return absl::DataLossError(absl::StrCat(where_, ": CRC-32 mismatch"));
    }
    return absl::OkStatus();
  }

  int64_t MaxBytes() const override {
    return static_cast<int64_t>(uncompressed_);
  }

 private:
  absl::StatusOr<size_t> Inflate(unsigned char* out, size_t size) {
    if (!inflating_) {
      return absl::InternalError(absl::StrCat(where_, ": inflateInit failed"));
    }
    size_t done = 0;
    while (done < size && !stream_end_) {
      if (stream_.avail_in == 0 && consumed_ < compressed_) {
        const size_t chunk = static_cast<size_t>(
            std::min<uint64_t>(sizeof(input_), compressed_ - consumed_));
        if (!ReadAt(fd_, data_offset_ + consumed_, chunk, input_)) {
          return absl::DataLossError(absl::StrCat(where_, ": truncated entry"));
        }
        consumed_ += chunk;
        stream_.next_in = reinterpret_cast<unsigned char*>(input_);
        stream_.avail_in = static_cast<uInt>(chunk);
      }
      const size_t want = std::min<size_t>(size - done, 1u << 30);
      stream_.next_out = out + done;
      stream_.avail_out = static_cast<uInt>(want);
      const int code = inflate(&stream_, Z_NO_FLUSH);
      done += want - stream_.avail_out;
      if (code == Z_STREAM_END) {
        stream_end_ = true;
      } else if (code == Z_BUF_ERROR) {
        // No progress: more input to come, or the data ran out early (then
        // Finish says so).
        if (stream_.avail_in == 0 && consumed_ < compressed_) continue;
        break;
      } else if (code != Z_OK) {
        return absl::DataLossError(
            absl::StrCat(where_, ": corrupt deflate data: ",
                         stream_.msg != nullptr ? stream_.msg : "error"));
      }
    }
    return done;
  }

  const std::string where_;
  const int fd_;
  const uint64_t data_offset_;
  const uint64_t compressed_;
  const uint64_t uncompressed_;
  const bool deflated_;
  const uint32_t crc_expected_;
  uLong crc_ = 0;
  uint64_t produced_ = 0;
  uint64_t consumed_ = 0;
  z_stream stream_;
  bool inflating_ = false;
  bool stream_end_ = false;
  char input_[1 << 16];
};

}  // namespace

absl::StatusOr<std::unique_ptr<ZipArchive>> ZipArchive::Open(
    const std::string& path) {
  NAS_ASSIGN_OR_RETURN(const OpenedFile opened, OpenRegularFile(path));
  std::unique_ptr<ZipArchive> archive(
      new ZipArchive(path, opened.fd, opened.size));
  NAS_RETURN_IF_ERROR(archive->ReadDirectory());
  return archive;
}

ZipArchive::~ZipArchive() { close(fd_); }

absl::Status ZipArchive::ReadDirectory() {
  auto invalid = [&](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", message));
  };
  // The end record is the last 22 bytes, before a comment of up to 64 KiB.
  const size_t tail_size =
      static_cast<size_t>(std::min<int64_t>(size_, kEndBytes + 0xffff));
  std::string tail(tail_size, '\0');
  if (tail_size < kEndBytes ||
      !ReadAt(fd_, size_ - tail_size, tail_size, tail.data())) {
    return invalid("not a zip archive (too short)");
  }
  size_t end = std::string::npos;
  for (size_t i = tail_size - kEndBytes + 1; i-- > 0;) {
    if (Le32(&tail[i]) == kEndSignature) {
      end = i;
      break;
    }
  }
  if (end == std::string::npos)
    return invalid("not a zip archive (no end record)");
  const char* record = &tail[end];
  const uint16_t entries = Le16(record + 10);
  const uint32_t directory_size = Le32(record + 12);
  const uint32_t directory_offset = Le32(record + 16);
  if (Le16(record + 4) != 0 || Le16(record + 6) != 0 ||
      Le16(record + 8) != entries) {
    return invalid("a zip archive over several disks is not supported");
  }
  if (entries == 0xffff || directory_size == 0xffffffff ||
      directory_offset == 0xffffffff) {
    return invalid(
        "a ZIP64 archive (over 4 GiB or 65,535 entries) is not "
        "supported");
  }
  const uint64_t end_offset = static_cast<uint64_t>(size_) - tail_size + end;
  if (uint64_t{directory_offset} + directory_size > end_offset ||
      directory_size > kMaxDirectoryBytes) {
    return invalid("corrupt zip directory (it lies outside the file)");
  }
  std::string directory(directory_size, '\0');
  if (!ReadAt(fd_, directory_offset, directory_size, directory.data())) {
    return invalid("corrupt zip directory (short read)");
  }
  directory_offset_ = directory_offset;
  return ParseDirectory(directory, entries);
}

absl::Status ZipArchive::ParseDirectory(const std::string& directory,
                                        uint64_t count) {
  auto invalid = [&](absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": corrupt zip directory: ", message));
  };
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (at + kDirectoryBytes > directory.size() ||
        Le32(&directory[at]) != kDirectorySignature) {
      return invalid(
          absl::StrCat("entry ", i + 1, " is not where it should be"));
    }
    const char* p = &directory[at];
    Entry entry;
    entry.flags = Le16(p + 8);
    entry.method = Le16(p + 10);
    entry.crc = Le32(p + 16);
    entry.compressed = Le32(p + 20);
    entry.uncompressed = Le32(p + 24);
    entry.local_offset = Le32(p + 42);
    const size_t name = Le16(p + 28), extra = Le16(p + 30),
                 comment = Le16(p + 32);
    if (at + kDirectoryBytes + name + extra + comment > directory.size()) {
      return invalid(absl::StrCat("entry ", i + 1, " runs past the directory"));
    }
    entry.name.assign(p + kDirectoryBytes, name);
    // A ZIP64 extra field holds the sizes that did not fit in 32 bits.
    const char* field = p + kDirectoryBytes + name;
    const char* fields_end = field + extra;
    while (field + 4 <= fields_end) {
      const uint16_t id = Le16(field), length = Le16(field + 2);
      const char* value = field + 4;
      const char* value_end = std::min(value + length, fields_end);
      if (id == 0x0001) {
        for (uint64_t* size :
             {&entry.uncompressed, &entry.compressed, &entry.local_offset}) {
          if (*size != 0xffffffff) continue;
          if (value + 8 > value_end) return invalid("short ZIP64 field");
          *size = Le64(value);
          value += 8;
        }
      }
      field += 4 + length;
    }
    entries_.push_back(std::move(entry));
    at += kDirectoryBytes + name + extra + comment;
  }
  return absl::OkStatus();
}

std::vector<std::string> ZipArchive::Names() const {
  std::vector<std::string> names;
  for (const Entry& entry : entries_) names.push_back(entry.name);
  return names;
}

bool ZipArchive::Has(const std::string& name) const {
  for (const Entry& entry : entries_) {
    if (entry.name == name) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<ByteSource>> ZipArchive::OpenEntry(
    const std::string& name) const {
  const std::string where = absl::StrCat(path_, ": ", name);
  auto invalid = [&](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
  };
  const Entry* entry = nullptr;
  for (const Entry& e : entries_) {
    if (e.name == name) entry = &e;
  }
  if (entry == nullptr) return invalid("no such entry in the archive");
  if (entry->flags & 1) return invalid("encrypted entries are not supported");
  if (entry->method != kStored && entry->method != kDeflated) {
    return invalid(absl::StrCat("compression method ", entry->method,
                                " is not supported (stored or deflated only)"));
  }
  char local[kLocalBytes];
  if (entry->local_offset > directory_offset_ ||
      directory_offset_ - entry->local_offset < kLocalBytes ||
      !ReadAt(fd_, entry->local_offset, kLocalBytes, local) ||
      Le32(local) != kLocalSignature) {
    return invalid(
        "corrupt zip entry (no local header where the directory says)");
  }
  const uint64_t data =
      entry->local_offset + kLocalBytes + Le16(local + 26) + Le16(local + 28);
  if (data > directory_offset_ ||
      entry->compressed > directory_offset_ - data) {
    return invalid(absl::StrCat("the zip directory says ", entry->compressed,
                                " compressed bytes, more than the file holds"));
  }
  if (entry->method == kStored && entry->compressed != entry->uncompressed) {
    return invalid(absl::StrCat("stored entry of ", entry->compressed,
                                " bytes claims ", entry->uncompressed,
                                " uncompressed"));
  }
  // Deflate expands at most 1032-fold (plus a few bytes for tiny streams).
  if (entry->method == kDeflated &&
      entry->uncompressed / kMaxGzipExpansion > entry->compressed + 16) {
    return invalid(absl::StrCat("the zip directory says ", entry->uncompressed,
                                " bytes from ", entry->compressed,
                                " compressed, more than deflate can hold"));
  }
  return std::unique_ptr<ByteSource>(
      new EntrySource(where, fd_, data, entry->compressed, entry->uncompressed,
                      entry->method, entry->crc));
}

}  // namespace nas::data
