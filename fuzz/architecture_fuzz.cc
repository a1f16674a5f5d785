// Fuzzes the architecture decoders: any bytes as architecture text (integer
// list, string form, YAML/JSON) and as raw integer codes. Whatever parses
// must print and parse back to the same canonical network, and where shapes
// can be inferred, its integer encoding must decode to the same network.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/architecture.h"
#include "google/protobuf/util/message_differencer.h"

namespace {

using ::google::protobuf::util::MessageDifferencer;

bool SameCanonical(const nas::v1::Architecture& a,
                   const nas::v1::Architecture& b) {
  return MessageDifferencer::Equals(nas::CanonicalArchitecture(a),
                                    nas::CanonicalArchitecture(b));
}

void CheckRoundTrips(const nas::v1::Architecture& arch) {
  absl::StatusOr<nas::v1::Architecture> reparsed =
      nas::ParseArchitecture(nas::ArchitectureToString(arch));
  if (!reparsed.ok() || !SameCanonical(arch, *reparsed)) std::abort();
  for (const nas::v1::TensorShape& input :
       {nas::MakeShape({1, 28, 28}), nas::MakeShape({1, 140}),
        nas::MakeShape({3, 32, 32})}) {
    absl::StatusOr<std::vector<int32_t>> codes =
        nas::EncodeIntegers(arch, input);
    if (!codes.ok()) continue;
    absl::StatusOr<nas::v1::Architecture> decoded = nas::DecodeIntegers(*codes);
    if (!decoded.ok() || !SameCanonical(arch, *decoded)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<nas::v1::Architecture> arch = nas::ParseArchitecture(text);
  if (arch.ok()) {
    CheckRoundTrips(*arch);
  } else if (arch.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  std::vector<int32_t> codes(size / sizeof(int32_t));
  if (!codes.empty()) std::memcpy(codes.data(), data, codes.size() * 4);
  absl::StatusOr<nas::v1::Architecture> decoded = nas::DecodeIntegers(codes);
  if (decoded.ok()) {
    CheckRoundTrips(*decoded);
  } else if (decoded.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  return 0;
}
