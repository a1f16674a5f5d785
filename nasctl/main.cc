// nasctl: the command-line client of the tinynas controller.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "nasctl/commands.h"

namespace {

// The terminal's width: the tty's own, else $COLUMNS, else 80.
int TerminalColumns() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  const char* columns = std::getenv("COLUMNS");
  int value = 0;
  if (columns != nullptr && absl::SimpleAtoi(columns, &value) && value > 0) return value;
  return 80;
}

// The locale's character set is UTF-8 (the first of LC_ALL, LC_CTYPE and
// LANG that is set decides).
bool Utf8Locale() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const std::string lower = absl::AsciiStrToLower(value);
    return absl::StrContains(lower, "utf-8") || absl::StrContains(lower, "utf8");
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  nas::nasctl::Environment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.out_is_tty = isatty(STDOUT_FILENO) == 1;
  if (env.out_is_tty) env.terminal_columns = TerminalColumns();
  env.unicode = Utf8Locale();
  const char* controller = std::getenv("TINYNAS_CONTROLLER");
  if (controller != nullptr && controller[0] != '\0') env.default_controller = controller;
  const char* token = std::getenv("TINYNAS_TOKEN");
  if (token != nullptr) env.default_token = token;
  const char* tls_ca = std::getenv("TINYNAS_TLS_CA");
  if (tls_ca != nullptr) env.default_tls_ca = tls_ca;
  env.now_ms = [] { return absl::ToUnixMillis(absl::Now()); };
  std::vector<std::string> args(argv + 1, argv + argc);
  const int code = nas::nasctl::RunNasctl(args, env);
  std::cout.flush();
  return code;
}
