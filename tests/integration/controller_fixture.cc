#include "tests/integration/controller_fixture.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/datasets.h"
#include "common/grpc_status.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "pqxx/pqxx"
#include "tests/integration/pg_environment.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

// A ClientContext with a deadline, as every real client should set.
std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  return context;
}

template <typename Reply>
absl::StatusOr<Reply> Result(const grpc::Status& status, Reply reply) {
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

}  // namespace

void ControllerFixture::SetUp() {
  uri_ = PostgresEnvironment::NewDatabaseUri();
  NAS_ASSERT_OK_AND_ASSIGN(store_, controller::PgTrialStore::Create(uri_));
  NAS_ASSERT_OK(store_->Migrate());
  StartServer();
}

void ControllerFixture::TearDown() {
  StopServer();
  store_.reset();
}

void ControllerFixture::StartServer() {
  controller::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_root = DefaultDataRoot();
  options.lease_ttl = kLeaseTtl;
  options.heartbeat_interval = absl::Seconds(1);
  options.tick_interval = absl::Milliseconds(50);
  options.watch_poll_interval = absl::Milliseconds(200);
  NAS_ASSERT_OK_AND_ASSIGN(
      server_, controller::ControllerServer::Start(store_.get(), &clock_,
                                                   &registry_, options));
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                 grpc::InsecureChannelCredentials());
  search_ = v1::SearchService::NewStub(channel_);
  worker_ = v1::WorkerService::NewStub(channel_);
}

void ControllerFixture::StopServer() {
  search_.reset();
  worker_.reset();
  channel_.reset();
  server_.reset();
}

absl::StatusOr<v1::Search> ControllerFixture::Submit(const std::string& yaml) {
  v1::SubmitSearchRequest request;
  request.set_spec_yaml(yaml);
  v1::Search reply;
  grpc::Status status = search_->SubmitSearch(Context().get(), request, &reply);
  return Result(status, reply);
}

absl::StatusOr<v1::Search> ControllerFixture::GetSearch(int64_t search_id) {
  v1::GetSearchRequest request;
  request.set_search_id(search_id);
  v1::Search reply;
  grpc::Status status = search_->GetSearch(Context().get(), request, &reply);
  return Result(status, reply);
}

absl::StatusOr<std::vector<v1::Trial>> ControllerFixture::ListTrials(
    int64_t search_id, v1::TrialState state) {
  v1::ListTrialsRequest request;
  request.set_search_id(search_id);
  request.set_state(state);
  v1::ListTrialsResponse reply;
  grpc::Status status = search_->ListTrials(Context().get(), request, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return std::vector<v1::Trial>(reply.trials().begin(), reply.trials().end());
}

v1::Search ControllerFixture::WaitForSearch(
    int64_t search_id, const std::function<bool(const v1::Search&)>& done,
    absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  v1::Search search;
  while (absl::Now() < give_up) {
    absl::StatusOr<v1::Search> got = GetSearch(search_id);
    if (got.ok()) {
      search = *got;
      if (done(search)) return search;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  ADD_FAILURE() << "search " << search_id
                << " did not get there in time: " << search.DebugString();
  return search;
}

int64_t ControllerFixture::RegisterWorker(const std::string& name, int slots) {
  v1::RegisterWorkerRequest request;
  request.set_name(name);
  request.set_device("cpu");
  request.set_slots(slots);
  v1::RegisterWorkerResponse reply;
  grpc::Status status =
      worker_->RegisterWorker(Context().get(), request, &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.lease_ttl_ms(), absl::ToInt64Milliseconds(kLeaseTtl));
  EXPECT_EQ(reply.heartbeat_interval_ms(), 1000);
  return reply.worker_id();
}

absl::StatusOr<std::vector<v1::TrialTask>> ControllerFixture::Lease(
    int64_t worker_id, int free_slots) {
  v1::LeaseTrialRequest request;
  request.set_worker_id(worker_id);
  request.set_free_slots(free_slots);
  v1::LeaseTrialResponse reply;
  grpc::Status status = worker_->LeaseTrial(Context().get(), request, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return std::vector<v1::TrialTask>(reply.tasks().begin(), reply.tasks().end());
}

v1::TrialTask ControllerFixture::LeaseOne(int64_t worker_id,
                                          absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    absl::StatusOr<std::vector<v1::TrialTask>> tasks = Lease(worker_id, 1);
    EXPECT_TRUE(tasks.ok()) << tasks.status();
    if (tasks.ok() && !tasks->empty()) return tasks->front();
    absl::SleepFor(absl::Milliseconds(20));
  }
  ADD_FAILURE() << "worker " << worker_id << " got no task in time";
  return v1::TrialTask();
}

absl::StatusOr<v1::HeartbeatResponse> ControllerFixture::Heartbeat(
    int64_t worker_id, const std::vector<std::string>& lease_ids) {
  v1::HeartbeatRequest request;
  request.set_worker_id(worker_id);
  for (const std::string& id : lease_ids) {
    v1::LeaseProgress* lease = request.add_leases();
    lease->set_lease_id(id);
    lease->set_epoch(1);
    lease->set_loss(0.5);
  }
  v1::HeartbeatResponse reply;
  grpc::Status status = worker_->Heartbeat(Context().get(), request, &reply);
  return Result(status, reply);
}

absl::StatusOr<v1::ReportTrialResponse> ControllerFixture::Report(
    int64_t worker_id, const v1::TrialTask& task,
    const v1::TrialResult& result, int lease_next) {
  v1::ReportTrialRequest request;
  request.set_worker_id(worker_id);
  request.set_lease_id(task.lease_id());
  request.set_trial_id(task.trial_id());
  *request.mutable_result() = result;
  request.set_lease_next(lease_next);
  v1::ReportTrialResponse reply;
  grpc::Status status = worker_->ReportTrial(Context().get(), request, &reply);
  return Result(status, reply);
}

v1::Search ControllerFixture::DriveSearch(
    int64_t search_id, int64_t worker_id, int slots,
    const std::function<v1::TrialResult(const v1::TrialTask&)>& result) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    absl::StatusOr<v1::Search> search = GetSearch(search_id);
    if (!search.ok()) {
      ADD_FAILURE() << search.status();
      return v1::Search();
    }
    if (search->state() != v1::SEARCH_RUNNING) return *search;
    absl::StatusOr<std::vector<v1::TrialTask>> tasks = Lease(worker_id, slots);
    if (!tasks.ok()) {
      ADD_FAILURE() << tasks.status();
      return *search;
    }
    for (const v1::TrialTask& task : *tasks) {
      absl::StatusOr<v1::ReportTrialResponse> ack =
          Report(worker_id, task, result(task));
      EXPECT_TRUE(ack.ok() && ack->accepted()) << task.DebugString();
    }
    if (tasks->empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  ADD_FAILURE() << "search " << search_id << " did not end in time";
  return v1::Search();
}

v1::TrialResult ControllerFixture::Plausible(const v1::TrialTask& task,
                                             double accuracy) {
  v1::TrialResult result;
  v1::Metrics* m = result.mutable_metrics();
  m->set_accuracy(accuracy);
  m->set_macro_f1(accuracy - 0.05);
  m->set_train_seconds(3.5);
  m->set_latency_ms_cpu(0.2);
  m->set_final_loss(0.4);
  m->set_epochs_run(task.training().epochs());
  m->set_samples_per_second(5000);
  result.set_torchscript(ModelBytes(task.trial_id()));
  if (task.training().quantize() == "int8") {  // As a real worker would.
    m->set_int8(true);
    m->set_accuracy_int8(accuracy);  // A lossless quantisation.
    m->set_macro_f1_int8(accuracy - 0.05);
    m->set_latency_ms_int8_cpu(0.1);
    result.mutable_int8_model()->set_format_version(1);
    result.mutable_int8_model()->set_arena_bytes(static_cast<int32_t>(task.trial_id()));
  }
  return result;
}

std::string ControllerFixture::ModelBytes(int64_t trial_id) {
  return absl::StrCat(std::string("PK\x03\x04\0\xff", 6), "model-", trial_id,
                      std::string("\0\0", 2));
}

int64_t ControllerFixture::Count(const std::string& sql) {
  pqxx::connection conn(uri_);
  pqxx::work txn(conn);
  return txn.exec1(sql)[0].as<int64_t>();
}

void ControllerFixture::AdvanceAndTick(absl::Duration d) {
  clock_.Advance(d);
  NAS_ASSERT_OK(server_->scheduler().Tick());
}

}  // namespace nas::testing
