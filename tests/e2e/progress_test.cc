// Progress of a running trial, end to end: the real nas-worker trains one
// long ECG5000 trial (many short epochs) and sends its progress in every
// heartbeat (every 200 ms here); the real controller keeps the latest per
// running trial; the real nasctl shows it in `trials --state running` (table
// and JSON) and streams it in `watch --json`.
#include <stdlib.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/real_stack.h"
#include "tests/integration/subprocess.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kEpochs = 60;

// One network (every choice fixed), trained 60 epochs of 57 batches: a few
// seconds, so that a 200 ms heartbeat reports it many times.
std::string Spec() {
  return absl::StrCat(
      "name: progress\n"
      "dataset: {name: ecg5000, train_subset: 450, validation_subset: 50}\n"
      "device: nrf52840\n"
      "space:\n"
      "  layer_types: [CONV1D]\n"
      "  channels: [16]\n"
      "  kernels: [5]\n"
      "  min_layers: 2\n"
      "  max_layers: 2\n"
      "  max_dense_layers: 0\n"
      "training: {epochs: ", kEpochs, ", batch_size: 8, latency_runs: 2}\n"
      "budget: {max_trials: 1}\n"
      "seed: 5\n");
}

using ProgressTest = RealStackTest;

TEST_F(ProgressTest, RunningTrialShowsItsEpochsInTrialsAndWatch) {
  StartController({"--heartbeat_ms=200"});
  StartWorker("progress-worker");

  std::ofstream(dir_ + "/spec.yaml") << Spec();
  std::string output;
  ASSERT_EQ(Nasctl("submit " + dir_ + "/spec.yaml --json", &output), 0) << output;
  const std::string id = nlohmann::json::parse(output)["id"].get<std::string>();
  const pid_t watch = SpawnNasctl({"--json", "watch", id}, "watch.log");

  // `trials --state running`, until its trial has trained a few epochs.
  nlohmann::json running;
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (absl::Now() < deadline) {
    ASSERT_EQ(Nasctl("--json trials " + id + " --state running", &output), 0) << output;
    const nlohmann::json trials = nlohmann::json::parse(output)["trials"];
    if (!trials.empty() && trials[0].contains("progress") &&
        trials[0]["progress"]["epoch"].get<int>() >= 3) {
      running = trials[0];
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(running.is_null()) << "no progress in trials --state running: " << output;
  const nlohmann::json& p = running["progress"];
  EXPECT_EQ(running["state"], "TRIAL_RUNNING");
  EXPECT_EQ(p["phase"], "TRAINING");
  EXPECT_EQ(p["epochs"], kEpochs);
  EXPECT_EQ(p["batches_per_epoch"], "57");  // int64 in JSON: a string.
  EXPECT_GT(p["samples_per_second"].get<double>(), 0);
  EXPECT_GT(p["elapsed_seconds"].get<double>(), 0);
  EXPECT_GT(p["remaining_seconds"].get<double>(), 0);
  EXPECT_GT(p["loss"].get<double>(), 0);
  EXPECT_EQ(p["worker"], "progress-worker");
  EXPECT_EQ(p["trial_id"], running["id"]);

  // The table shows it too.
  ASSERT_EQ(Nasctl("trials " + id + " --state running", &output), 0) << output;
  EXPECT_THAT(output, HasSubstr("RUNNING"));
  EXPECT_THAT(output, HasSubstr(absl::StrCat("/", kEpochs, " batch ")));
  EXPECT_THAT(output, HasSubstr("samples/s"));

  // watch --json ends with the search, having streamed several epochs of
  // the running trial, in order.
  ASSERT_EQ(WaitFor(watch, absl::Seconds(120)), 0) << Slurp(dir_ + "/watch.log");
  std::istringstream lines(Slurp(dir_ + "/watch.log"));
  std::set<int> epochs;
  int last_epoch = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    const nlohmann::json update = nlohmann::json::parse(line);
    if (!update.contains("running")) continue;
    for (const nlohmann::json& r : update["running"]) {
      const int epoch = r["epoch"].get<int>();
      EXPECT_GE(epoch, last_epoch);
      last_epoch = epoch;
      epochs.insert(epoch);
    }
  }
  EXPECT_GE(epochs.size(), 3u) << Slurp(dir_ + "/watch.log");
  EXPECT_GE(last_epoch, 3);
  EXPECT_THAT(Slurp(dir_ + "/watch.log"), HasSubstr("SEARCH_SUCCEEDED"));

  // Once the trial is done, nothing is shown as running.
  ASSERT_EQ(Nasctl("--json trials " + id + " --state running", &output), 0) << output;
  EXPECT_TRUE(nlohmann::json::parse(output)["trials"].empty()) << output;
}

}  // namespace
}  // namespace nas::testing
