#include "tests/nasctl/canned_search.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/architecture.h"
#include "common/cost_model.h"
#include "common/pareto.h"
#include "common/search_space.h"
#include "common/spec.h"
#include "gtest/gtest.h"

namespace nas::nasctl {
namespace {

constexpr int64_t kStartMs = 1700000000000;

v1::SearchSpec CannedSpec(const CannedSearchOptions& o) {
  const std::string yaml = absl::StrCat(
      "name: canned\n"
      "dataset: {name: ecg5000, train_subset: 300}\n"
      "device: nrf52840\n"
      "space:\n"
      "  layer_types: [CONV1D, MAXPOOL1D, DEPTHWISE_CONV1D]\n"
      "  channels: [4, 8, 16, 32]\n"
      "  kernels: [3, 5]\n"
      "  dense_units: [16, 32]\n"
      "  max_dense_layers: 1\n"
      "  max_layers: 5\n"
      "budget: {max_trials: ", std::max(o.trials, 1), "}\n",
      "policy: ", o.policy, "\n");
  absl::StatusOr<v1::SearchSpec> spec =
      ParseAndCompleteSearchSpecYaml(yaml, std::string(TINYNAS_SOURCE_DIR) + "/data");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : v1::SearchSpec();
}

v1::Trial CannedTrial(const ReportData& data, int number, std::mt19937_64& rng,
                      const CannedSearchOptions& o) {
  const v1::SearchSpec& spec = data.search.spec();
  v1::Trial t;
  t.set_id(1000 + number);
  t.set_search_id(o.id);
  t.set_number(number);
  t.set_attempts(1);
  t.set_worker("worker-a");
  t.set_created_unix_ms(kStartMs + number * 1500);
  t.set_started_unix_ms(kStartMs + number * 1500 + 100);
  t.set_finished_unix_ms(kStartMs + number * 1500 + 1400);
  absl::StatusOr<v1::Architecture> arch = SampleArchitecture(
      spec.space(), spec.dataset().input_shape(), spec.dataset().num_classes(), rng);
  EXPECT_TRUE(arch.ok()) << arch.status();
  *t.mutable_architecture() = arch.ok() ? *arch : v1::Architecture();
  t.set_arch_hash(ArchitectureHash(t.architecture()));
  absl::StatusOr<CostReport> cost =
      AnalyzeCost(t.architecture(), spec.dataset().input_shape(), spec.dataset().num_classes(),
                  spec.custom_device());
  EXPECT_TRUE(cost.ok()) << cost.status();
  if (cost.ok()) FillAnalyticMetrics(*cost, t.mutable_metrics());
  if (o.all_failed || number % 9 == 4) {
    t.set_state(v1::TRIAL_FAILED);
    t.set_failure_reason("diverged at step 12 (loss is NaN) & <gave up>");
    t.set_attempts(3);
    return t;
  }
  if (number % 13 == 6) {
    t.set_state(v1::TRIAL_INFEASIBLE);
    t.add_violations("flash 1203456 B > limit 946176 B");
    return t;
  }
  const double capacity = 1 - std::exp(-static_cast<double>(t.metrics().params()) / 2500.0);
  const double noise = UniformUnit(rng) * 0.06 - 0.03;
  const double accuracy = std::clamp(0.55 + 0.38 * capacity + noise, 0.0, 1.0);
  t.set_state(v1::TRIAL_SUCCEEDED);
  t.mutable_metrics()->set_accuracy(accuracy);
  t.mutable_metrics()->set_macro_f1(accuracy * 0.9);
  t.mutable_metrics()->set_train_seconds(1.2);
  // A resource-aware reward: accuracy less a little for flash.
  t.set_reward(accuracy - 0.05 * static_cast<double>(t.metrics().flash_bytes()) / 100000.0);
  return t;
}

v1::PolicyState CannedPolicy(const ReportData& data, const CannedSearchOptions& o) {
  v1::PolicyState p;
  p.set_policy(o.policy);
  p.set_observed(static_cast<int64_t>(data.trials.size()));
  p.set_models(static_cast<int64_t>(data.trials.size()));
  if (o.policy == "qlearning") {
    p.set_epsilon(0.7);
    p.set_q_entries(42);
    for (int i = 0; i < 5; ++i) {
      v1::QValue* q = p.add_q_top();
      q->set_state(absl::StrCat("d", i, " CONV1D c8 k3 s1 |", 140 >> i));
      q->set_action(i == 0 ? "TERMINATE" : "MAXPOOL1D k2 s2");
      q->set_q(0.9 - 0.05 * i);
      q->set_updates(10 - i);
    }
  } else if (o.policy == "evolution") {
    for (const v1::Trial& t : data.trials) {
      if (t.state() != v1::TRIAL_SUCCEEDED || p.population_size() >= 8) continue;
      v1::PopulationMember* m = p.add_population();
      m->set_trial_id(t.id());
      *m->mutable_architecture() = t.architecture();
      m->set_fitness(t.reward());
      m->set_born(t.number());
    }
  }
  return p;
}

}  // namespace

ReportData CannedSearch(const CannedSearchOptions& o) {
  ReportData data;
  v1::Search& s = data.search;
  s.set_id(o.id);
  s.set_name(o.name);
  *s.mutable_spec() = CannedSpec(o);
  s.mutable_spec()->set_name(o.name);
  s.set_state(v1::SEARCH_SUCCEEDED);
  s.set_trials_total(o.trials);
  s.set_created_unix_ms(kStartMs - 500);
  s.set_started_unix_ms(kStartMs);
  s.set_finished_unix_ms(kStartMs + o.trials * 1500 + 2000);
  std::mt19937_64 rng(42);
  for (int n = 0; n < o.trials; ++n) data.trials.push_back(CannedTrial(data, n, rng, o));
  int done = 0, failed = 0, infeasible = 0;
  for (const v1::Trial& t : data.trials) {
    if (t.state() == v1::TRIAL_FAILED) ++failed;
    if (t.state() == v1::TRIAL_INFEASIBLE) ++infeasible;
    if (t.state() != v1::TRIAL_SUCCEEDED) continue;
    ++done;
    if (t.reward() > s.best_reward()) {
      s.set_best_reward(t.reward());
      s.set_best_accuracy(t.metrics().accuracy());
      s.set_best_trial_id(t.id());
    }
  }
  s.set_trials_done(done + failed);
  s.set_trials_failed(failed);
  s.set_trials_infeasible(infeasible);
  // As the controller answers GetParetoFront.
  for (size_t i : ParetoFront(FrontRulesFor(s.spec()), data.trials)) {
    data.front.push_back(data.trials[i]);
  }
  data.policy = CannedPolicy(data, o);
  data.generated_unix_ms = s.finished_unix_ms() + 60000;
  return data;
}

void LoadCannedSearch(const ReportData& data, TestSearchService* service) {
  service->AddSearch(data.search);
  for (const v1::Trial& t : data.trials) service->AddTrial(t);
  service->SetParetoFront(data.search.id(), data.front);
  service->SetPolicyState(data.search.id(), data.policy);
}

v1::TrialProgress CannedRunningTrial() {
  v1::TrialProgress p;
  p.set_phase(v1::TrialProgress::TRAINING);
  p.set_epoch(3);
  p.set_epochs(15);
  p.set_batches_done(120);
  p.set_batches_per_epoch(235);
  p.set_loss(0.4123);
  p.set_samples_per_second(8400.4);
  p.set_elapsed_seconds(12);
  p.set_remaining_seconds(48);
  p.set_trial_id(41);
  p.set_trial_number(12);
  p.set_worker("w1");
  return p;
}

}  // namespace nas::nasctl
