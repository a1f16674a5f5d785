#include "worker/dataset_readers.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace nas::worker {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // ubyte, 3 dimensions.
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // ubyte, 1 dimension.

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
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::string data;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(file, buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      if (code == Z_ERRNO) {
        return absl::InternalError(
            absl::StrCat(path, ": read failed: ", std::strerror(errno)));
      }
      return absl::DataLossError(
          absl::StrCat(path, ": corrupt gzip data: ", message));
    }
    if (n == 0) break;
    data.append(buffer, n);
  }
  int code = 0;
  const std::string message = gzerror(file, &code);
  gzclose(file);
  if (code != Z_OK) {  // E.g. Z_BUF_ERROR: the stream ended early.
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt or truncated gzip data: ", message));
  }
  return data;
}

absl::StatusOr<IdxImages> ParseIdxImages(absl::string_view bytes,
                                         const std::string& path) {
  auto header = ReadIdxHeader(bytes, path, kIdxImagesMagic, 3);
  if (!header.ok()) return header.status();
  IdxImages images;
  images.count = (*header)[0];
  images.rows = (*header)[1];
  images.cols = (*header)[2];
  if (images.count == 0 || images.rows == 0 || images.cols == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX header has a zero dimension (", images.count,
                     " x ", images.rows, " x ", images.cols, ")"));
  }
  const absl::Status size = CheckPayloadSize(
      bytes, path, 16, images.count * images.rows * images.cols);
  if (!size.ok()) return size;
  images.pixels.assign(bytes.begin() + 16, bytes.end());
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
