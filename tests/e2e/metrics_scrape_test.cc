// Metrics of a real search, read as Prometheus reads them: the real
// nas-controller (real PostgreSQL) and a real nas-worker train a small
// Q-learning search on ECG5000 while the test scrapes both /metrics
// endpoints over HTTP every 200 ms. The values must move as the search goes
// and agree with each other and with the search at the end. Then every
// metric name that the dashboards, the Prometheus configuration, the KEDA
// query and docs/metrics.md use must be one the binaries served.
#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/fault_fixture.h"
#include "tests/e2e/metric_references.h"
#include "tests/e2e/prometheus_text.h"
#include "tests/integration/subprocess.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::DoubleNear;
using ::testing::Optional;

constexpr int kMaxTrials = 10;

// Both endpoints at one moment.
struct Snapshot {
  Exposition controller{{}, {}};
  Exposition worker{{}, {}};
};

class MetricsScrapeTest : public FaultTest {
 protected:
  Snapshot ScrapeBoth() {
    Snapshot s;
    absl::StatusOr<Exposition> controller = ScrapeExposition(metrics_port_);
    absl::StatusOr<Exposition> worker = ScrapeExposition(worker_metrics_port_);
    EXPECT_TRUE(controller.ok()) << controller.status();
    EXPECT_TRUE(worker.ok()) << worker.status();
    if (controller.ok()) s.controller = *std::move(controller);
    if (worker.ok()) s.worker = *std::move(worker);
    return s;
  }

  int worker_metrics_port_ = 0;
};

// The value of `name` in every snapshot (nullopt where absent).
std::vector<std::optional<double>> Series(
    const std::vector<Snapshot>& snapshots, bool controller,
    const std::string& name, const Labels& labels = {}) {
  std::vector<std::optional<double>> values;
  for (const Snapshot& s : snapshots) {
    values.push_back((controller ? s.controller : s.worker).Value(name, labels));
  }
  return values;
}

// Non-decreasing where present (absent counts as 0).
void ExpectNonDecreasing(const std::vector<std::optional<double>>& values,
                         const std::string& what) {
  double last = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i].value_or(0);
    EXPECT_GE(v, last) << what << " fell at scrape " << i;
    last = std::max(last, v);
  }
}

// Some scrape saw a value strictly between 0 and `final`: it moved while
// the search ran, not only at the end.
void ExpectSeenMidway(const std::vector<std::optional<double>>& values,
                      double final_value, const std::string& what) {
  const bool midway =
      std::any_of(values.begin(), values.end(), [&](std::optional<double> v) {
        return v.has_value() && *v > 0 && *v < final_value;
      });
  EXPECT_TRUE(midway) << what << " never seen between 0 and " << final_value;
}

TEST_F(MetricsScrapeTest, ValuesMoveAsARealSearchGoes) {
  ASSERT_NO_FATAL_FAILURE(StartController());
  StartWorker("scrape-w0");
  worker_metrics_port_ = ReadPort(workers_[0].metrics_port_file, absl::Seconds(60));
  ASSERT_GT(worker_metrics_port_, 0) << Slurp(workers_[0].log);
  const Snapshot before = ScrapeBoth();
  EXPECT_EQ(before.worker.Sum("tinynas_worker_trials_total"), 0);

  FaultSpec spec;
  spec.name = "metrics-scrape";
  spec.policy = "qlearning";
  spec.max_trials = kMaxTrials;
  spec.epochs = 4;
  // Long enough a trial (the latency measurement) that scrapes every
  // 200 ms and the scheduler's rounds see the slot busy: with 5 runs a
  // trial took ~0.2 s on an idle machine and the whole search could pass
  // between two rounds (seen in a fresh-clone run).
  spec.latency_runs = 3000;
  spec.policy_options =
      "qlearning: {epsilon_schedule: [{epsilon: 1.0, models: 3}, "
      "{epsilon: 0.5, models: 100}], replay_per_model: 8}\n";
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(FaultSpecYaml(spec)));
  const Labels of_search = {{"search", absl::StrCat(search.id())}};
  auto with_state = [&](const std::string& state) {
    Labels labels = of_search;
    labels["state"] = state;
    return labels;
  };

  // Scrape while it runs.
  std::vector<Snapshot> snapshots;
  const absl::Time give_up = absl::Now() + absl::Seconds(45);
  while (absl::Now() < give_up) {
    snapshots.push_back(ScrapeBoth());
    absl::StatusOr<v1::Search> now = GetSearch(search.id());
    ASSERT_TRUE(now.ok()) << now.status();
    search = *now;
    if (search.state() != v1::SEARCH_RUNNING) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(search.state(), v1::SEARCH_SUCCEEDED) << search.DebugString();
  ASSERT_EQ(search.trials_done(), kMaxTrials);
  const int succeeded =
      search.trials_done() - search.trials_failed() - search.trials_cached();
  // The round that ended the search sets its gauges just after the state
  // changed: scrape until they show the end.
  Snapshot last;
  ASSERT_TRUE(WaitUntil(
      [&] {
        last = ScrapeBoth();
        return last.controller.Value("nas_trials", with_state("succeeded")) ==
                   succeeded &&
               last.controller.Value("nas_queue_depth") == 0;
      },
      absl::Seconds(10)))
      << "the controller's gauges never showed the end of the search";
  snapshots.push_back(last);
  std::cout << snapshots.size() << " scrapes; " << succeeded << " succeeded, "
            << search.trials_cached() << " cached, " << search.trials_failed()
            << " failed" << std::endl;

  // Trials by state grow, and agree with the search at the end.
  const auto trials_succeeded =
      Series(snapshots, true, "nas_trials", with_state("succeeded"));
  ExpectNonDecreasing(trials_succeeded, "nas_trials{state=succeeded}");
  ExpectSeenMidway(trials_succeeded, succeeded, "nas_trials{state=succeeded}");
  EXPECT_EQ(last.controller.Value("nas_trials", with_state("cached")),
            search.trials_cached());
  EXPECT_EQ(last.controller.Value("nas_trials", with_state("failed")),
            search.trials_failed());
  EXPECT_EQ(last.controller.Value("nas_trials", with_state("pending")), 0);
  EXPECT_EQ(last.controller.Value("nas_trials", with_state("running")), 0);

  // Best reward and accuracy appear, never fall, are in range, and end as
  // the search's.
  const auto best_reward =
      Series(snapshots, true, "nas_search_best_reward", of_search);
  const auto best_accuracy =
      Series(snapshots, true, "nas_search_best_accuracy", of_search);
  ExpectNonDecreasing(best_reward, "nas_search_best_reward");
  for (const auto& accuracy : best_accuracy) {
    if (accuracy.has_value()) {
      EXPECT_GT(*accuracy, 0);
      EXPECT_LE(*accuracy, 1);
    }
  }
  EXPECT_THAT(last.controller.Value("nas_search_best_reward", of_search),
              Optional(DoubleNear(search.best_reward(), 1e-9)));
  EXPECT_THAT(last.controller.Value("nas_search_best_accuracy", of_search),
              Optional(DoubleNear(search.best_accuracy(), 1e-9)));

  // Every reward counted once: reported SUCCEEDED and CACHED trials.
  EXPECT_EQ(last.controller.Value("nas_trial_reward_count", of_search),
            succeeded + search.trials_cached());
  ExpectNonDecreasing(
      Series(snapshots, true, "nas_trial_reward_count", of_search),
      "nas_trial_reward_count");
  const std::optional<double> pareto =
      last.controller.Value("nas_search_pareto_front_size", of_search);
  ASSERT_TRUE(pareto.has_value());
  EXPECT_GE(*pareto, 1);
  EXPECT_LE(*pareto, succeeded + search.trials_cached());

  // Epsilon follows the schedule: 1.0 for the first proposals, 0.5 once
  // three models were learnt.
  const auto epsilon = Series(snapshots, true, "nas_search_epsilon", of_search);
  std::vector<double> epsilons;
  for (const auto& e : epsilon) {
    if (e.has_value() && (epsilons.empty() || epsilons.back() != *e)) {
      epsilons.push_back(*e);
    }
  }
  EXPECT_EQ(epsilons, (std::vector<double>{1.0, 0.5}));

  // Queue and slots stay sane: one worker with one slot.
  double max_busy = 0;
  double max_worker_busy = 0;
  int busy_scrapes = 0;
  for (const Snapshot& s : snapshots) {
    const double queue = s.controller.Value("nas_queue_depth").value_or(-1);
    EXPECT_GE(queue, 0);
    EXPECT_LE(queue, kMaxTrials);
    const double busy =
        s.controller.Value("nas_worker_slots", {{"state", "busy"}}).value_or(-1);
    const double free =
        s.controller.Value("nas_worker_slots", {{"state", "free"}}).value_or(-1);
    EXPECT_GE(busy, 0);
    EXPECT_GE(free, 0);
    EXPECT_LE(busy + free, 1);
    max_busy = std::max(max_busy, busy);
    if (busy == 1) ++busy_scrapes;
    const double worker_busy =
        s.worker.Value("tinynas_worker_slots_busy").value_or(-1);
    EXPECT_GE(worker_busy, 0);
    EXPECT_LE(worker_busy, 1);
    max_worker_busy = std::max(max_worker_busy, worker_busy);
  }
  std::cout << busy_scrapes << " of " << snapshots.size()
            << " scrapes saw the slot busy in the controller" << std::endl;
  EXPECT_EQ(max_busy, 1) << "the controller never saw the slot busy";
  EXPECT_EQ(max_worker_busy, 1) << "the worker never showed its slot busy";
  EXPECT_EQ(last.worker.Value("tinynas_worker_slots_busy"), 0);
  EXPECT_EQ(last.worker.Value("tinynas_worker_slots"), 1);

  // The worker's trials grow and equal what the controller recorded.
  const Labels done = {{"outcome", "succeeded"}};
  const auto worker_done =
      Series(snapshots, false, "tinynas_worker_trials_total", done);
  ExpectNonDecreasing(worker_done, "tinynas_worker_trials_total");
  ExpectSeenMidway(worker_done, succeeded, "tinynas_worker_trials_total");
  EXPECT_EQ(last.worker.Value("tinynas_worker_trials_total", done), succeeded);
  EXPECT_EQ(last.worker.Value("tinynas_worker_trials_total",
                              {{"outcome", "failed"}}),
            last.controller.Sum("nas_trial_duration_seconds_count",
                                {{"state", "failed"}}));
  EXPECT_EQ(last.controller.Sum("nas_trial_duration_seconds_count",
                                {{"state", "succeeded"}}),
            succeeded);
  EXPECT_GT(last.worker.Value("tinynas_worker_training_samples_per_second")
                .value_or(0),
            0);
  for (const Sample& s : last.worker.samples()) {
    if (s.name.rfind("tinynas_worker_", 0) != 0) continue;
    EXPECT_EQ(s.labels.count("device") ? s.labels.at("device") : "", "cpu")
        << s.name;
  }

  // RPC latency is measured for the calls the search made.
  EXPECT_GT(last.controller.Sum("nas_rpc_latency_seconds_count"),
            before.controller.Sum("nas_rpc_latency_seconds_count"));
  for (const char* method : {"SubmitSearch", "LeaseTrial", "ReportTrial"}) {
    EXPECT_GE(last.controller.Sum("nas_rpc_latency_seconds_count",
                                  {{"method", method}}),
              1)
        << method;
  }
  ExpectNonDecreasing(Series(snapshots, true, "nas_rpc_latency_seconds_count",
                             {{"method", "LeaseTrial"}}),
                      "nas_rpc_latency_seconds_count{LeaseTrial}");

  // No trial id in any label.
  for (const Sample& s : last.controller.samples()) {
    EXPECT_EQ(s.labels.count("trial"), 0u) << s.name;
  }

  // What the deployment and the documentation name is what was served.
  std::set<std::string> served = last.controller.Names();
  std::set<std::string> families;
  for (const Exposition* e : {&last.controller, &last.worker}) {
    const std::set<std::string> names = e->Names();
    served.insert(names.begin(), names.end());
    for (const auto& [family, type] : e->types()) families.insert(family);
  }
  const auto references = DeploymentMetricReferences(TINYNAS_SOURCE_DIR);
  int referenced = 0;
  for (const auto& [file, names] : references) {
    for (const std::string& name : names) {
      ++referenced;
      EXPECT_EQ(served.count(name), 1u)
          << file << " uses " << name << ", which no binary serves";
    }
  }
  EXPECT_GE(referenced, 10) << "the dashboard and the KEDA query were not read";
  const std::set<std::string> documented = DocumentedMetrics(TINYNAS_SOURCE_DIR);
  for (const std::string& name : documented) {
    EXPECT_EQ(families.count(name), 1u)
        << "docs/metrics.md lists " << name << ", which no binary serves";
  }
  for (const std::string& family : families) {
    const bool ours = family.rfind("nas_", 0) == 0 ||
                      family.rfind("tinynas_", 0) == 0;
    EXPECT_TRUE(!ours || documented.count(family) == 1)
        << family << " is served but not in docs/metrics.md";
  }
}

}  // namespace
}  // namespace nas::testing
