#include "tests/integration/tls_material.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/credentials.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"

namespace nas::testing {

absl::StatusOr<TlsMaterial> TlsMaterial::Make(const std::string& dir) {
  std::string output;
  const int code = RunCommand(
      absl::StrCat(TINYNAS_SOURCE_DIR, "/scripts/make_certs.sh '", dir, "'"), &output);
  if (code != 0) {
    return absl::InternalError(absl::StrCat("make_certs.sh exited ", code, ": ", output));
  }
  TlsMaterial material;
  material.dir = dir;
  material.token = std::string(absl::StripAsciiWhitespace(Slurp(material.tokens_file())));
  if (material.token.empty()) return absl::InternalError("make_certs.sh wrote no token");
  return material;
}

std::vector<std::string> TlsMaterial::ControllerFlags() const {
  return {"--tls_cert=" + Path("server.pem"), "--tls_key=" + Path("server.key"),
          "--tls_client_ca=" + ca(), "--api_tokens_file=" + tokens_file()};
}

std::vector<std::string> TlsMaterial::WorkerFlags() const {
  return {"--tls_ca=" + ca(), "--tls_cert=" + Path("worker.pem"),
          "--tls_key=" + Path("worker.key")};
}

std::shared_ptr<grpc::ChannelCredentials> TlsMaterial::Credentials(
    const std::string& client, const std::string& bearer) const {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Slurp(ca());
  if (!client.empty()) {
    options.pem_cert_chain = Slurp(Path(client + ".pem"));
    options.pem_private_key = Slurp(Path(client + ".key"));
  }
  std::shared_ptr<grpc::ChannelCredentials> channel = grpc::SslCredentials(options);
  if (bearer.empty()) return channel;
  return grpc::CompositeChannelCredentials(channel, grpc::AccessTokenCredentials(bearer));
}

}  // namespace nas::testing
