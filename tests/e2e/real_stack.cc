#include "tests/e2e/real_stack.h"

#include <stdlib.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"

namespace nas::testing {

void RealStackTest::SetUp() {
  char dir[] = "/tmp/nasstackXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  dir_ = dir;
}

void RealStackTest::TearDown() {
  std::vector<pid_t> pids(pids_.rbegin(), pids_.rend());
  TearDownProcesses(pids, dir_, logs_, HasFailure());
}

void RealStackTest::StartController(const std::vector<std::string>& flags) {
  std::vector<std::string> args = {
      "--db=" + PostgresEnvironment::NewDatabaseUri(), "--listen=127.0.0.1:0",
      "--port_file=" + dir_ + "/port", "--metrics_listen=127.0.0.1:0",
      std::string("--data_root=") + TINYNAS_SOURCE_DIR + "/data", "--insecure"};
  args.insert(args.end(), flags.begin(), flags.end());
  logs_.push_back("controller.log");
  pids_.push_back(SpawnProcess(NAS_CONTROLLER_BINARY, args, dir_ + "/controller.log"));
  const int port = ReadPort(dir_ + "/port", absl::Seconds(30));
  ASSERT_GT(port, 0) << Slurp(dir_ + "/controller.log");
  address_ = absl::StrCat("127.0.0.1:", port);
}

void RealStackTest::StartWorker(const std::string& name) {
  const std::string log = name + ".log";
  logs_.push_back(log);
  pids_.push_back(SpawnProcess(NAS_WORKER_BINARY,
                               {"--controller=" + address_, "--slots=1", "--threads=1",
                                "--name=" + name, "--metrics_listen=none", "--insecure"},
                               dir_ + "/" + log));
}

int RealStackTest::Nasctl(const std::string& args, std::string* output) {
  return RunCommand(absl::StrCat("timeout 120 ", NAS_NASCTL_BINARY, " --insecure --controller=",
                                 address_, " ", args),
                    output);
}

pid_t RealStackTest::SpawnNasctl(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {"--insecure", "--controller=" + address_};
  all.insert(all.end(), args.begin(), args.end());
  logs_.push_back(log);
  const pid_t pid = SpawnProcess(NAS_NASCTL_BINARY, all, dir_ + "/" + log);
  pids_.push_back(pid);
  return pid;
}

int RealStackTest::WaitFor(pid_t pid, absl::Duration timeout) {
  const int status = WaitExit(pid, timeout);
  if (status >= 0) pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
  return status;
}

}  // namespace nas::testing
