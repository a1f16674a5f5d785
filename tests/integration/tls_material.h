#ifndef NAS_TESTS_INTEGRATION_TLS_MATERIAL_H_
#define NAS_TESTS_INTEGRATION_TLS_MATERIAL_H_

// TLS material for tests that run the real binaries over TLS: a CA, server
// and client certificates and an API token made by the project's own
// scripts/make_certs.sh, and the flags and gRPC credentials that use them.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace nas::testing {

// The files scripts/make_certs.sh writes into one folder. Plain value type.
struct TlsMaterial {
  std::string dir;
  std::string token;  // The content of api_tokens.

  std::string Path(const std::string& name) const { return dir + "/" + name; }
  std::string ca() const { return Path("ca.pem"); }
  std::string tokens_file() const { return Path("api_tokens"); }

  // Runs scripts/make_certs.sh DIR (a fresh CA when DIR is new).
  static absl::StatusOr<TlsMaterial> Make(const std::string& dir);

  // nas-controller flags serving TLS with these files: mutual TLS for
  // workers, the token for the search API.
  std::vector<std::string> ControllerFlags() const;
  // nas-worker flags presenting worker.pem.
  std::vector<std::string> WorkerFlags() const;

  // Client credentials trusting ca.pem, presenting the certificate `client`
  // ("worker", "nasctl"; none when empty), and sending `bearer` as
  // "authorization: Bearer ..." when not empty.
  std::shared_ptr<grpc::ChannelCredentials> Credentials(
      const std::string& client, const std::string& bearer) const;
};

}  // namespace nas::testing

#endif  // NAS_TESTS_INTEGRATION_TLS_MATERIAL_H_
