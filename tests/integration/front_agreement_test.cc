// The Pareto front of one hand-built search, as GetParetoFront answers it
// (a real controller on PostgreSQL), as the nas_search_pareto_front_size
// gauge counts it (paged out of PostgreSQL) and as `nasctl report` (the real
// binary) shows it: the three agree, and each rule of common/pareto.h
// changes the front visibly.
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/grpc_status.h"
#include "common/pareto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/metric_family.h"
#include "tests/integration/controller_fixture.h"
#include "tests/integration/pg_environment.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

constexpr char kNasctl[] = NAS_NASCTL_BINARY;

// One network of the set and what the fake worker reports for it (the
// int8 figures; the search's metric is macro_f1_int8). Flash, SRAM and MACs
// are the controller's cost model's.
struct Network {
  const char* name;
  const char* text;
  double accuracy;
  double macro_f1;
  double macro_f1_spread;
};

// ECG5000 (1x140, 5 classes) on an nRF52840. Trials are numbered in this
// order; A comes back twice at the end (CACHED repeats of trial 0): with one
// worker slot and a queue of 8, trial i is proposed only once trials
// 0..i-9 are done, so the repeats (11 and 12) find trial 0 in the cache.
const Network kNetworks[] = {
    {"A", "CONV1D(4,k3,s1,p1) RELU LINEAR(5)", 0.85, 0.80, 0.02},
    // The smallest network, below min_accuracy 0.5.
    {"S", "CONV1D(2,k3,s2,p1) RELU MAXPOOL1D(k4) LINEAR(5)", 0.30, 0.20, 0.02},
    // P has the smaller peak, but the same arena (which is larger than
    // either peak) and more flash and MACs than Q: Q dominates P.
    {"Q", "CONV1D(2,k3,s1,p1) RELU MAXPOOL1D(k2) LINEAR(5)", 0.80, 0.70, 0.02},
    {"P", "CONV1D(4,k5,s2,p1) RELU MAXPOOL1D(k2) LINEAR(5)", 0.80, 0.70, 0.02},
    // Equal in every objective (activations cost nothing); T1 is steadier.
    {"T1", "CONV1D(6,k3,s1,p1) RELU LINEAR(5)", 0.86, 0.85, 0.01},
    {"T2", "CONV1D(6,k3,s1,p1) RELU6 LINEAR(5)", 0.86, 0.85, 0.04},
    // M1 is the more accurate and smaller; M2 has the better macro-F1.
    {"M1", "CONV1D(8,k3,s1,p1) RELU LINEAR(5)", 0.92, 0.60, 0.02},
    {"M2", "CONV1D(12,k5,s1,p1) RELU LINEAR(5)", 0.88, 0.90, 0.02},
    // Larger than M2 and worse.
    {"D1", "CONV1D(16,k3,s1,p1) RELU LINEAR(5)", 0.50, 0.45, 0.02},
    {"D2", "CONV1D(16,k5,s1,p1) RELU LINEAR(5)", 0.60, 0.55, 0.02},
    {"D3", "CONV1D(16,k7,s1,p1) RELU LINEAR(5)", 0.55, 0.50, 0.02},
    {"A", "CONV1D(4,k3,s1,p1) RELU LINEAR(5)", 0.85, 0.80, 0.02},
    {"A", "CONV1D(4,k3,s1,p1) RELU LINEAR(5)", 0.85, 0.80, 0.02},
};
constexpr int kTrials = sizeof(kNetworks) / sizeof(kNetworks[0]);

std::string SpecYaml() {
  std::string yaml =
      "name: fronts\n"
      "dataset: {name: ecg5000, train_subset: 200}\n"
      "validation: {folds: 5}\n"
      "device: nrf52840\n"
      "space: {layer_types: [CONV1D], channels: [4], kernels: [3], "
      "max_layers: 2}\n"
      "training: {epochs: 1, batch_size: 32}\n"
      "constraints: {min_accuracy: 0.5}\n"
      "reward: {metric: macro_f1_int8}\n"
      "seed: 11\n";
  absl::StrAppend(&yaml, "budget: {max_trials: ", kTrials, "}\n",
                  "seed_architectures:\n");
  for (const Network& n : kNetworks)
    absl::StrAppend(&yaml, "  - \"", n.text, "\"\n");
  return yaml;
}

std::string HashOf(const char* text) {
  absl::StatusOr<v1::Architecture> arch = ParseArchitecture(text);
  EXPECT_THAT(arch, IsOk()) << text;
  return ArchitectureHash(CanonicalArchitecture(*arch));
}

class FrontAgreementTest : public ControllerFixture {
 protected:
  // What a worker would report for the network of `task`, with 5 folds.
  static v1::TrialResult WorkerResult(const v1::TrialTask& task) {
    const std::string hash = ArchitectureHash(task.architecture());
    v1::TrialResult result = Plausible(task, 0.5);
    for (const Network& n : kNetworks) {
      if (HashOf(n.text) != hash) continue;
      v1::Metrics* m = result.mutable_metrics();
      m->set_accuracy(n.accuracy);
      m->set_macro_f1(n.macro_f1);
      m->set_accuracy_int8(n.accuracy);
      m->set_macro_f1_int8(n.macro_f1);
      m->set_folds(5);
      m->set_accuracy_spread(0.03);
      m->set_macro_f1_spread(n.macro_f1_spread);
      return result;
    }
    ADD_FAILURE() << "not a network of the set: "
                  << task.architecture().DebugString();
    return result;
  }

  std::vector<v1::Trial> Pareto(int64_t search_id) {
    v1::GetParetoFrontRequest request;
    request.set_search_id(search_id);
    v1::GetParetoFrontResponse reply;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    const grpc::Status status =
        search_->GetParetoFront(&context, request, &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {reply.trials().begin(), reply.trials().end()};
  }

  // The gauge of the search, once set.
  std::optional<double> Gauge(int64_t search_id) {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != "nas_search_pareto_front_size") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          if (label.name == "search" &&
              label.value == absl::StrCat(search_id)) {
            return metric.gauge.value;
          }
        }
      }
    }
    return std::nullopt;
  }
};

TEST_F(FrontAgreementTest, RpcGaugeAndReportShowTheSameFront) {
  absl::StatusOr<v1::Search> submitted = Submit(SpecYaml());
  ASSERT_THAT(submitted, IsOk()) << submitted.status();
  v1::Search search = *submitted;
  const int64_t worker = RegisterWorker("w-1", 1);
  search = DriveSearch(search.id(), worker, 1, WorkerResult);
  ASSERT_EQ(search.state(), v1::SEARCH_SUCCEEDED) << search.message();

  // The set as stored: every seed once, in order, A's repeats CACHED from
  // trial 0 (no proposal was skipped or replaced).
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(search.id()));
  ASSERT_EQ(trials.size(), static_cast<size_t>(kTrials));
  std::map<std::string, std::vector<const v1::Trial*>> by_name;
  for (int i = 0; i < kTrials; ++i) {
    const v1::Trial& t = trials[i];
    EXPECT_EQ(t.arch_hash(), HashOf(kNetworks[i].text)) << "trial " << i;
    by_name[kNetworks[i].name].push_back(&t);
  }
  const v1::Trial& a = *by_name["A"][0];
  EXPECT_EQ(a.state(), v1::TRIAL_SUCCEEDED);
  for (int i : {11, 12}) {
    EXPECT_EQ(trials[i].state(), v1::TRIAL_CACHED) << i;
    EXPECT_EQ(trials[i].cached_from_trial_id(), a.id()) << i;
  }
  for (int i = 1; i < 11; ++i)
    EXPECT_EQ(trials[i].state(), v1::TRIAL_SUCCEEDED) << i;

  // The front: A, Q, T1, M2 (best macro-F1 first).
  const std::vector<v1::Trial> front = Pareto(search.id());
  std::vector<int64_t> front_ids;
  for (const v1::Trial& t : front) front_ids.push_back(t.id());
  EXPECT_THAT(front_ids,
              ElementsAre(by_name["M2"][0]->id(), by_name["T1"][0]->id(),
                          a.id(), by_name["Q"][0]->id()));
  // The common computation on the trials as listed agrees.
  std::vector<int64_t> computed;
  for (size_t i : ParetoFront(FrontRulesFor(search.spec()), trials)) {
    computed.push_back(trials[i].id());
  }
  EXPECT_THAT(computed, UnorderedElementsAreArray(front_ids));

  // Each rule, visible in the stored figures.
  const auto m = [&](const char* name) -> const v1::Metrics& {
    return by_name[name][0]->metrics();
  };
  // One point per architecture: A's repeats are results, but not points.
  EXPECT_EQ(trials[11].metrics().flash_bytes(), m("A").flash_bytes());
  // The floor: S is the smallest of all, yet below min_accuracy.
  for (const v1::Trial& t : trials) {
    if (t.id() != by_name["S"][0]->id()) {
      EXPECT_LT(m("S").flash_bytes(), t.metrics().flash_bytes());
      EXPECT_LT(m("S").macs(), t.metrics().macs());
    }
  }
  // SRAM as the constraints see it: P needs less peak SRAM than Q, but the
  // same arena, larger than both peaks.
  EXPECT_LT(m("P").peak_sram_bytes(), m("Q").peak_sram_bytes());
  EXPECT_GT(m("Q").arena_bytes(), m("Q").peak_sram_bytes());
  EXPECT_EQ(SramUsage(m("P")), SramUsage(m("Q")));
  EXPECT_GT(m("P").flash_bytes(), m("Q").flash_bytes());
  // The spec's metric: M1 is more accurate than M2 and smaller in every
  // resource, but M2's macro-F1 is the better.
  EXPECT_GT(DeployedAccuracy(m("M1")), DeployedAccuracy(m("M2")));
  EXPECT_LT(m("M1").flash_bytes(), m("M2").flash_bytes());
  EXPECT_LT(SramUsage(m("M1")), SramUsage(m("M2")));
  EXPECT_LT(m("M1").macs(), m("M2").macs());
  // The spread: T1 and T2 are equal in every objective.
  EXPECT_EQ(FrontPointOf(FrontRulesFor(search.spec()), m("T1")).objectives,
            FrontPointOf(FrontRulesFor(search.spec()), m("T2")).objectives);
  EXPECT_LT(m("T1").macro_f1_spread(), m("T2").macro_f1_spread());

  // The gauge, set when the search ended.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (Gauge(search.id()) != std::optional<double>(front.size()) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(Gauge(search.id()), std::optional<double>(front.size()));

  // The report of the real nasctl: the same trials on its front.
  const std::string dir = ::testing::TempDir() + "/front_report";
  std::string output;
  ASSERT_EQ(
      RunCommand(
          absl::StrCat(kNasctl, " --controller=127.0.0.1:", server_->port(),
                       " --insecure --json report ", search.id(), " -o ", dir),
          &output),
      0)
      << output;
  const nlohmann::json doc = nlohmann::json::parse(output, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << output;
  EXPECT_EQ(doc["pareto_front"], front.size());
  std::ifstream in(dir + "/index.html");
  std::stringstream html;
  html << in.rdbuf();
  const std::string page = html.str();
  const size_t table = page.find("<table class=\"front-table\">");
  ASSERT_NE(table, std::string::npos);
  const std::string front_table =
      page.substr(table, page.find("</table>", table) - table);
  int rows = 0;
  for (size_t at = front_table.find("<tr><td"); at != std::string::npos;
       at = front_table.find("<tr><td", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, static_cast<int>(front.size())) << front_table;
  for (const v1::Trial& t : front) {
    EXPECT_THAT(front_table, HasSubstr(absl::StrCat("<tr><td class=\"num\">",
                                                    t.id(), "</td>")));
  }
  EXPECT_THAT(front_table, HasSubstr("macro-F1"));
  EXPECT_THAT(page,
              HasSubstr("below accuracy 0.5000 (constraints.min_accuracy)"));
}

}  // namespace
}  // namespace nas::testing
