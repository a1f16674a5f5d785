// SearchService over real gRPC against a real PostgreSQL: submission and its
// validation, progress, cancellation, Pareto front, export and watching.
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/grpc_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/controller/test_specs.h"
#include "tests/integration/controller_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Every call here has a deadline, as every real client's should.
std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(60);
}

class SearchServiceTest : public ControllerFixture {
 protected:
  absl::StatusOr<v1::ExportModelResponse> Export(
      int64_t search_id, int64_t trial_id,
      v1::ModelFormat format = v1::TORCHSCRIPT) {
    v1::ExportModelRequest request;
    request.set_search_id(search_id);
    request.set_trial_id(trial_id);
    request.set_format(format);
    v1::ExportModelResponse reply;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::Status status = search_->ExportModel(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return reply;
  }

  absl::StatusOr<std::vector<v1::Trial>> Pareto(int64_t search_id,
                                                const std::string& device) {
    v1::GetParetoFrontRequest request;
    request.set_search_id(search_id);
    request.set_device(device);
    v1::GetParetoFrontResponse reply;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::Status status = search_->GetParetoFront(&context, request, &reply);
    if (!status.ok()) return FromGrpcStatus(status);
    return std::vector<v1::Trial>(reply.trials().begin(), reply.trials().end());
  }

  // Accuracy varies with the trial number; trial number 2 fails.
  v1::Search RunFourTrials(int64_t search_id) {
    const int64_t worker = RegisterWorker("w-1", 2);
    return DriveSearch(search_id, worker, 2, [](const v1::TrialTask& task) {
      if (task.trial_id() % 4 == 2) {
        v1::TrialResult failed;
        failed.set_failure_reason("out of memory");
        return failed;
      }
      return Plausible(task, 0.6 + 0.05 * (task.trial_id() % 5));
    });
  }
};

TEST_F(SearchServiceTest, ValidSpecIsStoredAndRuns) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  EXPECT_GT(search.id(), 0);
  EXPECT_EQ(search.state(), v1::SEARCH_RUNNING);
  EXPECT_EQ(search.name(), "ecg-test");
  EXPECT_EQ(search.trials_total(), 4);
  EXPECT_EQ(search.spec().dataset().num_classes(), 5);  // Completed spec.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches WHERE spec_json->>'name' = "
                  "'ecg-test'"),
            1);
  // The scheduler queues candidates without being asked.
  WaitForSearch(search.id(),
                [](const v1::Search& s) { return s.trials_pending() > 0; });
}

TEST_F(SearchServiceTest, SpecAsProtoIsAcceptedToo) {
  v1::SubmitSearchRequest request;
  v1::SearchSpec* spec = request.mutable_spec();
  spec->set_name("proto");
  spec->mutable_dataset()->set_name("ecg5000");
  spec->set_device("stm32f746");
  spec->mutable_space()->add_layer_types(v1::CONV1D);
  spec->mutable_space()->add_channels(4);
  spec->mutable_space()->add_kernels(3);
  spec->mutable_budget()->set_max_trials(2);
  v1::Search reply;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  grpc::Status status = search_->SubmitSearch(&context, request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.spec().device(), "stm32f746");
}

struct BadSpec {
  const char* test_name;
  const char* from;  // A line of EcgSpecYaml() ...
  const char* to;    // ... and what it becomes.
  const char* problem;
};

void PrintTo(const BadSpec& bad, std::ostream* os) { *os << bad.test_name; }

class BadSpecTest : public SearchServiceTest,
                    public ::testing::WithParamInterface<BadSpec> {};

TEST_P(BadSpecTest, IsRefusedNamingTheProblemAndStoresNothing) {
  const BadSpec& bad = GetParam();
  const std::string base = EcgSpecYaml();
  ASSERT_NE(base.find(bad.from), std::string::npos);
  const std::string yaml = absl::StrReplaceAll(base, {{bad.from, bad.to}});
  EXPECT_THAT(Submit(yaml), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr(bad.problem)));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Specs, BadSpecTest,
    ::testing::Values(
        BadSpec{"UnknownLayerType", "[CONV1D, MAXPOOL1D]",
                "[CONV1D, WARP_DRIVE]", "WARP_DRIVE"},
        BadSpec{"KernelLargerThanInput", "kernels: [3, 5]", "kernels: [3, 500]",
                "500"},
        BadSpec{"EmptySearchSpace", "[CONV1D, MAXPOOL1D]", "[]", "layer_types"},
        BadSpec{"UnknownDevice", "device: nrf52840", "device: arduino-uno-x",
                "arduino-uno-x"},
        BadSpec{"UnknownDataset", "name: ecg5000,", "name: imagenet-tiny,",
                "imagenet-tiny"},
        BadSpec{"MissingDataFile", "name: ecg5000,",
                "name: ecg5000, train_path: /nonexistent/ECG.tsv.gz,",
                "/nonexistent/ECG.tsv.gz"},
        BadSpec{"NegativeBudget", "max_trials: 4", "max_trials: -3",
                "max_trials"},
        BadSpec{"UnknownPolicy", "seed: 7", "seed: 7\npolicy: annealing",
                "annealing"},
        BadSpec{"InvalidSeedArchitecture", "LINEAR(5)", "LINEAR(7)",
                "seed_architectures[0]"},
        BadSpec{"UnknownKey", "max_layers: 3", "max_layerz: 3", "max_layerz"},
        BadSpec{"YamlSyntax", "max_infeasible: 5}", "max_infeasible: 5",
                "YAML"}),
    [](const ::testing::TestParamInfo<BadSpec>& info) {
      return info.param.test_name;
    });

TEST_F(SearchServiceTest, EveryProblemOfASpecIsNamed) {
  const std::string yaml = absl::StrReplaceAll(
      EcgSpecYaml(), {{"device: nrf52840", "device: arduino-uno-x"},
                      {"max_trials: 4", "max_trials: -3"},
                      {"kernels: [3, 5]", "kernels: [3, 500]"}});
  EXPECT_THAT(Submit(yaml),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("arduino-uno-x"),
                             HasSubstr("max_trials"), HasSubstr("500"))));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 0);
}

TEST_F(SearchServiceTest, MalformedRequestsAreInvalidArguments) {
  EXPECT_THAT(Submit(std::string((1 << 20) + 1, '#')),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("spec_yaml: 1048577 bytes")));
  v1::SubmitSearchRequest empty;
  v1::Search reply;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  EXPECT_THAT(FromGrpcStatus(search_->SubmitSearch(&context, empty, &reply)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("spec or spec_yaml")));
  EXPECT_THAT(Submit(absl::StrReplaceAll(
                  EcgSpecYaml(), {{"ecg-test", std::string(201, 'n')}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("name: 201 bytes, at most 200 allowed")));
  EXPECT_THAT(GetSearch(0), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("search_id")));
  EXPECT_THAT(GetSearch(-5),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("-5")));
  EXPECT_THAT(GetSearch(31337),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("31337")));
  EXPECT_THAT(ListTrials(31337),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("31337")));
  EXPECT_THAT(ListTrials(1, static_cast<v1::TrialState>(42)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("42")));
  EXPECT_THAT(Export(1, -1), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("trial_id")));
  EXPECT_THAT(Pareto(31337, ""),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("31337")));
  v1::ListSearchesRequest list;
  list.set_limit(-1);
  v1::ListSearchesResponse listed;
  grpc::ClientContext list_context;
  list_context.set_deadline(Deadline());
  EXPECT_THAT(
      FromGrpcStatus(search_->ListSearches(&list_context, list, &listed)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
}

TEST_F(SearchServiceTest, InjectionShapedNamesRoundTripVerbatim) {
  const std::vector<std::string> names = {"'; DROP TABLE trials; --",
                                          "x'); DELETE FROM searches; --",
                                          "O'Brien \\\\ $1"};
  for (const std::string& name : names) {
    const std::string quoted = absl::StrReplaceAll(name, {{"\"", "\\\""}});
    NAS_ASSERT_OK_AND_ASSIGN(
        v1::Search search,
        Submit(absl::StrReplaceAll(EcgSpecYaml(), {{"ecg-test", quoted}})));
    NAS_ASSERT_OK_AND_ASSIGN(v1::Search read, GetSearch(search.id()));
    // YAML double quotes turn "\\\\" into "\\".
    EXPECT_EQ(read.name(), absl::StrReplaceAll(name, {{"\\\\", "\\"}}));
  }
  v1::ListSearchesRequest request;
  v1::ListSearchesResponse reply;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  ASSERT_TRUE(search_->ListSearches(&context, request, &reply).ok());
  EXPECT_THAT(reply.searches(), SizeIs(3));
  EXPECT_EQ(reply.searches(2).name(), "'; DROP TABLE trials; --");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 3);
  EXPECT_GE(Count("SELECT COUNT(*) FROM trials"), 0);  // The table is there.
}

TEST_F(SearchServiceTest, SearchRunsToSucceededAndWatchSeesEveryResult) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  std::mutex mu;
  std::condition_variable changed;
  std::vector<v1::SearchProgress> updates;
  grpc::Status watch_status;
  grpc::ClientContext watch_context;
  watch_context.set_deadline(Deadline());
  std::thread watcher([&] {
    v1::WatchSearchRequest request;
    request.set_search_id(search.id());
    auto reader = search_->WatchSearch(&watch_context, request);
    v1::SearchProgress progress;
    while (reader->Read(&progress)) {
      std::lock_guard<std::mutex> lock(mu);
      updates.push_back(progress);
      changed.notify_all();
    }
    watch_status = reader->Finish();
  });
  // Whether the stream showed trial `id` in `state`, within 10 s.
  auto streamed = [&](int64_t id, v1::TrialState state) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const v1::SearchProgress& p : updates) {
        if (p.last_trial().id() == id && p.last_trial().state() == state) {
          return true;
        }
      }
      return false;
    });
  };

  {  // The stream is open once its first update, the search itself, came.
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10),
                                 [&] { return !updates.empty(); }));
  }
  // One trial at a time, each result seen on the stream before the next.
  const int64_t worker = RegisterWorker("w-1", 1);
  int reported = 0;
  while (GetSearch(search.id())->state() == v1::SEARCH_RUNNING &&
         !HasFailure()) {
    NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::TrialTask> tasks,
                             Lease(worker, 1));
    if (tasks.empty()) {
      absl::SleepFor(absl::Milliseconds(20));
      continue;
    }
    ASSERT_TRUE(streamed(tasks[0].trial_id(), v1::TRIAL_RUNNING));
    NAS_ASSERT_OK(Report(worker, tasks[0], Plausible(tasks[0], 0.8)).status());
    ++reported;
    EXPECT_TRUE(streamed(tasks[0].trial_id(), v1::TRIAL_SUCCEEDED))
        << "trial " << tasks[0].trial_id();
  }
  watcher.join();

  NAS_ASSERT_OK_AND_ASSIGN(const v1::Search ended, GetSearch(search.id()));
  EXPECT_EQ(ended.state(), v1::SEARCH_SUCCEEDED);
  EXPECT_EQ(ended.trials_done(), 4);
  EXPECT_EQ(reported + ended.trials_cached(), 4);
  EXPECT_EQ(ended.trials_running() + ended.trials_pending(), 0);
  EXPECT_GT(ended.finished_unix_ms(), 0);
  EXPECT_GT(ended.best_trial_id(), 0);
  EXPECT_DOUBLE_EQ(ended.best_accuracy(), 0.8);
  EXPECT_EQ(ended.eta_seconds(), 0);
  EXPECT_THAT(ended.message(), HasSubstr("all 4 trials finished"));

  EXPECT_TRUE(watch_status.ok()) << watch_status.error_message();
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.front().search().id(), search.id());
  EXPECT_EQ(updates.back().search().state(), v1::SEARCH_SUCCEEDED);
}

TEST_F(SearchServiceTest, WatchEndsWhenTheClientCancels) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::WatchSearchRequest request;
  request.set_search_id(search.id());
  auto reader = search_->WatchSearch(&context, request);
  v1::SearchProgress progress;
  ASSERT_TRUE(reader->Read(&progress));
  EXPECT_EQ(progress.search().state(), v1::SEARCH_RUNNING);
  context.TryCancel();
  while (reader->Read(&progress)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  grpc::ClientContext unknown_context;
  unknown_context.set_deadline(Deadline());
  request.set_search_id(4242);
  auto unknown = search_->WatchSearch(&unknown_context, request);
  EXPECT_FALSE(unknown->Read(&progress));
  EXPECT_EQ(unknown->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SearchServiceTest, CancelStopsTheSearchAndItsWorkers) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  const int64_t worker = RegisterWorker("w-1", 1);
  const v1::TrialTask task = LeaseOne(worker);
  v1::CancelSearchRequest request;
  request.set_search_id(search.id());
  v1::Search cancelled;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  ASSERT_TRUE(search_->CancelSearch(&context, request, &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::SEARCH_CANCELLED);
  EXPECT_EQ(cancelled.trials_pending(), 0);
  EXPECT_THAT(cancelled.message(), HasSubstr("cancelled"));
  NAS_ASSERT_OK_AND_ASSIGN(v1::HeartbeatResponse beat,
                           Heartbeat(worker, {task.lease_id()}));
  EXPECT_FALSE(beat.verdicts(0).keep_going());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::TrialTask> more, Lease(worker, 1));
  EXPECT_THAT(more, SizeIs(0));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(search.id()));
  for (const v1::Trial& t : trials) EXPECT_EQ(t.state(), v1::TRIAL_CANCELLED);
  grpc::ClientContext again;
  again.set_deadline(Deadline());
  EXPECT_TRUE(search_->CancelSearch(&again, request, &cancelled).ok());
}

TEST_F(SearchServiceTest, ParetoFrontComesFromStoredResults) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  RunFourTrials(search.id());
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(search.id()));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> front,
                           Pareto(search.id(), ""));
  ASSERT_FALSE(front.empty());
  // (1 - accuracy, flash, peak SRAM, MACs), minimised.
  auto dominates = [](const v1::Trial& a, const v1::Trial& b) {
    const v1::Metrics& x = a.metrics();
    const v1::Metrics& y = b.metrics();
    const bool no_worse =
        x.accuracy() >= y.accuracy() && x.flash_bytes() <= y.flash_bytes() &&
        x.peak_sram_bytes() <= y.peak_sram_bytes() && x.macs() <= y.macs();
    const bool better =
        x.accuracy() > y.accuracy() || x.flash_bytes() < y.flash_bytes() ||
        x.peak_sram_bytes() < y.peak_sram_bytes() || x.macs() < y.macs();
    return no_worse && better;
  };
  std::set<int64_t> on_front;
  for (const v1::Trial& t : front) {
    EXPECT_TRUE(t.state() == v1::TRIAL_SUCCEEDED ||
                t.state() == v1::TRIAL_CACHED);
    on_front.insert(t.id());
  }
  for (const v1::Trial& t : trials) {
    const bool result =
        t.state() == v1::TRIAL_SUCCEEDED || t.state() == v1::TRIAL_CACHED;
    if (!result) {
      EXPECT_EQ(on_front.count(t.id()), 0u) << "not a result: " << t.id();
      continue;
    }
    bool dominated = false;
    for (const v1::Trial& u : trials) {
      const bool u_result =
          u.state() == v1::TRIAL_SUCCEEDED || u.state() == v1::TRIAL_CACHED;
      dominated = dominated || (u_result && dominates(u, t));
    }
    EXPECT_EQ(on_front.count(t.id()) == 1, !dominated) << "trial " << t.id();
  }
  for (size_t i = 1; i < front.size(); ++i) {
    EXPECT_GE(front[i - 1].metrics().accuracy(), front[i].metrics().accuracy());
  }
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> on_h7,
                           Pareto(search.id(), "STM32H743"));
  EXPECT_EQ(on_h7.size(), front.size());  // Tiny networks fit a bigger MCU.
  EXPECT_THAT(
      Pareto(search.id(), "esp8266-nope"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("esp8266-nope")));
}

TEST_F(SearchServiceTest, ExportModelRoundTripsTheStoredBytes) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  const v1::Search ended = RunFourTrials(search.id());
  NAS_ASSERT_OK_AND_ASSIGN(v1::ExportModelResponse best,
                           Export(search.id(), 0));
  EXPECT_EQ(best.trial().id(), ended.best_trial_id());
  EXPECT_EQ(best.torchscript(), ModelBytes(ended.best_trial_id()));
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::Trial> trials,
                           ListTrials(search.id()));
  for (const v1::Trial& t : trials) {
    if (t.state() == v1::TRIAL_SUCCEEDED) {
      NAS_ASSERT_OK_AND_ASSIGN(v1::ExportModelResponse got,
                               Export(search.id(), t.id()));
      EXPECT_EQ(got.torchscript(), ModelBytes(t.id()));
      EXPECT_FALSE(got.has_int8_model());  // Only asked for TorchScript.
      NAS_ASSERT_OK_AND_ASSIGN(v1::ExportModelResponse int8,
                               Export(search.id(), t.id(), v1::INT8));
      EXPECT_EQ(int8.int8_model().arena_bytes(), t.id());
      EXPECT_TRUE(int8.torchscript().empty());
    } else if (t.state() == v1::TRIAL_FAILED) {
      EXPECT_THAT(Export(search.id(), t.id()),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           HasSubstr("no trained model")));
    }
  }
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search other, Submit(EcgSpecYaml()));
  EXPECT_THAT(
      Export(other.id(), ended.best_trial_id()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("not part of search")));
}

TEST_F(SearchServiceTest, RestartedControllerResumesAndRehandsLeases) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  const int64_t lost = RegisterWorker("w-lost", 1);
  const v1::TrialTask orphan = LeaseOne(lost);
  StopServer();  // The controller dies; its state is in PostgreSQL.
  clock_.Advance(2 * kLeaseTtl);  // It stays down longer than the lease.
  StartServer();
  // Its worker could not heartbeat while no controller ran: the new one's
  // first round lets the lease run a lease TTL from then, not expire it.
  AdvanceAndTick(absl::ZeroDuration());
  EXPECT_EQ(Count(absl::StrCat(
                "SELECT COUNT(*) FROM trials WHERE state = 2 AND id = ",
                orphan.trial_id(), " AND lease_expires_ms >= ",
                absl::ToUnixMillis(clock_.Now() + kLeaseTtl))),
            1);
  // No heartbeat comes within it: the trial is handed on.
  AdvanceAndTick(kLeaseTtl + absl::Seconds(1));
  const int64_t worker = RegisterWorker("w-new", 1);
  v1::TrialTask again;
  do {
    again = LeaseOne(worker);
  } while (again.trial_id() != orphan.trial_id() && !HasFailure());
  EXPECT_EQ(again.attempt(), 2);
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, again, Plausible(again, 0.7)));
  EXPECT_TRUE(ack.accepted());
  const v1::Search ended = DriveSearch(
      search.id(), worker, 1,
      [](const v1::TrialTask& task) { return Plausible(task, 0.7); });
  EXPECT_EQ(ended.state(), v1::SEARCH_SUCCEEDED);
  EXPECT_EQ(ended.trials_done(), 4);
  // The lost worker's late report is refused.
  NAS_ASSERT_OK_AND_ASSIGN(ack, Report(lost, orphan, Plausible(orphan, 0.9)));
  EXPECT_FALSE(ack.accepted());
}

}  // namespace
}  // namespace nas::testing
