#ifndef NAS_COMMON_TLS_FILES_H_
#define NAS_COMMON_TLS_FILES_H_

// TLS material and bearer tokens named by command-line flags, read and
// checked up front so that a wrong file gives one line naming the flag and
// the file, not an opaque handshake failure later. Shared by the controller,
// the worker and nasctl. Functions only; thread-safe.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/credentials.h"

namespace nas {

// The text of a small file (at most 1 MiB). InvalidArgument
// "--FLAG: cannot read PATH: REASON" otherwise.
absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path);

// One or more PEM certificates (a CA bundle or a certificate chain).
// InvalidArgument when the file is unreadable or holds no certificate.
absl::StatusOr<std::string> ReadCertificates(absl::string_view flag,
                                             const std::string& path);

// A certificate chain and its PEM private key.
struct KeyPairPem {
  std::string cert_chain;
  std::string private_key;
};

// Reads `cert_path` (flag `cert_flag`) and `key_path` (flag `key_flag`);
// InvalidArgument when one is unreadable, the key is not a PEM private key,
// or the key does not belong to the first certificate.
absl::StatusOr<KeyPairPem> ReadKeyPair(absl::string_view cert_flag,
                                       const std::string& cert_path,
                                       absl::string_view key_flag,
                                       const std::string& key_path);

// The bearer token of a client: the file's one line, surrounding white
// space removed. InvalidArgument when empty or when it holds white space.
absl::StatusOr<std::string> ReadTokenFile(absl::string_view flag,
                                          const std::string& path);

// The TLS flags of a gRPC client (nas-worker, nasctl).
struct ClientTlsFlags {
  std::string ca;    // --tls_ca: CA bundle the server must chain to; empty:
                     // the system's roots.
  std::string cert;  // --tls_cert / --tls_key: client certificate, for
  std::string key;   // mutual TLS; both or neither.
  bool insecure = false;  // --insecure: plain text, no TLS at all.
};

// Whether any TLS file flag is set.
inline bool AnyTlsFile(const ClientTlsFlags& flags) {
  return !flags.ca.empty() || !flags.cert.empty() || !flags.key.empty();
}

// Channel credentials for `flags`: InsecureChannelCredentials with
// --insecure, else SSL credentials trusting --tls_ca (or the system roots)
// and presenting --tls_cert/--tls_key when given. InvalidArgument naming
// the flag for an unreadable or malformed file, --tls_cert without --tls_key
// (or the reverse), and --insecure together with TLS files.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsFlags& flags);

}  // namespace nas

#endif  // NAS_COMMON_TLS_FILES_H_
