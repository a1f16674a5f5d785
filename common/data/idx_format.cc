#include "common/data/idx_format.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/data/gz_input.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // ubyte, 3 dimensions.
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // ubyte, 1 dimension.

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Reads the magic number and `dims` big-endian sizes.
absl::StatusOr<std::vector<int64_t>> ReadHeader(GzInput* in, uint32_t magic,
                                                int dims) {
  unsigned char bytes[16];
  const size_t size = 4 * (1 + dims);
  NAS_ASSIGN_OR_RETURN(size_t got, in->Read(bytes, size));
  if (got < size) {
    NAS_RETURN_IF_ERROR(in->Finish());  // A truncated stream first.
    return absl::InvalidArgumentError(
        absl::StrCat(in->path(), ": IDX file too short (", got,
                     " bytes, the header needs ", size, ")"));
  }
  const uint32_t found = BigEndian32(bytes);
  if (found != magic) {
    return absl::InvalidArgumentError(absl::StrCat(
        in->path(), ": bad IDX magic 0x", absl::Hex(found, absl::kZeroPad8),
        ", expected 0x", absl::Hex(magic, absl::kZeroPad8)));
  }
  std::vector<int64_t> words;
  for (int i = 1; i <= dims; ++i) words.push_back(BigEndian32(bytes + 4 * i));
  return words;
}

// Reads exactly `size` payload bytes into `out` (or counts them when `out`
// is null) and checks that nothing follows. The vector grows with the data,
// so a stream shorter than its header says never costs the claimed size.
absl::Status ReadPayload(GzInput* in, int64_t size, std::vector<uint8_t>* out,
                         const char* what) {
  constexpr int64_t kChunk = int64_t{1} << 24;
  int64_t done = 0;
  std::vector<uint8_t> scratch;
  if (out != nullptr) out->reserve(static_cast<size_t>(size));
  while (done < size) {
    const int64_t chunk = std::min(kChunk, size - done);
    uint8_t* target = nullptr;
    if (out != nullptr) {
      out->resize(static_cast<size_t>(done + chunk));
      target = out->data() + done;
    } else {
      scratch.resize(static_cast<size_t>(chunk));
      target = scratch.data();
    }
    NAS_ASSIGN_OR_RETURN(size_t got,
                         in->Read(target, static_cast<size_t>(chunk)));
    done += static_cast<int64_t>(got);
    if (static_cast<int64_t>(got) < chunk) break;
  }
  NAS_ASSIGN_OR_RETURN(int64_t rest, CountRest(in));
  NAS_RETURN_IF_ERROR(in->Finish());
  if (done + rest != size) {
    return absl::InvalidArgumentError(
        absl::StrCat(in->path(), ": IDX payload has ", done + rest, " ", what,
                     ", the header says ", size));
  }
  if (out != nullptr) out->resize(static_cast<size_t>(done));
  return absl::OkStatus();
}

// Refuses a header claim beyond what the file can hold, before allocating.
absl::Status CheckClaim(const GzInput& in, absl::uint128 payload,
                        int header_bytes, const std::string& claim) {
  if (payload + header_bytes > absl::uint128(in.MaxBytes())) {
    return absl::InvalidArgumentError(
        absl::StrCat(in.path(), ": IDX header says ", claim,
                     ", more than a file of its size can hold"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadLabels(const std::string& path,
                                                    int64_t images) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(path));
  NAS_ASSIGN_OR_RETURN(std::vector<int64_t> header,
                       ReadHeader(in.get(), kIdxLabelsMagic, 1));
  const int64_t count = header[0];
  NAS_RETURN_IF_ERROR(
      CheckClaim(*in, count, 8, absl::StrCat(count, " labels")));
  std::vector<uint8_t> bytes;
  NAS_RETURN_IF_ERROR(ReadPayload(in.get(), count, &bytes, "labels"));
  if (count != images) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", count, " labels for ", images, " images"));
  }
  std::vector<std::string> labels;
  labels.reserve(bytes.size());
  for (uint8_t byte : bytes) labels.push_back(absl::StrCat(byte));
  return labels;
}

}  // namespace

absl::StatusOr<RawSamples> ReadIdx(const DataFile& file,
                                   const v1::DatasetSpec& /*spec*/,
                                   const ReadOptions& options) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(file.path));
  NAS_ASSIGN_OR_RETURN(std::vector<int64_t> header,
                       ReadHeader(in.get(), kIdxImagesMagic, 3));
  const int64_t count = header[0], rows = header[1], cols = header[2];
  if (count == 0 || rows == 0 || cols == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path, ": IDX header has a zero dimension (", count,
                     " x ", rows, " x ", cols, ")"));
  }
  // Checked before allocating: a header may claim up to 2^96 pixels.
  const absl::uint128 payload = absl::uint128(count) * rows * cols;
  NAS_RETURN_IF_ERROR(
      CheckClaim(*in, payload, 16,
                 absl::StrCat(count, " x ", rows, " x ", cols, " pixels")));
  RawSamples samples;
  samples.shape = {1, rows, cols};
  samples.count = count;
  samples.eight_bit = true;
  NAS_RETURN_IF_ERROR(
      ReadPayload(in.get(), static_cast<int64_t>(payload),
                  options.keep_values ? &samples.pixels : nullptr, "pixels"));
  NAS_ASSIGN_OR_RETURN(samples.labels, ReadLabels(file.labels_path, count));
  return samples;
}

}  // namespace nas::data
