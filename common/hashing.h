#ifndef NAS_COMMON_HASHING_H_
#define NAS_COMMON_HASHING_H_

// SHA-256 through OpenSSL's EVP interface. Thread-safe.

#include <string>

#include "absl/strings/string_view.h"

namespace nas {

// Lowercase hex digest (64 chars) of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace nas

#endif  // NAS_COMMON_HASHING_H_
