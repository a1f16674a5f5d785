#include "common/data/gz_input.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 16;

}  // namespace

absl::StatusOr<std::unique_ptr<GzInput>> GzInput::Open(
    const std::string& path) {
  NAS_ASSIGN_OR_RETURN(const OpenedFile opened, OpenRegularFile(path));
  const int fd = opened.fd;
  unsigned char magic[2] = {0, 0};
  const bool gzip =
      pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  const int64_t size = opened.size;
  gzFile file = gzdopen(fd, "rb");  // Owns fd from here on.
  if (file == nullptr) {
    close(fd);
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  gzbuffer(file, 1 << 17);
  return std::unique_ptr<GzInput>(
      new GzInput(path, file, gzip ? size * kMaxGzipExpansion : size));
}

GzInput::GzInput(std::string path, gzFile file, int64_t max_bytes)
    : path_(std::move(path)), file_(file), max_bytes_(max_bytes) {}

GzInput::~GzInput() { gzclose(file_); }

absl::StatusOr<size_t> GzInput::Read(void* out, size_t size) {
  constexpr size_t kMaxChunk = size_t{1} << 30;  // gzread counts in int.
  size_t done = 0;
  while (done < size) {
    const size_t chunk = std::min(size - done, kMaxChunk);
    const int n = gzread(file_, static_cast<char*>(out) + done,
                         static_cast<unsigned>(chunk));
    if (n < 0) return ReadError();
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::Status GzInput::Finish() {
  int code = 0;
  const std::string message = gzerror(file_, &code);
  if (code == Z_OK) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(path_, ": corrupt or truncated gzip data: ", message));
}

absl::Status GzInput::ReadError() {
  int code = 0;
  const std::string message = gzerror(file_, &code);
  if (code == Z_ERRNO) {
    return absl::InternalError(
        absl::StrCat(path_, ": read failed: ", std::strerror(errno)));
  }
  return absl::DataLossError(
      absl::StrCat(path_, ": corrupt gzip data: ", message));
}

absl::StatusOr<std::string> ReadMaybeGzipFile(const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(path));
  std::string data;
  char buffer[kChunkBytes];
  while (true) {
    NAS_ASSIGN_OR_RETURN(size_t n, in->Read(buffer, sizeof(buffer)));
    if (n == 0) break;
    data.append(buffer, n);
  }
  NAS_RETURN_IF_ERROR(in->Finish());
  return data;
}

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(
    const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(path));
  return std::unique_ptr<LineReader>(new LineReader(std::move(in)));
}

absl::StatusOr<bool> LineReader::Fill() {
  if (at_end_) return false;
  // Drop the lines already returned before growing the buffer.
  buffer_.erase(0, start_);
  start_ = 0;
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kChunkBytes);
  NAS_ASSIGN_OR_RETURN(size_t n,
                       input_->Read(buffer_.data() + old_size, kChunkBytes));
  buffer_.resize(old_size + n);
  if (n == 0) {
    at_end_ = true;
    NAS_RETURN_IF_ERROR(input_->Finish());
    return false;
  }
  return true;
}

absl::StatusOr<bool> LineReader::Next(absl::string_view* line) {
  size_t searched = start_;
  while (true) {
    const size_t newline = buffer_.find('\n', searched);
    const bool complete = newline != std::string::npos;
    if (!complete) {
      searched = buffer_.size();
      if (searched - start_ > kMaxLineBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat(path(), ": line ", line_number_ + 1, ": longer than ",
                         kMaxLineBytes >> 20, " MiB (not a text file?)"));
      }
      const size_t before = start_;
      NAS_ASSIGN_OR_RETURN(bool more, Fill());
      searched -= before;  // Fill moved the unread part to the front.
      if (more) continue;
      if (start_ == buffer_.size()) return false;  // No last partial line.
    }
    const size_t end = complete ? newline : buffer_.size();
    absl::string_view text(buffer_.data() + start_, end - start_);
    start_ = complete ? end + 1 : buffer_.size();
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (++line_number_ == 1 && absl::StartsWith(text, "\xEF\xBB\xBF")) {
      text.remove_prefix(3);
    }
    *line = text;
    return true;
  }
}

}  // namespace nas::data
