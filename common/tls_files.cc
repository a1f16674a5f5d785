#include "common/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/security/credentials.h"

namespace nas {
namespace {

constexpr std::streamoff kMaxFileBytes = 1 << 20;

absl::Status FlagError(absl::string_view flag, const std::string& path,
                       absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", path, ": ", why));
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The PEM certificates in `pem`, in order (none when it holds none).
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(pem);
  while (bio != nullptr) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();  // The end of the text also leaves an error queued.
  return certs;
}

}  // namespace

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": empty path"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return FlagError(flag, path, absl::StrCat("cannot read: ", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return FlagError(flag, path, "cannot read (not a regular file?)");
  if (size > kMaxFileBytes) {
    return FlagError(flag, path, absl::StrCat("too large (", size, " bytes)"));
  }
  in.seekg(0);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return FlagError(flag, path, "read error");
  return text.str();
}

absl::StatusOr<std::string> ReadCertificates(absl::string_view flag,
                                             const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::string pem, ReadFlagFile(flag, path));
  if (ParseCertificates(pem).empty()) {
    return FlagError(flag, path, "holds no PEM certificate");
  }
  return pem;
}

absl::StatusOr<KeyPairPem> ReadKeyPair(absl::string_view cert_flag,
                                       const std::string& cert_path,
                                       absl::string_view key_flag,
                                       const std::string& key_path) {
  KeyPairPem pair;
  NAS_ASSIGN_OR_RETURN(pair.cert_chain, ReadCertificates(cert_flag, cert_path));
  NAS_ASSIGN_OR_RETURN(pair.private_key, ReadFlagFile(key_flag, key_path));
  BioPtr bio = MemoryBio(pair.private_key);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return FlagError(key_flag, key_path, "holds no unencrypted PEM private key");
  }
  const std::vector<X509Ptr> certs = ParseCertificates(pair.cert_chain);
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return FlagError(key_flag, key_path,
                     absl::StrCat("is not the key of the certificate in ", cert_path));
  }
  return pair;
}

absl::StatusOr<std::string> ReadTokenFile(absl::string_view flag, const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::string text, ReadFlagFile(flag, path));
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.empty()) return FlagError(flag, path, "is empty");
  for (char c : token) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        !absl::ascii_isprint(static_cast<unsigned char>(c))) {
      return FlagError(flag, path, "must hold one token (one line without spaces)");
    }
  }
  return std::string(token);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsFlags& flags) {
  if (flags.insecure) {
    if (AnyTlsFile(flags)) {
      return absl::InvalidArgumentError(
          "--insecure (plain text) cannot be combined with --tls_ca, --tls_cert or "
          "--tls_key");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (flags.cert.empty() != flags.key.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert and --tls_key go together (the client certificate and its key)");
  }
  grpc::SslCredentialsOptions options;
  if (!flags.ca.empty()) {
    NAS_ASSIGN_OR_RETURN(options.pem_root_certs, ReadCertificates("tls_ca", flags.ca));
  }
  if (!flags.cert.empty()) {
    NAS_ASSIGN_OR_RETURN(KeyPairPem pair,
                         ReadKeyPair("tls_cert", flags.cert, "tls_key", flags.key));
    options.pem_cert_chain = std::move(pair.cert_chain);
    options.pem_private_key = std::move(pair.private_key);
  }
  return grpc::SslCredentials(options);
}

}  // namespace nas
