// Fuzzes the search-spec reader: any bytes as YAML through parsing and the
// semantic checks. It must answer a spec or an InvalidArgument, never crash;
// a spec it accepts must be accepted again, unchanged, when completed anew.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/datasets.h"
#include "common/spec.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  static const std::string* const data_root =
      new std::string(nas::DefaultDataRoot());
  absl::StatusOr<nas::v1::SearchSpec> spec =
      nas::ParseAndCompleteSearchSpecYaml(yaml, *data_root);
  if (!spec.ok()) {
    if (spec.status().code() != absl::StatusCode::kInvalidArgument ||
        spec.status().message().empty()) {
      std::abort();  // Bad input must be named as such.
    }
    return 0;
  }
  // Completing a completed spec is a no-op (spec.h).
  absl::StatusOr<nas::v1::SearchSpec> again =
      nas::CompleteSearchSpec(*spec, *data_root);
  if (!again.ok() ||
      !google::protobuf::util::MessageDifferencer::Equals(*spec, *again)) {
    std::abort();
  }
  return 0;
}
