#include "worker/process_setup.h"

#include <malloc.h>
#include <sched.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace nas::worker {
namespace {

constexpr int kMmapThreshold = 32 << 20;   // glibc's maximum on 64-bit.
constexpr int kTrimThreshold = 256 << 20;

// The CPU quota of one cgroup v2 folder in cores, or 0 for none.
double CgroupQuota(const std::string& folder) {
  std::ifstream in(folder + "/cpu.max");
  std::string quota, period;
  if (!(in >> quota >> period) || quota == "max") return 0;
  double q = 0, p = 0;
  if (!absl::SimpleAtod(quota, &q) || !absl::SimpleAtod(period, &p) || q <= 0 || p <= 0) {
    return 0;
  }
  return q / p;
}

// The smallest CPU quota of the process's cgroup and its parents, 0 if none.
double CgroupCpuLimit() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "0::")) path = line.substr(3);
  }
  double limit = 0;
  while (true) {
    const double quota = CgroupQuota(absl::StrCat("/sys/fs/cgroup", path));
    if (quota > 0) limit = limit > 0 ? std::min(limit, quota) : quota;
    if (path.empty() || path == "/") break;
    const size_t slash = path.rfind('/');
    path = slash == std::string::npos ? "" : path.substr(0, slash);
  }
  return limit;
}

}  // namespace

std::string PrepareTrainingProcess() {
  std::string said;
  if (getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    said = absl::StrCat("malloc mmap threshold ", kMmapThreshold >> 20, " MiB");
  } else {
    said = absl::StrCat("MALLOC_MMAP_THRESHOLD_=", getenv("MALLOC_MMAP_THRESHOLD_"));
  }
  if (getenv("MALLOC_TRIM_THRESHOLD_") == nullptr) {
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
    absl::StrAppend(&said, ", trim threshold ", kTrimThreshold >> 20, " MiB");
  } else {
    absl::StrAppend(&said, ", MALLOC_TRIM_THRESHOLD_=", getenv("MALLOC_TRIM_THRESHOLD_"));
  }
  return said;
}

int UsableCores() {
  int cores = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::thread::hardware_concurrency());
  const double limit = CgroupCpuLimit();
  if (limit > 0) cores = std::min(cores, static_cast<int>(std::ceil(limit)));
  return std::max(1, cores);
}

}  // namespace nas::worker
