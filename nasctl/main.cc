// nasctl: the command-line client of the tinynas controller.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "nasctl/commands.h"

int main(int argc, char** argv) {
  nas::nasctl::Environment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.out_is_tty = isatty(STDOUT_FILENO) == 1;
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
