#include "controller/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/tls_files.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace nas::controller {
namespace {

constexpr absl::string_view kHealthPrefix = "/grpc.health.v1.Health/";
constexpr absl::string_view kWorkerPrefix = "/nas.v1.WorkerService/";
constexpr absl::string_view kBearer = "Bearer ";

std::array<unsigned char, 32> Sha256(absl::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

bool IsTokenChar(char c) {
  return absl::ascii_isgraph(static_cast<unsigned char>(c));
}

// Applies AuthorizeCall to every call. The method arrives as the ":path"
// pseudo-header among the metadata; the certificate check is the
// connection's (IsPeerAuthenticated holds only for a peer certificate that
// chained to the client CA). The token is consumed, so that no handler or
// log ever sees it.
class BearerOrCertificateProcessor : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerOrCertificateProcessor(ApiTokens tokens) : tokens_(std::move(tokens)) {}

  // Hashing a token is quick: run inline.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed, OutputMetadata* /*response*/) override {
    absl::string_view path;
    std::optional<absl::string_view> authorization;
    for (const auto& [key, value] : metadata) {
      const absl::string_view k(key.data(), key.size());
      const absl::string_view v(value.data(), value.size());
      if (k == ":path") path = v;
      if (k == "authorization") {
        authorization = v;
        consumed->emplace(std::string(k), std::string(v));
      }
    }
    PeerCertificate peer;
    if (context->IsPeerAuthenticated()) {
      const std::vector<grpc::string_ref> subject =
          context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
      peer = CertificateFromSubject(
          subject.empty() ? absl::string_view()
                          : absl::string_view(subject[0].data(), subject[0].size()));
    }
    return ToGrpcStatus(AuthorizeCall(path, peer, authorization, tokens_));
  }

 private:
  const ApiTokens tokens_;
};

}  // namespace

absl::StatusOr<ApiTokens> ApiTokens::Parse(absl::string_view text) {
  ApiTokens tokens;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    for (char c : line) {
      if (!IsTokenChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "line ", line_number, ": a token is one word of printable characters"));
      }
    }
    if (line.size() < kMinTokenChars) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number, ": token shorter than ", kMinTokenChars, " characters"));
    }
    tokens.digests_.push_back(Sha256(line));
  }
  if (tokens.digests_.empty()) return absl::InvalidArgumentError("no token in the file");
  return tokens;
}

bool ApiTokens::Matches(absl::string_view token) const {
  const std::array<unsigned char, 32> digest = Sha256(token);
  // Every digest is compared, so the time does not tell which one matched.
  bool matched = false;
  for (const auto& known : digests_) {
    matched |= CRYPTO_memcmp(known.data(), digest.data(), digest.size()) == 0;
  }
  return matched;
}

PeerCertificate CertificateFromSubject(absl::string_view subject) {
  PeerCertificate peer;
  peer.certified = true;
  peer.subject = std::string(subject);
  std::string type;
  std::string value;
  bool in_value = false;
  auto attribute_ends = [&] {
    if (type == "OU") {
      peer.worker |= value == "worker";
      peer.api |= value == "api";
    }
    type.clear();
    value.clear();
    in_value = false;
  };
  for (size_t i = 0; i < subject.size(); ++i) {
    char c = subject[i];
    if (c == '\\' && i + 1 < subject.size()) {
      c = subject[++i];
    } else if (c == ',' || c == '+') {
      attribute_ends();
      continue;
    } else if (c == '=' && !in_value) {
      in_value = true;
      continue;
    }
    (in_value ? value : type).push_back(c);
  }
  attribute_ends();
  return peer;
}

absl::Status AuthorizeCall(absl::string_view path, const PeerCertificate& peer,
                           std::optional<absl::string_view> authorization,
                           const ApiTokens& tokens) {
  if (absl::StartsWith(path, kHealthPrefix)) return absl::OkStatus();
  if (absl::StartsWith(path, kWorkerPrefix)) {
    if (peer.worker) return absl::OkStatus();
    if (peer.certified) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the worker API needs a client certificate for a worker (OU=worker); this "
          "one's subject is '", peer.subject, "' (scripts/make_certs.sh makes worker.pem)"));
    }
    return absl::UnauthenticatedError(
        "the worker API needs a client certificate signed by the controller's CA "
        "for a worker, OU=worker (nas-worker --tls_cert/--tls_key)");
  }
  if (peer.api) return absl::OkStatus();
  if (!authorization.has_value()) {
    if (peer.certified) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the search API needs a bearer token or a client certificate for an API "
          "client (OU=api); this one's subject is '", peer.subject,
          "' (scripts/make_certs.sh makes nasctl.pem)"));
    }
    return absl::UnauthenticatedError(
        "the search API needs a bearer token ('authorization: Bearer <token>'; nasctl "
        "--token_file or $TINYNAS_TOKEN) or a client certificate signed by the "
        "controller's CA for an API client, OU=api");
  }
  if (!absl::StartsWith(*authorization, kBearer)) {
    return absl::UnauthenticatedError(
        "the authorization metadata must read 'Bearer <token>'");
  }
  if (tokens.size() == 0 || !tokens.Matches(authorization->substr(kBearer.size()))) {
    return absl::UnauthenticatedError("the bearer token is not valid for this controller");
  }
  return absl::OkStatus();
}

absl::StatusOr<TlsServerOptions> LoadTlsServerOptions(const std::string& cert_path,
                                                      const std::string& key_path,
                                                      const std::string& client_ca_path,
                                                      const std::string& tokens_path) {
  TlsServerOptions options;
  NAS_ASSIGN_OR_RETURN(KeyPairPem pair,
                       ReadKeyPair("tls_cert", cert_path, "tls_key", key_path));
  options.cert_chain = std::move(pair.cert_chain);
  options.private_key = std::move(pair.private_key);
  NAS_ASSIGN_OR_RETURN(options.client_ca, ReadCertificates("tls_client_ca", client_ca_path));
  if (!tokens_path.empty()) {
    NAS_ASSIGN_OR_RETURN(std::string text, ReadFlagFile("api_tokens_file", tokens_path));
    absl::StatusOr<ApiTokens> tokens = ApiTokens::Parse(text);
    if (!tokens.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--api_tokens_file: ", tokens_path, ": ", tokens.status().message()));
    }
    options.tokens = *std::move(tokens);
  }
  return options;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const TlsServerOptions& options) {
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = options.client_ca;
  ssl.pem_key_cert_pairs.push_back({options.private_key, options.cert_chain});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(ssl);
  credentials->SetAuthMetadataProcessor(
      std::make_shared<BearerOrCertificateProcessor>(options.tokens));
  return credentials;
}

}  // namespace nas::controller
