#ifndef NAS_WORKER_LOAD_TEST_RUNNER_H_
#define NAS_WORKER_LOAD_TEST_RUNNER_H_

// FOR LOAD TESTS ONLY. A trial runner that builds and trains nothing, so
// that the controller's throughput can be measured without the cost of
// training (nas-worker --load_test_skip_training). Never the default.

#include "proto/nas.pb.h"
#include "worker/worker_loop.h"

namespace nas::worker {

// Plausible made-up metrics for `task`, a pure function of its trial_seed:
// accuracy in [0.5, 0.95], macro-F1 a little below it, test figures when the
// data set asks for them, epochs_run = the recipe's epochs, zero training
// time, a small CPU latency. The analytic fields (params, flash, SRAM, MACs,
// latency estimate) stay 0: the controller fills them from its cost model.
v1::Metrics LoadTestMetrics(const v1::TrialTask& task);

// A TrialRunner that answers LoadTestMetrics at once (no model, no data set,
// no TorchScript). Thread-safe.
TrialRunner MakeLoadTestRunner();

}  // namespace nas::worker

#endif  // NAS_WORKER_LOAD_TEST_RUNNER_H_
