#ifndef NAS_CONTROLLER_AUTH_H_
#define NAS_CONTROLLER_AUTH_H_

// Who may call what on the controller's one gRPC port, when it serves TLS:
//   - grpc.health.v1.Health: anyone (probes);
//   - nas.v1.WorkerService: only a peer whose client certificate the
//     controller's CA signed (mutual TLS) for the role of a worker;
//   - everything else (nas.v1.SearchService, reflection): a bearer token
//     from --api_tokens_file in "authorization: Bearer <token>" metadata,
//     or a client certificate the CA signed for the role of an API client.
// A certificate's roles are the organizational units (OU) of its subject:
// "worker" and "api" (scripts/make_certs.sh writes one into each client
// certificate). So a worker's certificate, on a machine that trains
// untrusted models, cannot run or cancel searches, and nasctl's cannot
// report results.
// Anything else gets UNAUTHENTICATED with a message saying what is missing.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/server_credentials.h"

namespace nas::controller {

// The bearer tokens the search API accepts. Keeps only their SHA-256
// digests, and compares digests in constant time, so neither the tokens'
// text nor their length leaks through timing. Immutable after Parse;
// thread-safe.
class ApiTokens {
 public:
  // Shortest token accepted: 16 characters (make_certs.sh writes 64).
  static constexpr size_t kMinTokenChars = 16;

  // One token per line; blank lines and lines starting with '#' are
  // skipped. InvalidArgument when a token is shorter than kMinTokenChars
  // or holds white space or control characters, or when there is none.
  static absl::StatusOr<ApiTokens> Parse(absl::string_view text);

  // Whether `token` is one of the tokens.
  bool Matches(absl::string_view token) const;
  size_t size() const { return digests_.size(); }

 private:
  std::vector<std::array<unsigned char, 32>> digests_;
};

// What the peer's client certificate admits it to. Plain value type.
struct PeerCertificate {
  bool certified = false;  // It sent a certificate the client CA signed.
  bool worker = false;     // Its subject holds OU=worker.
  bool api = false;        // Its subject holds OU=api.
  std::string subject;     // As gRPC printed it, for messages.
};

// The roles of a CA-signed certificate whose subject gRPC printed as
// `subject` (its "x509_subject" property, RFC 2253: attributes separated by
// ',' or '+', a backslash escaping the next character). A value printed
// with hex escapes never matches a role.
PeerCertificate CertificateFromSubject(absl::string_view subject);

// The decision for one call of the method `path` ("/package.Service/Method")
// from `peer` with the value of its "authorization" metadata (nullopt when
// absent). OK or Unauthenticated with the reason.
absl::Status AuthorizeCall(absl::string_view path, const PeerCertificate& peer,
                           std::optional<absl::string_view> authorization,
                           const ApiTokens& tokens);

// What the controller needs to serve TLS, as read from its flags.
struct TlsServerOptions {
  std::string cert_chain;   // PEM, the server's certificate chain.
  std::string private_key;  // PEM, its key.
  std::string client_ca;    // PEM, the CA that signs worker certificates.
  ApiTokens tokens;         // May be empty: then only certificates count.
};

// Reads the files of --tls_cert, --tls_key, --tls_client_ca and (when
// `tokens_path` is not empty) --api_tokens_file. InvalidArgument naming the
// flag and file for anything unreadable or malformed.
absl::StatusOr<TlsServerOptions> LoadTlsServerOptions(
    const std::string& cert_path, const std::string& key_path,
    const std::string& client_ca_path, const std::string& tokens_path);

// TLS server credentials that request a client certificate and verify it
// against `options.client_ca` when one is sent (a client without one still
// connects, for the token-authenticated search API and for health checks),
// and apply AuthorizeCall to every call.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const TlsServerOptions& options);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_AUTH_H_
