#ifndef NAS_NASCTL_COMMANDS_H_
#define NAS_NASCTL_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace nas::nasctl {

// What a nasctl run takes from the outside world, injected so tests can
// capture the output and fix the clock. The streams are borrowed.
struct Environment {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // `out` is a terminal: `watch` redraws its progress line in place with
  // '\r' as a progress bar (and a 1 s ticker) instead of printing a line
  // per change.
  bool out_is_tty = false;
  // The terminal's width and whether it shows UTF-8 (the bar's blocks);
  // main reads them from the terminal and the locale.
  int terminal_columns = 80;
  bool unicode = false;
  // Used when --controller is not given ($TINYNAS_CONTROLLER or
  // localhost:50051 in main).
  std::string default_controller = "localhost:50051";
  // Used when neither --token nor --token_file is given ($TINYNAS_TOKEN in
  // main), and when --tls_ca is absent ($TINYNAS_TLS_CA in main).
  std::string default_token;
  std::string default_tls_ca;
  std::function<int64_t()> now_ms;  // Unix milliseconds.
};

// Runs one nasctl command line (argv without the program name) and returns
// the process exit code (see Usage()). Errors are reported as one line
// "nasctl: <what>: <why>" on env.err; nothing here throws or aborts on bad
// input or an unreachable controller.
int RunNasctl(const std::vector<std::string>& args, const Environment& env);

// Exit code for a failed command: 2 for InvalidArgument (bad usage or
// input, including a spec the controller refused), 1 for anything else.
int ExitCodeFor(const absl::Status& status);

// Writes "nasctl: <message>" to `err`; continuation lines of a multi-line
// message (e.g. every problem of a refused spec) are indented.
void PrintError(const absl::Status& status, std::ostream* err);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_COMMANDS_H_
