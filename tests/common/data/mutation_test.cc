// Valid files of every format, mutated at random (bytes flipped, cut,
// repeated, big-number words planted): every read ends in samples or in an
// error that names the file, never a crash, a hang or a huge allocation.
// Run under ASan/UBSan too (see the report of issue 16).
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data/formats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/data/test_files.h"
#include "tests/status_matchers.h"

namespace nas::data {
namespace {

using ::nas::data::testing::Read;
using ::nas::data::testing::RunPython;
using ::nas::data::testing::Spec;
using ::nas::data::testing::TempDir;

constexpr int kMutantsPerSeed = 150;

// Seeds: small valid files, the labels file (IDX, .npy) in `labels`.
struct Seed {
  v1::DatasetFormat format;
  std::string data;
  std::string labels;
  std::vector<int64_t> shape;
};

std::string BigEndian(std::initializer_list<uint32_t> words) {
  std::string bytes;
  for (uint32_t w : words) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<char>(w >> shift));
  }
  return bytes;
}

std::string Mutate(std::string bytes, std::mt19937* random) {
  auto pick = [&](size_t n) { return n == 0 ? 0 : (*random)() % n; };
  const int operations = 1 + pick(4);
  for (int i = 0; i < operations; ++i) {
    const size_t at = pick(bytes.size() + 1);
    switch (pick(5)) {
      case 0:  // Flip a byte.
        if (at < bytes.size())
          bytes[at] = static_cast<char>((*random)() & 0xff);
        break;
      case 1:  // Cut the rest.
        bytes.resize(at);
        break;
      case 2:  // Repeat a stretch.
        bytes.insert(at, bytes.substr(pick(bytes.size() + 1), pick(64)));
        break;
      case 3:  // A big number: 0xffffffff or 0x7fffffff.
        bytes.replace(at, std::min<size_t>(4, bytes.size() - at),
                      pick(2) ? "\xff\xff\xff\xff" : "\x7f\xff\xff\xff");
        break;
      default:  // A separator or a special text.
        bytes.insert(
            at, std::vector<std::string>{",", ":", "\t", "\n", "?", "nan", "\"",
                                         "@data\n", "1e999"}[pick(9)]);
    }
  }
  return bytes;
}

constexpr char kNumpySeeds[] = R"(
import numpy as np
x = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
np.savez('s.npz', x=x, y=np.array(['a', 'b', 'a', 'b']))
np.savez_compressed('c.npz', x=x, y=np.arange(4))
np.save('x.npy', x)
np.save('y.npy', np.arange(4))
)";

std::string ReadFileBytes(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  std::string bytes;
  if (file == nullptr) return bytes;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    bytes.append(buffer, n);
  std::fclose(file);
  return bytes;
}

TEST(MutationTest, MutatedFilesAreReadOrRefusedNamingTheFile) {
  TempDir dir;
  ASSERT_EQ(RunPython(dir, kNumpySeeds), "");
  const std::vector<Seed> seeds = {
      {v1::UCR_TSV, "1\t0.5\t-1e-2\t3\n2\t1\t2\t3\n", "", {1, 3}},
      {v1::UCR_TSV, "1 2 3 4 5 6 7\n2 1 1 1 1 1 1\n", "", {2, 3}},
      {v1::TS,
       "#c\n@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n"
       "1,2,3:4,5,6:a\n1,2:3,4:b\n",
       "",
       {2, 3}},
      {v1::CSV, "x1,label,x2\n1,\"a\",2\n3,b,4\n", "", {1, 2}},
      {v1::IDX,
       BigEndian({0x803, 2, 2, 2}) + std::string(8, '\x07'),
       BigEndian({0x801, 2}) + "\x01\x02",
       {1, 2, 2}},
      {v1::NUMPY, ReadFileBytes(dir.Path("s.npz")), "", {2, 3}},
      {v1::NUMPY, ReadFileBytes(dir.Path("c.npz")), "", {2, 3}},
      {v1::NUMPY,
       ReadFileBytes(dir.Path("x.npy")),
       ReadFileBytes(dir.Path("y.npy")),
       {2, 3}},
  };
  std::mt19937 random(16);
  int refused = 0, read = 0;
  for (size_t s = 0; s < seeds.size(); ++s) {
    const Seed& seed = seeds[s];
    ASSERT_FALSE(seed.data.empty()) << s;
    for (int m = 0; m < kMutantsPerSeed; ++m) {
      const bool gzip = m % 3 == 0;
      const std::string name = absl::StrCat("seed", s, gzip ? ".gz" : "");
      v1::DatasetSpec spec =
          Spec(seed.format, dir.Write(name, Mutate(seed.data, &random), gzip),
               seed.shape, 2);
      if (!seed.labels.empty()) {
        const bool mutate = m % 2 == 1;
        spec.set_train_labels_path(dir.Write(
            "labels", mutate ? Mutate(seed.labels, &random) : seed.labels));
      }
      for (bool keep : {true, false}) {
        const auto result = Read(spec, FileRole::kTrain, keep);
        if (result.ok()) {
          ++read;
          EXPECT_EQ(static_cast<int64_t>(result->labels.size()), result->count);
          if (keep && !result->eight_bit) {
            EXPECT_EQ(static_cast<int64_t>(result->values.size()),
                      result->count * result->sample_size());
          }
          continue;
        }
        ++refused;
        EXPECT_THAT(std::string(result.status().message()),
                    ::testing::AnyOf(::testing::HasSubstr(spec.train_path()),
                                     ::testing::HasSubstr(dir.Path("labels"))))
            << "seed " << s << " mutant " << m << ": " << result.status();
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(read, 0);
}

}  // namespace
}  // namespace nas::data
