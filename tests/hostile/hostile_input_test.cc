// Hostile input against the real nas-controller binary on a real PostgreSQL:
// the corpus of malformed specs and requests (tests/hostile/corpus/), specs
// built to be pathological (huge, deep, self-referencing), and quote- and
// injection-shaped text through every free-text field. Each gets its
// documented error, nothing is stored for it, and the controller stays up.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "proto/nas.grpc.pb.h"
#include "tests/hostile/corpus.h"
#include "tests/integration/grpc_probe.h"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kController[] = NAS_CONTROLLER_BINARY;
constexpr char kCorpus[] = TINYNAS_HOSTILE_CORPUS;

// A small valid ECG5000 search; `name` goes in double quotes.
std::string ValidSpec(const std::string& name = "valid") {
  return absl::StrCat(
      "name: \"", name, "\"\n",
      "dataset: {name: ecg5000, validation_subset: 100}\n"
      "device: nrf52840\n"
      "space: {layer_types: [CONV1D, MAXPOOL1D], channels: [4, 8], "
      "kernels: [3], max_layers: 2, dense_units: [16], max_dense_layers: 1}\n"
      "training: {epochs: 1, batch_size: 16}\n"
      "budget: {max_trials: 3}\n"
      "policy: random\n"
      "seed: 5\n");
}

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(20);
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/nashostileXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    db_uri_ = PostgresEnvironment::NewDatabaseUri();
    const std::string port_file = dir_ + "/port";
    log_ = dir_ + "/controller.log";
    pid_ = SpawnProcess(kController,
                        {"--db=" + db_uri_, "--listen=127.0.0.1:0",
                         "--port_file=" + port_file,
                         "--metrics_listen=127.0.0.1:0",
                         "--lease_ttl_ms=60000", "--heartbeat_ms=1000",
                         "--insecure"},
                        log_);
    ASSERT_GT(pid_, 0);
    const int port = ReadPort(port_file, absl::Seconds(20));
    ASSERT_GT(port, 0) << Slurp(log_);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    search_ = v1::SearchService::NewStub(channel_);
    worker_ = v1::WorkerService::NewStub(channel_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      WaitExit(pid_, absl::Seconds(15));
    }
    std::string ignored;
    RunCommand(absl::StrCat("rm -rf ", dir_), &ignored);
  }

  // The controller still runs and answers: process alive, health SERVING.
  void ExpectAlive() {
    ASSERT_EQ(kill(pid_, 0), 0) << "controller died:\n" << Slurp(log_);
    absl::StatusOr<std::string> health = HealthCheck(channel_);
    ASSERT_TRUE(health.ok()) << health.status() << "\n" << Slurp(log_);
    EXPECT_EQ(*health, std::string("\x08\x01", 2));
  }

  grpc::Status SubmitYaml(const std::string& yaml, v1::Search* reply) {
    v1::SubmitSearchRequest request;
    request.set_spec_yaml(yaml);
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    return search_->SubmitSearch(&context, request, reply);
  }

  grpc::Status SubmitProto(const v1::SearchSpec& spec) {
    v1::SubmitSearchRequest request;
    *request.mutable_spec() = spec;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    v1::Search reply;
    return search_->SubmitSearch(&context, request, &reply);
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection connection(db_uri_);
    pqxx::work tx(connection);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  // Asks for one trial for up to 10 s (the scheduler proposes on its tick).
  v1::LeaseTrialResponse LeaseOne(int64_t worker_id) {
    v1::LeaseTrialResponse leased;
    for (int i = 0; i < 100 && leased.tasks_size() == 0; ++i) {
      v1::LeaseTrialRequest lease;
      lease.set_worker_id(worker_id);
      lease.set_free_slots(1);
      grpc::ClientContext context;
      const grpc::Status status = worker_->LeaseTrial(&context, lease, &leased);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (leased.tasks_size() == 0) absl::SleepFor(absl::Milliseconds(100));
    }
    return leased;
  }

  // A live search, a registered worker and one trial leased to it.
  std::map<std::string, std::string> MakeIds() {
    v1::Search search;
    grpc::Status submitted = SubmitYaml(ValidSpec(), &search);
    EXPECT_TRUE(submitted.ok()) << submitted.error_message();
    v1::RegisterWorkerRequest reg;
    reg.set_name("hostile-test-worker");
    reg.set_device("cpu");
    reg.set_slots(1);
    v1::RegisterWorkerResponse registered;
    grpc::ClientContext reg_context;
    EXPECT_TRUE(worker_->RegisterWorker(&reg_context, reg, &registered).ok());
    const v1::LeaseTrialResponse leased = LeaseOne(registered.worker_id());
    EXPECT_EQ(leased.tasks_size(), 1) << "no trial to lease";
    if (leased.tasks_size() == 0) return {};
    return {{"$SEARCH_ID", absl::StrCat(search.id())},
            {"$WORKER_ID", absl::StrCat(registered.worker_id())},
            {"$TRIAL_ID", absl::StrCat(leased.tasks(0).trial_id())},
            {"$LEASE_ID", leased.tasks(0).lease_id()}};
  }

  std::string dir_;
  std::string db_uri_;
  std::string log_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SearchService::Stub> search_;
  std::unique_ptr<v1::WorkerService::Stub> worker_;
};

TEST_F(HostileInputTest, EveryCorpusCaseGetsItsAnswerAndChangesNothing) {
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<CorpusCase> cases, LoadCorpus(kCorpus));
  ASSERT_GE(cases.size(), 40u);
  const std::map<std::string, std::string> ids = MakeIds();
  ASSERT_FALSE(ids.empty());
  const std::string trial_id = ids.at("$TRIAL_ID");
  const std::string trial_row_sql = absl::StrCat(
      "SELECT md5(t::text) FROM trials t WHERE id = ", trial_id);
  auto trial_row = [&] {
    pqxx::connection connection(db_uri_);
    pqxx::work tx(connection);
    return tx.exec1(trial_row_sql)[0].as<std::string>();
  };
  const std::string leased_row = trial_row();
  for (const CorpusCase& c : cases) {
    SCOPED_TRACE(c.file);
    NAS_ASSERT_OK_AND_ASSIGN(grpc::Status status, SendCase(c, ids, channel_));
    EXPECT_EQ(status.error_code(), c.expect) << status.error_message();
    for (const std::string& text : c.says) {
      EXPECT_THAT(status.error_message(), HasSubstr(text));
    }
    ExpectAlive();
  }
  // Nothing of the refused requests was stored: one search, one worker,
  // and the leased trial exactly as it was.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workers"), 1);
  EXPECT_EQ(trial_row(), leased_row);
}

TEST_F(HostileInputTest, PathologicalSpecsAreRefusedQuickly) {
  const std::string base = ValidSpec();
  struct Case {
    std::string what;
    std::string yaml;
    std::string says;
  };
  std::string aliases = "a0: &a0 {type: CONV1D, out: 4, kernel: 3}\n";
  for (int i = 1; i <= 9; ++i) {
    aliases += absl::StrCat("a", i, ": &a", i, " [");
    for (int j = 0; j < 10; ++j) absl::StrAppend(&aliases, j ? ", " : "", "*a", i - 1);
    aliases += "]\n";
  }
  std::string many_seeds = "seed_architectures: [";
  for (int i = 0; i < 5000; ++i) absl::StrAppend(&many_seeds, i ? "," : "", "*a1");
  many_seeds += "]\n";
  const std::vector<Case> cases = {
      {"2 MiB of YAML", base + "# " + std::string(2 << 20, 'x') + "\n",
       "spec_yaml: 2097"},
      {"nesting 100,000 deep",
       base + "seed_architectures: " + std::string(100000, '[') +
           std::string(100000, ']') + "\n",
       "YAML syntax error"},
      {"a billion layers by aliases",
       aliases + base + "seed_architectures: [*a9]\n", "seed_architectures"},
      {"5,000 seed architectures by aliases", aliases + base + many_seeds,
       "seed_architectures: 5000 items, at most 1000"},
      {"a 300 kB name",
       absl::StrReplaceAll(base, {{"name: \"valid\"",
                                  "name: " + std::string(300000, 'n')}}),
       "name: 300000 bytes, at most 200"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    v1::Search reply;
    const absl::Time start = absl::Now();
    const grpc::Status status = SubmitYaml(c.yaml, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message().substr(0, 300);
    EXPECT_THAT(status.error_message(), HasSubstr(c.says));
    // Not a timing assertion: a figure for the log.
    std::cout << c.what << ": refused in " << absl::Now() - start << "\n";
    ExpectAlive();
  }

  // The same through the proto form of the request.
  v1::SearchSpec spec;
  spec.set_name("proto");
  spec.mutable_dataset()->set_name("ecg5000");
  spec.mutable_budget()->set_max_trials(2);
  v1::Layer conv;
  conv.set_type(v1::CONV1D);
  conv.set_out(4);
  conv.set_kernel(3);
  v1::SearchSpec many = spec;
  for (int i = 0; i < 20000; ++i) {
    *many.add_seed_architectures()->add_layers() = conv;
  }
  grpc::Status status = SubmitProto(many);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("seed_architectures: 20000 entries, at most 100 allowed"));
  v1::SearchSpec deep = spec;
  v1::Architecture* arch = deep.add_seed_architectures();
  for (int i = 0; i < 100000; ++i) *arch->add_layers() = conv;
  status = SubmitProto(deep);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("100000 layers; at most 64"));
  v1::SearchSpec choices = spec;
  for (int i = 0; i < 100000; ++i) choices.mutable_space()->add_channels(8);
  status = SubmitProto(choices);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("space.channels: 100000 entries, at most 64 allowed"));
  ExpectAlive();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 0);
}

// Text shaped like SQL injection, quoting trouble and format strings.
const std::vector<std::string>& Nasty() {
  static const auto* const nasty = new std::vector<std::string>{
      "'; DROP TABLE trials; --",
      "x'); DELETE FROM searches; --",
      "\" OR \"1\"=\"1",
      "O'Brien \\ $1 $$ %s %n {}",
      "Robert'); UPDATE workers SET slots = 0; --",
      "ünïcödé ☃ 表",
  };
  return *nasty;
}

TEST_F(HostileInputTest, InjectionShapedTextThroughEveryFieldIsHarmless) {
  const char* const tables[] = {"searches", "trials", "workers",
                                "search_policies", "q_values"};
  auto table_count = [&] {
    return Count(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN "
        "('searches', 'trials', 'workers', 'search_policies', 'q_values') "
        "AND table_schema = current_schema()");
  };
  ASSERT_EQ(table_count(), 5);
  for (const std::string& text : Nasty()) {
    SCOPED_TRACE(text);
    const std::string yaml_text = absl::StrReplaceAll(
        text, {{"\\", "\\\\"}, {"\"", "\\\""}});
    // Stored verbatim: the search name, a custom device's name and core.
    const std::string spec = absl::StrReplaceAll(
        ValidSpec(yaml_text),
        {{"device: nrf52840",
          absl::StrCat("device: {name: \"", yaml_text, "\", core: \"",
                       yaml_text,
                       "\", sram_bytes: 256KiB, flash_bytes: 1MiB, "
                       "clock_hz: 64000000, cycles_per_mac: 2}")}});
    v1::Search search;
    grpc::Status status = SubmitYaml(spec, &search);
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::GetSearchRequest get;
    get.set_search_id(search.id());
    v1::Search read;
    grpc::ClientContext get_context;
    ASSERT_TRUE(search_->GetSearch(&get_context, get, &read).ok());
    EXPECT_EQ(read.name(), text);
    EXPECT_EQ(read.spec().custom_device().name(), text);
    EXPECT_EQ(read.spec().custom_device().core(), text);
    v1::GetParetoFrontRequest front;
    front.set_search_id(search.id());
    front.set_device(text);
    v1::GetParetoFrontResponse front_reply;
    grpc::ClientContext front_context;
    status = search_->GetParetoFront(&front_context, front, &front_reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::Search builtin;
    ASSERT_TRUE(SubmitYaml(ValidSpec(), &builtin).ok());
    front.set_search_id(builtin.id());
    grpc::ClientContext unknown_context;
    status = search_->GetParetoFront(&unknown_context, front, &front_reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr(absl::StrCat("unknown device '", text, "'")));
    v1::CancelSearchRequest cancel_builtin;
    cancel_builtin.set_search_id(builtin.id());
    v1::Search cancelled_builtin;
    grpc::ClientContext cancel_builtin_context;
    ASSERT_TRUE(search_
                    ->CancelSearch(&cancel_builtin_context, cancel_builtin,
                                   &cancelled_builtin)
                    .ok());

    // Refused, naming the text: enumerated fields and data-set paths.
    for (const std::string& field :
         {std::string("training: {optimizer: \"%s\"}"),
          std::string("reward: {type: \"%s\"}"),
          std::string("dataset: {name: \"%s\"}"),
          std::string("dataset: {name: mine, format: ucr_tsv, train_path: "
                      "\"%s\", input_shape: [1, 140], num_classes: 5}"),
          std::string("policy: \"%s\"")}) {
      const std::string line = absl::StrReplaceAll(field, {{"%s", yaml_text}});
      const std::string key = line.substr(0, line.find(':'));
      std::string bad = ValidSpec();
      const size_t at = bad.find(key + ":");
      if (at == std::string::npos) {
        bad += line + "\n";
      } else {
        bad.replace(at, bad.find('\n', at) - at, line);
      }
      v1::Search ignored;
      status = SubmitYaml(bad, &ignored);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << line;
      // Enumerated values are matched case-insensitively and may be shown
      // lower-cased; the field is always named.
      EXPECT_THAT(status.error_message(), HasSubstr(key)) << line;
    }

    // A worker named with it, its device, a lease id and a failure reason.
    v1::RegisterWorkerRequest reg;
    reg.set_name(text);
    reg.set_device(text);
    reg.set_slots(1);
    v1::RegisterWorkerResponse registered;
    grpc::ClientContext reg_context;
    ASSERT_TRUE(worker_->RegisterWorker(&reg_context, reg, &registered).ok());
    v1::HeartbeatRequest beat;
    beat.set_worker_id(registered.worker_id());
    beat.add_leases()->set_lease_id(text);
    v1::HeartbeatResponse verdicts;
    grpc::ClientContext beat_context;
    ASSERT_TRUE(worker_->Heartbeat(&beat_context, beat, &verdicts).ok());
    ASSERT_EQ(verdicts.verdicts_size(), 1);
    EXPECT_FALSE(verdicts.verdicts(0).keep_going());
    const v1::LeaseTrialResponse leased = LeaseOne(registered.worker_id());
    ASSERT_EQ(leased.tasks_size(), 1);
    v1::ReportTrialRequest report;
    report.set_worker_id(registered.worker_id());
    report.set_trial_id(leased.tasks(0).trial_id());
    report.set_lease_id(text);  // Not its lease: refused, nothing changes.
    report.mutable_result()->set_failure_reason(text);
    v1::ReportTrialResponse ack;
    grpc::ClientContext stale_context;
    ASSERT_TRUE(worker_->ReportTrial(&stale_context, report, &ack).ok());
    EXPECT_FALSE(ack.accepted());
    report.set_lease_id(leased.tasks(0).lease_id());
    grpc::ClientContext report_context;
    ASSERT_TRUE(worker_->ReportTrial(&report_context, report, &ack).ok());
    EXPECT_TRUE(ack.accepted()) << ack.detail();
    v1::ListTrialsRequest list;
    list.set_search_id(search.id());
    list.set_state(v1::TRIAL_FAILED);
    v1::ListTrialsResponse failed;
    grpc::ClientContext list_context;
    ASSERT_TRUE(search_->ListTrials(&list_context, list, &failed).ok());
    ASSERT_EQ(failed.trials_size(), 1);
    EXPECT_EQ(failed.trials(0).failure_reason(), text);
    EXPECT_EQ(failed.trials(0).worker(), text);
    v1::CancelSearchRequest cancel;
    cancel.set_search_id(search.id());
    v1::Search cancelled;
    grpc::ClientContext cancel_context;
    EXPECT_TRUE(search_->CancelSearch(&cancel_context, cancel, &cancelled).ok());
  }
  // Every table is still there and holds what was sent, no more.
  EXPECT_EQ(table_count(), 5);
  const int64_t n = static_cast<int64_t>(Nasty().size());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 2 * n);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workers"), n);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials WHERE state = 4"), n);  // FAILED
  for (const char* table : tables) {
    EXPECT_GE(Count(absl::StrCat("SELECT COUNT(*) FROM ", table)), 0);
  }
  ExpectAlive();
}

}  // namespace
}  // namespace nas::testing
