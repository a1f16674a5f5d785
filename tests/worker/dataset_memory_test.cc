// The worker's memory for a data set: Fashion-MNIST costs its bytes once per
// process, whatever the specs that name it. The figures (resident set before
// and after, peak) are logged for docs/reliability.md; the check is against
// the size of the compact form, not a timing.

#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/worker/test_data.h"
#include "worker/dataset_cache.h"

namespace nas::worker {
namespace {

constexpr int64_t kFashionSamples = 70000;  // 60000 train + 10000 test.
constexpr int64_t kPixelBytes = kFashionSamples * 28 * 28;

// A field of /proc/self/status in bytes ("VmRSS:  123 kB"); -1 if absent.
int64_t ProcStatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int64_t kb = 0;
    if (parts.size() == 3 && parts[0] == field + ":" && absl::SimpleAtoi(parts[1], &kb)) {
      return kb * 1024;
    }
  }
  return -1;
}

double Mb(int64_t bytes) { return bytes / 1e6; }

TEST(DatasetMemoryTest, FashionMnistIsHeldOnceAsBytes) {
  const int64_t rss_before = ProcStatusBytes("VmRSS");
  ASSERT_GT(rss_before, 0);
  DatasetCache cache;
  // Two slots ask for the data set in two forms (with and without the test
  // files), as two searches sharing a worker would.
  v1::DatasetSpec with_test = testing::FashionMnistSpec();
  with_test.set_evaluate_test(true);
  const v1::DatasetSpec without_test = testing::FashionMnistSpec();
  std::shared_ptr<const Dataset> a;
  std::shared_ptr<const Dataset> b;
  std::thread slot_a([&] { a = cache.Get(with_test).value_or(nullptr); });
  std::thread slot_b([&] { b = cache.Get(without_test).value_or(nullptr); });
  slot_a.join();
  slot_b.join();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const int64_t rss_after = ProcStatusBytes("VmRSS");
  const int64_t peak = ProcStatusBytes("VmHWM");
  std::cout << "worker memory: VmRSS " << Mb(rss_before) << " MB before, "
            << Mb(rss_after) << " MB after loading fashion-mnist twice (+"
            << Mb(rss_after - rss_before) << " MB; pixels " << Mb(kPixelBytes)
            << " MB as bytes, " << Mb(kPixelBytes * 4)
            << " MB as floats); VmHWM " << Mb(peak) << " MB\n";
  // Exactly N*28*28 bytes, once: both data sets read the same storage.
  EXPECT_EQ(a->train->inputs->pixels.size(), 60000u * 28 * 28);
  EXPECT_EQ(a->test->inputs->pixels.size(), 10000u * 28 * 28);
  EXPECT_EQ(b->train->inputs->pixels.data(), a->train->inputs->pixels.data());
  // The process grew by about the bytes (plus labels and allocator slack),
  // well short of a second copy (+47 MB) or of floats (4x).
  EXPECT_LT(rss_after - rss_before, kPixelBytes * 5 / 4);
}

}  // namespace
}  // namespace nas::worker
