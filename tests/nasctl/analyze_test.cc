#include "nasctl/analyze.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/devices.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nasctl/commands.h"
#include "nasctl/format.h"
#include "nlohmann/json.hpp"
#include "tests/status_matchers.h"

namespace nas::nasctl {
namespace {

using ::nas::testing::StatusIs;
using ::testing::HasSubstr;

// LeNet-5-like on 1x28x28 (no padding): 28 -conv5-> 24 -pool2-> 12 -conv5->
// 8 -pool2-> 4, flatten 16*4*4 = 256. Params by hand:
//   conv1 6*1*5*5 + 6 = 156, conv2 16*6*5*5 + 16 = 2416,
//   fc1 256*120 + 120 = 30840, fc2 120*84 + 84 = 10164, fc3 84*10 + 10 = 850
//   total 44426.
constexpr char kLeNet[] =
    "CONV2D(6,k5) RELU MAXPOOL2D(k2) CONV2D(16,k5) RELU MAXPOOL2D(k2) "
    "LINEAR(120) RELU LINEAR(84) RELU LINEAR(10)";

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Nasctl(std::vector<std::string> args) {
  std::ostringstream out, err;
  Environment env;
  env.out = &out;
  env.err = &err;
  env.now_ms = [] { return int64_t{0}; };
  const int code = RunNasctl(args, env);
  return {code, out.str(), err.str()};
}

CostReport ReferenceCost(const std::string& arch, const char* device) {
  auto parsed = ParseArchitecture(arch);
  auto profile = FindDeviceProfile(device);
  EXPECT_TRUE(parsed.ok() && profile.ok());
  auto cost = AnalyzeCost(*parsed, MakeShape({1, 28, 28}), 10, *profile);
  EXPECT_TRUE(cost.ok()) << cost.status();
  return *cost;
}

TEST(AnalyzeTest, LeNetTotalsMatchTheCostModel) {
  NAS_ASSERT_OK_AND_ASSIGN(Analysis a, Analyze(kLeNet, "nrf52840", MakeShape({1, 28, 28}), 10));
  const CostReport ref = ReferenceCost(kLeNet, "nrf52840");
  EXPECT_EQ(a.cost.params, 44426);
  EXPECT_EQ(a.cost.params, ref.params);
  EXPECT_EQ(a.cost.flash_bytes, ref.flash_bytes);
  EXPECT_EQ(a.cost.macs, ref.macs);
  EXPECT_EQ(a.cost.peak_sram_bytes, ref.peak_sram_bytes);
  EXPECT_EQ(a.cost.layers.size(), 11u);
  EXPECT_TRUE(a.violations.empty());

  const std::string text = RenderAnalysis(a);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("params      ", FormatInteger(ref.params))));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("flash       ", FormatInteger(ref.flash_bytes), " B")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("MACs        ", FormatInteger(ref.macs))));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("peak SRAM   ", FormatInteger(ref.peak_sram_bytes))));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("arena       ", FormatInteger(ref.arena_bytes))));
  EXPECT_THAT(text, HasSubstr("CONV2D(16,k5,s1,p0)  6x12x12  16x8x8"));
  EXPECT_THAT(text, HasSubstr("fits nrf52840"));
}

TEST(AnalyzeTest, CommandExitCodes) {
  Result fits = Nasctl({"analyze", kLeNet, "--device", "nrf52840"});
  EXPECT_EQ(fits.code, 0) << fits.err;
  EXPECT_THAT(fits.out, HasSubstr("44,426"));

  // 784 * 4096 int8 weights alone are 3.1 MB: far over 1 MB of flash.
  Result too_big = Nasctl({"analyze", "LINEAR(4096) RELU LINEAR(10)", "--device", "nrf52840"});
  EXPECT_EQ(too_big.code, 3);
  EXPECT_THAT(too_big.out, HasSubstr("does NOT fit nrf52840"));
  EXPECT_THAT(too_big.out, HasSubstr("  - flash "));

  Result bad_arch = Nasctl({"analyze", "CONV9D(3)", "--device", "nrf52840"});
  EXPECT_EQ(bad_arch.code, 2);
  EXPECT_THAT(bad_arch.err, HasSubstr("nasctl: analyze: bad architecture: "));

  Result bad_device = Nasctl({"analyze", kLeNet, "--device", "esp8266"});
  EXPECT_EQ(bad_device.code, 2);
  EXPECT_THAT(bad_device.err, HasSubstr("esp8266"));

  Result bad_input = Nasctl({"analyze", kLeNet, "--device", "nrf52840", "--input", "28xA"});
  EXPECT_EQ(bad_input.code, 2);
  EXPECT_THAT(bad_input.err, HasSubstr("bad --input '28xA'"));

  // A kernel larger than the input: every problem named, exit 2.
  Result no_fit = Nasctl({"analyze", "CONV1D(8,k9) LINEAR(5)", "--device", "nrf52840",
                          "--input", "1x4", "--classes", "5"});
  EXPECT_EQ(no_fit.code, 2);
  EXPECT_THAT(no_fit.err, HasSubstr("layer 0 (CONV1D)"));
}

TEST(AnalyzeTest, ReadsAFileAndPrintsJson) {
  const std::string path =
      (std::filesystem::temp_directory_path() / absl::StrCat("nasctl_arch_", getpid(), ".yaml"))
          .string();
  std::ofstream(path) << "- {type: CONV1D, out: 8, kernel: 5}\n- {type: RELU}\n"
                         "- {type: MAXPOOL1D, kernel: 2}\n- {type: LINEAR, out: 5}\n";
  Result r = Nasctl({"analyze", path, "--device", "rp2040", "--input", "1x140", "--classes", "5",
                     "--json"});
  std::filesystem::remove(path);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);
  // conv 8*1*5 + 8 = 48; 140 -k5-> 136 -pool2-> 68; linear 8*68*5 + 5 = 2725.
  EXPECT_EQ(doc["totals"]["params"], 48 + 2725);
  EXPECT_EQ(doc["layers"].size(), 4u);
  EXPECT_EQ(doc["layers"][0]["output"], nlohmann::json({8, 136}));
  EXPECT_EQ(doc["device"]["name"], "rp2040");
  EXPECT_EQ(doc["fits"], true);
}

TEST(AnalyzeTest, ParseShape) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::TensorShape s, ParseShape("1x28x28"));
  EXPECT_EQ(ShapeToString(s), "1x28x28");
  NAS_ASSERT_OK_AND_ASSIGN(v1::TensorShape t, ParseShape("1,140"));
  EXPECT_EQ(ShapeToString(t), "1x140");
  EXPECT_THAT(ParseShape("0x3"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x3")));
  EXPECT_THAT(ParseShape("1x2x3x4"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 3")));
}

}  // namespace
}  // namespace nas::nasctl
