#ifndef NAS_TESTS_E2E_REAL_STACK_H_
#define NAS_TESTS_E2E_REAL_STACK_H_

// A test on the real binaries: nas-controller on the ctest PostgreSQL (plain
// text, a database of its own), nas-worker processes and the nasctl binary,
// in a scratch folder that is removed afterwards (the logs printed when the
// test failed). The binaries' paths come from the compile definitions
// NAS_CONTROLLER_BINARY, NAS_WORKER_BINARY and NAS_NASCTL_BINARY.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace nas::testing {

class RealStackTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the controller with `flags` added; sets address_ (fails the test
  // when no port appears).
  void StartController(const std::vector<std::string>& flags = {});
  // Starts a one-slot, one-thread worker named `name`.
  void StartWorker(const std::string& name);
  // Runs nasctl against the controller; its exit status, and its stdout and
  // stderr in `output`.
  int Nasctl(const std::string& args, std::string* output);
  // Starts nasctl with `args` in the background, its output to `log`.
  pid_t SpawnNasctl(const std::vector<std::string>& args, const std::string& log);
  // WaitExit for a process this fixture started; one that exited is not
  // stopped again at tear-down.
  int WaitFor(pid_t pid, absl::Duration timeout);

  std::string dir_;
  std::string address_;
  std::vector<pid_t> pids_;  // Stopped at tear-down, last first.
  std::vector<std::string> logs_;
};

}  // namespace nas::testing

#endif  // NAS_TESTS_E2E_REAL_STACK_H_
