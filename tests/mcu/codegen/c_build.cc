#include "tests/mcu/codegen/c_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nas::testing {
namespace {

constexpr char kWarnings[] = "-std=c99 -Wall -Wextra -Werror";

}  // namespace

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(absl::StrCat("(", command, ") 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "mcu_codegen_test_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

void RemoveTree(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> CSources(const std::vector<mcu::GeneratedFile>& files, bool with_main) {
  std::vector<std::string> sources = {"model.c"};
  for (const mcu::GeneratedFile& file : files) {
    if (absl::StartsWith(file.path, "runtime/") && absl::EndsWith(file.path, ".c")) {
      sources.push_back(file.path);
    }
  }
  if (with_main) sources.push_back("main.c");
  return sources;
}

CommandResult BuildAndRunOnHost(const std::string& dir,
                                const std::vector<mcu::GeneratedFile>& files) {
  return RunCommand(absl::StrCat("cd '", dir, "' && gcc ", kWarnings, " -O2 -o tinynas_example ",
                                 absl::StrJoin(CSources(files, true), " "),
                                 " && ./tinynas_example"));
}

CommandResult CompileForCortexM4(const std::string& dir,
                                 const std::vector<mcu::GeneratedFile>& files) {
  if (RunCommand("command -v arm-none-eabi-gcc").exit_code != 0) {
    return {127,
            "arm-none-eabi-gcc not found: install it with scripts/install_deps.sh "
            "(Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi)"};
  }
  std::vector<std::string> sources;
  for (const std::string& source : CSources(files, true)) sources.push_back("../" + source);
  return RunCommand(absl::StrCat("cd '", dir, "' && mkdir -p arm && cd arm && ",
                                 "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os ", kWarnings,
                                 " -c ", absl::StrJoin(sources, " ")));
}

}  // namespace nas::testing
