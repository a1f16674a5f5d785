#ifndef NAS_TESTS_NASCTL_CANNED_SEARCH_H_
#define NAS_TESTS_NASCTL_CANNED_SEARCH_H_

#include <string>

#include "nasctl/report_data.h"
#include "tests/nasctl/test_search_service.h"

namespace nas::nasctl {

// What a canned search looks like.
struct CannedSearchOptions {
  int64_t id = 7;
  std::string name = "ecg-canned";
  std::string policy = "qlearning";  // "qlearning", "evolution" or "random".
  int trials = 60;
  bool all_failed = false;  // Every trial FAILED (no trained model).
};

// A realistic search for report tests: the completed spec of a small
// ECG5000 search on the nrf52840 (the real spec code), architectures drawn
// by the real sampler with their real analytic costs, made-up accuracies
// that grow with capacity, about one trial in 9 failed and one in 13
// infeasible, timestamps 1.5 s apart, the true Pareto front (common/pareto)
// and a policy state of `policy`. Deterministic.
ReportData CannedSearch(const CannedSearchOptions& options);

// A running trial's progress as a heartbeat brings it: trial 41 (#12) on
// "w1", training epoch 3/15, batch 120/235, loss 0.4123, 8,400.4 samples/s,
// 12 s in, 48 s left.
v1::TrialProgress CannedRunningTrial();

// Loads `data` into `service`: the search, its trials, front and policy.
void LoadCannedSearch(const ReportData& data, TestSearchService* service);

}  // namespace nas::nasctl

#endif  // NAS_TESTS_NASCTL_CANNED_SEARCH_H_
