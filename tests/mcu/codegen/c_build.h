#ifndef NAS_TESTS_MCU_CODEGEN_C_BUILD_H_
#define NAS_TESTS_MCU_CODEGEN_C_BUILD_H_

// What the exporter's tests do with a generated library: temporary
// folders, shell commands with their output, and the compiler command
// lines the library must pass (host gcc, Arm's cross-compiler).

#include <string>
#include <vector>

#include "mcu/codegen/c_library.h"

namespace nas::testing {

struct CommandResult {
  int exit_code = -1;  // -1: could not run; 128 + signal when killed.
  std::string output;  // stdout and stderr together.
};

// Runs `command` with /bin/sh, capturing both streams.
CommandResult RunCommand(const std::string& command);

// A new empty folder under the system's temporary folder.
std::string MakeTempDir();
// Removes `dir` and everything under it.
void RemoveTree(const std::string& dir);
// The whole file ("" when missing).
std::string ReadFile(const std::string& path);
// Names of the entries of `dir`, sorted.
std::vector<std::string> ListDir(const std::string& dir);

// The library's C sources to compile (model.c, the runtime's .c, and
// main.c when `with_main`), relative to its folder.
std::vector<std::string> CSources(const std::vector<mcu::GeneratedFile>& files, bool with_main);

// `cd DIR && gcc -std=c99 -Wall -Wextra -Werror -O2 ... -o tinynas_example
// && ./tinynas_example`.
CommandResult BuildAndRunOnHost(const std::string& dir,
                                const std::vector<mcu::GeneratedFile>& files);

// Compiles the library and main.c for a Cortex-M4 (-mcpu=cortex-m4 -mthumb
// -Os -std=c99 -Wall -Wextra -Werror -c) into DIR/arm/; exit code 127 with
// a message naming scripts/install_deps.sh when arm-none-eabi-gcc is
// missing.
CommandResult CompileForCortexM4(const std::string& dir,
                                 const std::vector<mcu::GeneratedFile>& files);

}  // namespace nas::testing

#endif  // NAS_TESTS_MCU_CODEGEN_C_BUILD_H_
