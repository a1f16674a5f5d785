#include "worker/host_threads.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace nas::worker {
namespace {

constexpr absl::Duration kReadInterval = absl::Seconds(1);
constexpr int kMaxWanted = 1 << 16;

// The file this process writes, or "" (with a warning) when the folder
// cannot be made or written.
std::string WriteOwnFile(const std::string& folder, int wanted) {
  // Sticky and writable by all, as /tmp: workers of several users share it.
  if (mkdir(folder.c_str(), 01777) == 0) chmod(folder.c_str(), 01777);
  const std::string file = absl::StrCat(folder, "/", getpid());
  std::ofstream out(file, std::ios::trunc);
  out << wanted << "\n";
  if (!out.good()) {
    LOG(WARNING) << "cannot write " << file
                 << ": threads are not shared with other workers on this host";
    return "";
  }
  return file;
}

bool ProcessAlive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

HostThreads::HostThreads(std::string folder, int wanted, int cores)
    : folder_(std::move(folder)),
      file_(WriteOwnFile(folder_, wanted)),
      wanted_(wanted),
      cores_(std::max(1, cores)),
      total_(wanted) {}

HostThreads::~HostThreads() {
  if (!file_.empty()) std::remove(file_.c_str());
}

int HostThreads::ReadTotal() const {
  if (file_.empty()) return wanted_;
  int total = wanted_;
  DIR* dir = opendir(folder_.c_str());
  if (dir == nullptr) return total;
  const pid_t self = getpid();
  while (const dirent* entry = readdir(dir)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0 || pid == self) continue;
    const std::string path = absl::StrCat(folder_, "/", entry->d_name);
    if (!ProcessAlive(pid)) {
      std::remove(path.c_str());  // A worker that died without cleaning up.
      continue;
    }
    std::ifstream in(path);
    int wanted = 0;
    if (in >> wanted && wanted > 0 && wanted <= kMaxWanted) total += wanted;
  }
  closedir(dir);
  return total;
}

void HostThreads::RefreshLocked() {
  const absl::Time now = absl::Now();
  if (now - read_at_ < kReadInterval) return;
  total_ = ReadTotal();
  read_at_ = now;
}

int HostThreads::total_wanted() {
  absl::MutexLock lock(&mu_);
  RefreshLocked();
  return total_;
}

int HostThreads::ThreadsPerSlot(int threads) {
  absl::MutexLock lock(&mu_);
  RefreshLocked();
  const int share = total_ <= cores_ ? threads
                                     : std::max(1, threads * cores_ / total_);
  if (share != threads && total_ != last_logged_) {
    LOG(INFO) << "the workers on this host want " << total_ << " threads for "
              << cores_ << " cores: " << share << " thread(s) per slot instead of "
              << threads;
  }
  last_logged_ = share != threads ? total_ : 0;
  return share;
}

}  // namespace nas::worker
