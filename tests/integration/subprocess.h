#ifndef NAS_TESTS_INTEGRATION_SUBPROCESS_H_
#define NAS_TESTS_INTEGRATION_SUBPROCESS_H_

// Real binaries as child processes of a test: start, wait, read the port
// they bound. Not thread-safe per pid; plain POSIX underneath.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace nas::testing {

// Starts `binary` with `args`, stdout and stderr appended to `log`; returns
// the child's pid (the child exits 127 if exec fails).
pid_t SpawnProcess(const std::string& binary,
                   const std::vector<std::string>& args,
                   const std::string& log);

// The exit status (128 + signal when killed), or -1 if it has not exited
// within `timeout`.
int WaitExit(pid_t pid, absl::Duration timeout);

// The port written to `path`, once it appears (0 on timeout).
int ReadPort(const std::string& path, absl::Duration timeout);

// The whole file ("" when missing).
std::string Slurp(const std::string& path);

// A test's processes and scratch folder, torn down: each process still
// running stopped (SIGTERM, then SIGKILL after 15 s), the logs in `dir`
// named by `logs` written to stderr when `failed` (for the test's output),
// then `dir` removed.
void TearDownProcesses(const std::vector<pid_t>& pids, const std::string& dir,
                       const std::vector<std::string>& logs, bool failed);

// A loopback TCP port that was free a moment ago (bound to port 0, then
// closed), for a server that must come back on the same port.
int FreeTcpPort();

}  // namespace nas::testing

#endif  // NAS_TESTS_INTEGRATION_SUBPROCESS_H_
