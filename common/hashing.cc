#include "common/hashing.h"

#include <openssl/evp.h>

#include <memory>

#include "common/logging.h"

namespace nas {

std::string Sha256Hex(absl::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // These only fail on allocation failure or a broken OpenSSL build: an
  // invariant, not an input error.
  CHECK(ctx != nullptr);
  CHECK_EQ(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr), 1);
  CHECK_EQ(EVP_DigestUpdate(ctx.get(), data.data(), data.size()), 1);
  CHECK_EQ(EVP_DigestFinal_ex(ctx.get(), digest, &length), 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace nas
