#include "worker/dataset_readers.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace nas::worker {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // ubyte, 3 dimensions.
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // ubyte, 1 dimension.

// Deflate expands at most 1032-fold: no gzip file holds more than this many
// times its own size.
constexpr int64_t kMaxGzipExpansion = 1032;

// A gzip or plain file open for reading (zlib reads plain files unchanged);
// closed on destruction.
class GzInput {
 public:
  // NotFound when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<GzInput>> Open(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) {
      return absl::NotFoundError(
          absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
    }
    return std::unique_ptr<GzInput>(new GzInput(path, file));
  }
  GzInput(const GzInput&) = delete;
  GzInput& operator=(const GzInput&) = delete;
  ~GzInput() { gzclose(file_); }

  // Reads up to `size` bytes into `out`; fewer only at the end of the data.
  // DataLoss for corrupt gzip data, Internal for a failed read.
  absl::StatusOr<size_t> Read(void* out, size_t size) {
    constexpr size_t kMaxChunk = 1 << 30;  // gzread counts in int.
    size_t done = 0;
    while (done < size) {
      const size_t chunk = std::min(size - done, kMaxChunk);
      const int n = gzread(file_, static_cast<char*>(out) + done,
                           static_cast<unsigned>(chunk));
      if (n < 0) return ReadError();
      if (n == 0) break;
      done += n;
    }
    return done;
  }

  // After the data ran out: DataLoss when the stream ended early (e.g.
  // Z_BUF_ERROR for a truncated file), else OK.
  absl::Status Finish() {
    int code = 0;
    const std::string message = gzerror(file_, &code);
    if (code == Z_OK) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat(path_, ": corrupt or truncated gzip data: ", message));
  }

 private:
  GzInput(std::string path, gzFile file) : path_(std::move(path)), file_(file) {}

  absl::Status ReadError() {
    int code = 0;
    const std::string message = gzerror(file_, &code);
    if (code == Z_ERRNO) {
      return absl::InternalError(
          absl::StrCat(path_, ": read failed: ", std::strerror(errno)));
    }
    return absl::DataLossError(absl::StrCat(path_, ": corrupt gzip data: ", message));
  }

  const std::string path_;
  gzFile file_;
};

// Bytes left in `in` (read and dropped).
absl::StatusOr<int64_t> CountRest(GzInput* in) {
  char buffer[1 << 16];
  int64_t rest = 0;
  while (true) {
    NAS_ASSIGN_OR_RETURN(size_t n, in->Read(buffer, sizeof(buffer)));
    if (n == 0) return rest;
    rest += n;
  }
}

uint32_t ReadBigEndian32(absl::string_view bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks the magic number and returns the big-endian header words after it.
absl::StatusOr<std::vector<int64_t>> ReadIdxHeader(absl::string_view bytes,
                                                   const std::string& path,
                                                   uint32_t magic, int dims) {
  const size_t header = 4 * (1 + dims);
  if (bytes.size() < header) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX file too short (", bytes.size(),
                     " bytes, header needs ", header, ")"));
  }
  const uint32_t found = ReadBigEndian32(bytes, 0);
  if (found != magic) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": bad IDX magic 0x", absl::Hex(found, absl::kZeroPad8),
        ", expected 0x", absl::Hex(magic, absl::kZeroPad8)));
  }
  std::vector<int64_t> words;
  for (int i = 0; i < dims; ++i) words.push_back(ReadBigEndian32(bytes, 4 * (i + 1)));
  return words;
}

absl::Status CheckPayloadSize(absl::string_view bytes, const std::string& path,
                              size_t header, int64_t expected) {
  const int64_t payload = static_cast<int64_t>(bytes.size() - header);
  if (payload != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX payload has ", payload, " bytes, header says ",
                     expected));
  }
  return absl::OkStatus();
}

// Parses one UCR row into `rows`; `line_number` is 1-based for messages.
absl::Status ParseUcrRow(absl::string_view line, int64_t line_number,
                         const std::string& path, UcrRows* rows) {
  const char separator = line.find('\t') != absl::string_view::npos ? '\t' : ',';
  std::vector<absl::string_view> fields = absl::StrSplit(line, separator);
  const std::string label(absl::StripAsciiWhitespace(fields[0]));
  if (label.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": line ", line_number, ": empty label"));
  }
  const int64_t length = static_cast<int64_t>(fields.size()) - 1;
  if (rows->labels.empty()) {
    if (length == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", line_number, ": no values after the label"));
    }
    rows->length = length;
  } else if (length != rows->length) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": line ", line_number, ": ", length,
                     " values, expected ", rows->length, " (ragged rows)"));
  }
  for (int64_t i = 1; i <= length; ++i) {
    float value = 0;
    if (!absl::SimpleAtof(fields[i], &value) || !std::isfinite(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": line ", line_number, ", field ", i + 1, ": '", fields[i],
          "' is not a finite number"));
    }
    rows->values.push_back(value);
  }
  rows->labels.push_back(label);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadMaybeGzipFile(const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(path));
  std::string data;
  char buffer[1 << 16];
  while (true) {
    NAS_ASSIGN_OR_RETURN(size_t n, in->Read(buffer, sizeof(buffer)));
    if (n == 0) break;
    data.append(buffer, n);
  }
  NAS_RETURN_IF_ERROR(in->Finish());
  return data;
}

absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(path));
  char header_bytes[16];
  NAS_ASSIGN_OR_RETURN(size_t got, in->Read(header_bytes, sizeof(header_bytes)));
  if (got < sizeof(header_bytes)) {
    NAS_RETURN_IF_ERROR(in->Finish());  // A truncated stream first.
  }
  NAS_ASSIGN_OR_RETURN(
      std::vector<int64_t> header,
      ReadIdxHeader(absl::string_view(header_bytes, got), path, kIdxImagesMagic, 3));
  IdxImages images;
  images.count = header[0];
  images.rows = header[1];
  images.cols = header[2];
  if (images.count == 0 || images.rows == 0 || images.cols == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX header has a zero dimension (", images.count,
                     " x ", images.rows, " x ", images.cols, ")"));
  }
  // Checked before allocating: a header may claim up to 2^96 pixels.
  const absl::uint128 payload =
      absl::uint128(images.count) * images.rows * images.cols;
  std::error_code error;
  const auto file_size = std::filesystem::file_size(path, error);
  if (!error && payload > absl::uint128(file_size) * kMaxGzipExpansion) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": IDX header says ", images.count, " x ", images.rows, " x ",
        images.cols, " pixels, more than a file of ", file_size,
        " bytes can hold"));
  }
  const auto expected = static_cast<int64_t>(payload);
  images.pixels.resize(expected);
  NAS_ASSIGN_OR_RETURN(got, in->Read(images.pixels.data(), expected));
  NAS_ASSIGN_OR_RETURN(int64_t rest, CountRest(in.get()));
  NAS_RETURN_IF_ERROR(in->Finish());
  if (static_cast<int64_t>(got) + rest != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX payload has ", got + rest, " bytes, header says ",
                     expected));
  }
  return images;
}

absl::StatusOr<std::vector<int32_t>> ParseIdxLabels(absl::string_view bytes,
                                                    const std::string& path) {
  auto header = ReadIdxHeader(bytes, path, kIdxLabelsMagic, 1);
  if (!header.ok()) return header.status();
  const absl::Status size = CheckPayloadSize(bytes, path, 8, (*header)[0]);
  if (!size.ok()) return size;
  std::vector<int32_t> labels;
  labels.reserve((*header)[0]);
  for (size_t i = 8; i < bytes.size(); ++i) {
    labels.push_back(static_cast<unsigned char>(bytes[i]));
  }
  return labels;
}

absl::StatusOr<UcrRows> ParseUcrTsv(absl::string_view text,
                                    const std::string& path) {
  UcrRows rows;
  int64_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const absl::Status row = ParseUcrRow(line, line_number, path, &rows);
    if (!row.ok()) return row;
  }
  if (rows.labels.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no samples"));
  }
  rows.values.shrink_to_fit();  // Kept for the worker's life: no growth slack.
  return rows;
}

std::vector<std::string> SortedDistinctLabels(
    const std::vector<std::string>& labels) {
  std::set<std::string> distinct(labels.begin(), labels.end());
  std::vector<std::pair<double, std::string>> numeric;
  for (const std::string& label : distinct) {
    double value = 0;
    if (!absl::SimpleAtod(label, &value)) {
      return std::vector<std::string>(distinct.begin(), distinct.end());
    }
    numeric.emplace_back(value, label);
  }
  std::sort(numeric.begin(), numeric.end());
  std::vector<std::string> sorted;
  for (auto& entry : numeric) sorted.push_back(std::move(entry.second));
  return sorted;
}

}  // namespace nas::worker
