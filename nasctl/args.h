#ifndef NAS_NASCTL_ARGS_H_
#define NAS_NASCTL_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/tls_files.h"

namespace nas::nasctl {

// Exit codes of the nasctl binary (also listed in Usage()).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;            // Server, network or I/O error.
inline constexpr int kExitUsage = 2;            // Bad command line or input.
inline constexpr int kExitConstraints = 3;      // analyze: does not fit.
inline constexpr int kExitSearchFailed = 4;     // watch: search FAILED.
inline constexpr int kExitSearchCancelled = 5;  // watch: search CANCELLED.

// Options that every command accepts, before or after the command name.
struct GlobalOptions {
  std::string controller;  // host:port of nas-controller.
  bool json = false;       // Machine-readable output.
  absl::Duration timeout = absl::Seconds(10);  // Deadline of one RPC.
  ClientTlsFlags tls;      // --tls_ca, --tls_cert, --tls_key, --insecure.
  std::string token;       // --token: bearer token for the search API.
  std::string token_file;  // --token_file: a file holding the token.
};

// A parsed nasctl command line. Plain value type.
struct Invocation {
  GlobalOptions global;
  std::string command;             // "submit", "watch", ...; empty with help.
  std::vector<std::string> args;   // Positional arguments after the command.
  bool help = false;               // --help / -h / `help` was given.
  // Command options (each is only accepted by the commands that use it).
  bool watch = false;              // submit --watch
  std::string state;               // trials --state
  std::string device;              // pareto/analyze --device
  std::string input = "1x28x28";   // analyze --input
  int classes = 10;                // analyze --classes
  std::string output;              // export/report -o/--output
  std::string format = "torchscript";  // export --format: "torchscript" or "c"
  bool force = false;              // export --force: replace a non-empty folder
  int top = 20;                    // policy --top: Q entries to show.
};

// Parses argv[1..] (without the program name). `default_controller` is used
// when --controller is absent (main passes $TINYNAS_CONTROLLER or
// localhost:50051). Returns InvalidArgument naming the bad word: unknown
// command or option, an option the command does not take, a missing or
// malformed value, or the wrong number of positional arguments.
absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args,
                                     absl::string_view default_controller);

// Parses a positive decimal id ("search id", "trial id"); InvalidArgument
// naming `what` otherwise.
absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what);

// The help text printed by `nasctl --help`.
std::string Usage();

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_ARGS_H_
