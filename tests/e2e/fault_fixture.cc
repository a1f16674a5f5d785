#include "tests/e2e/fault_fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "pqxx/pqxx"
#include "tests/integration/pg_environment.h"
#include "tests/integration/subprocess.h"

namespace nas::testing {
namespace {

constexpr char kController[] = NAS_CONTROLLER_BINARY;
constexpr char kWorker[] = NAS_WORKER_BINARY;

std::string PgScript() {
  return absl::StrCat(TINYNAS_SOURCE_DIR, "/scripts/pg_cluster.sh");
}

TrialRow ToTrialRow(const pqxx::row& r) {
  TrialRow t;
  t.id = r[0].as<int64_t>();
  t.number = r[1].as<int32_t>();
  t.state = r[2].as<int>();
  t.attempts = r[3].as<int32_t>();
  t.worker = r[4].as<std::string>();
  t.lease_id = r[5].is_null() ? "" : r[5].as<std::string>();
  t.started_ms = r[6].is_null() ? 0 : r[6].as<int64_t>();
  t.finished_ms = r[7].is_null() ? 0 : r[7].as<int64_t>();
  return t;
}

constexpr char kTrialColumns[] =
    "id, number, state, attempts, worker, lease_id, started_ms, finished_ms";

}  // namespace

std::vector<std::string> ControllerArgs(const ControllerFlags& f) {
  return {"--db=" + f.db_uri,
          "--listen=" + f.listen,
          "--port_file=" + f.port_file,
          "--metrics_listen=127.0.0.1:0",
          "--metrics_port_file=" + f.metrics_port_file,
          absl::StrCat("--lease_ttl_ms=", f.lease_ttl_ms),
          absl::StrCat("--heartbeat_ms=", f.heartbeat_ms),
          std::string("--data_root=") + TINYNAS_SOURCE_DIR + "/data", "--insecure"};
}

std::vector<std::string> WorkerArgs(const std::string& controller,
                                    const std::string& name,
                                    const std::string& metrics_port_file) {
  return {"--controller=" + controller, "--slots=1", "--threads=1",
          "--name=" + name, "--device=cpu", "--metrics_listen=127.0.0.1:0",
          "--metrics_port_file=" + metrics_port_file,
          "--rpc_timeout_ms=2000", "--insecure"};
}

std::string FaultSpecYaml(const FaultSpec& s) {
  return absl::StrCat(
      "name: ", s.name, "\n",
      "dataset: {name: ecg5000, ",
      s.train_subset > 0 ? absl::StrCat("train_subset: ", s.train_subset, ", ")
                         : "",
      "validation_subset: 200}\n"
      "device: nrf52840\n"
      "space:\n"
      "  layer_types: [CONV1D, MAXPOOL1D]\n"
      "  channels: [4, 8, 16]\n"
      "  kernels: [3, 5]\n"
      "  strides: [1, 2]\n"
      "  max_layers: 3\n"
      "  dense_units: [16]\n"
      "  max_dense_layers: 1\n"
      "training: {epochs: ",
      s.epochs, ", batch_size: 16, latency_runs: ", s.latency_runs,
      "}\n"
      "budget: {max_trials: ",
      s.max_trials, ", max_attempts: ", s.max_attempts,
      "}\n"
      "policy: ",
      s.policy, "\n", s.policy_options, "seed: 11\n");
}

void FaultTest::SetUp() {
  // Short: a PostgreSQL socket may live below it.
  char temp[] = "/tmp/nasfXXXXXX";
  ASSERT_NE(mkdtemp(temp), nullptr);
  dir_ = temp;
  db_uri_ = PostgresEnvironment::NewDatabaseUri();
}

void FaultTest::TearDown() {
  for (const WorkerProcess& w : workers_) {
    kill(w.pid, SIGCONT);
    kill(w.pid, SIGKILL);
  }
  if (controller_ > 0) kill(controller_, SIGKILL);
  for (const WorkerProcess& w : workers_) WaitExit(w.pid, absl::Seconds(10));
  if (controller_ > 0) WaitExit(controller_, absl::Seconds(10));
  if (HasFailure()) {
    std::cerr << "--- controller log (tail)\n"
              << Tail(dir_ + "/controller.log");
    for (const WorkerProcess& w : workers_) {
      std::cerr << "--- " << w.name << " log (tail)\n" << Tail(w.log);
    }
  }
  std::string out;
  if (own_postgres_) {
    EXPECT_EQ(RunCommand(absl::StrCat(PgScript(), " stop ", dir_, "/pg"), &out),
              0)
        << out;
  }
  if (std::getenv("TINYNAS_KEEP_FAULT_LOGS") != nullptr) {
    std::cerr << "logs kept in " << dir_ << "\n";
    return;
  }
  RunCommand(absl::StrCat("rm -rf '", dir_, "'"), &out);
}

std::string FaultTest::Tail(const std::string& path) const {
  const std::string text = Slurp(path);
  return text.size() > 5000 ? text.substr(text.size() - 5000) : text;
}

void FaultTest::UseOwnPostgres() {
  own_postgres_ = true;
  std::string out;
  ASSERT_EQ(RunCommand(absl::StrCat(PgScript(), " start ", dir_, "/pg"), &out),
            0)
      << out;
  // The URI is the last line printed.
  while (!out.empty() && out.back() == '\n') out.pop_back();
  db_uri_ = out.substr(out.rfind('\n') + 1);
  ASSERT_EQ(db_uri_.rfind("postgresql://", 0), 0u) << out;
}

void FaultTest::StopPostgres() {
  std::string out;
  ASSERT_EQ(RunCommand(absl::StrCat(PgScript(), " stop ", dir_, "/pg"), &out),
            0)
      << out;
}

void FaultTest::StartPostgres() { UseOwnPostgres(); }

void FaultTest::StartController() {
  const std::string port_file =
      absl::StrCat(dir_, "/port", ++controller_starts_);
  const std::string metrics_port_file =
      absl::StrCat(dir_, "/metrics_port", controller_starts_);
  controller_ = SpawnProcess(
      kController,
      ControllerArgs({db_uri_, absl::StrCat(listen_host_, ":", port_),
                      port_file, metrics_port_file, lease_ttl_ms_,
                      heartbeat_ms_}),
      dir_ + "/controller.log");
  const int port = ReadPort(port_file, absl::Seconds(30));
  ASSERT_GT(port, 0) << Tail(dir_ + "/controller.log");
  metrics_port_ = ReadPort(metrics_port_file, absl::Seconds(5));
  ASSERT_GT(metrics_port_, 0) << Tail(dir_ + "/controller.log");
  if (port_ == 0) port_ = port;
  ASSERT_EQ(port, port_);
  address_ = absl::StrCat(listen_host_, ":", port_);
}

void FaultTest::KillController() {
  ASSERT_EQ(kill(controller_, SIGKILL), 0);
  ASSERT_EQ(WaitExit(controller_, absl::Seconds(10)), 128 + SIGKILL);
  controller_ = -1;
}

bool FaultTest::ControllerAlive() {
  int status = 0;
  return controller_ > 0 && waitpid(controller_, &status, WNOHANG) == 0;
}

int FaultTest::StartWorker(const std::string& name,
                           const std::string& controller,
                           const std::string& netns) {
  WorkerProcess w;
  w.name = name;
  w.log = absl::StrCat(dir_, "/", name, ".log");
  w.metrics_port_file = absl::StrCat(dir_, "/", name, ".metrics_port");
  std::vector<std::string> args = WorkerArgs(
      controller.empty() ? address_ : controller, name, w.metrics_port_file);
  if (netns.empty()) {
    w.pid = SpawnProcess(kWorker, args, w.log);
  } else {
    // ip netns exec execs the worker in place: the pid is the worker's.
    args.insert(args.begin(), {"netns", "exec", netns, kWorker});
    w.pid = SpawnProcess("/usr/sbin/ip", args, w.log);
  }
  workers_.push_back(w);
  return static_cast<int>(workers_.size()) - 1;
}

void FaultTest::SignalWorker(int index, int signal) {
  ASSERT_EQ(kill(workers_[index].pid, signal), 0);
  if (signal == SIGKILL) {
    ASSERT_EQ(WaitExit(workers_[index].pid, absl::Seconds(10)), 128 + SIGKILL);
  }
}

absl::StatusOr<v1::Search> FaultTest::Submit(const std::string& yaml) {
  auto stub = v1::SearchService::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::SubmitSearchRequest request;
  request.set_spec_yaml(yaml);
  v1::Search search;
  grpc::Status status = stub->SubmitSearch(&context, request, &search);
  if (!status.ok()) return absl::UnknownError(status.error_message());
  return search;
}

absl::StatusOr<v1::Search> FaultTest::GetSearch(int64_t search_id) {
  auto stub = v1::SearchService::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::GetSearchRequest request;
  request.set_search_id(search_id);
  v1::Search search;
  grpc::Status status = stub->GetSearch(&context, request, &search);
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  return search;
}

v1::Search FaultTest::WaitForEnd(int64_t search_id, absl::Duration timeout) {
  v1::Search last;
  const bool ended = WaitUntil(
      [&] {
        absl::StatusOr<v1::Search> now = GetSearch(search_id);
        if (now.ok()) last = *now;
        return now.ok() && now->state() != v1::SEARCH_RUNNING;
      },
      timeout);
  EXPECT_TRUE(ended) << "search " << search_id << " still running after "
                     << timeout << ": " << last.ShortDebugString();
  return last;
}

std::vector<TrialRow> FaultTest::QueryTrials(const char* where, int64_t id) {
  pqxx::connection conn(db_uri_);
  pqxx::work txn(conn);
  std::vector<TrialRow> rows;
  for (const pqxx::row& r : txn.exec_params(
           absl::StrCat("SELECT ", kTrialColumns, " FROM trials WHERE ", where,
                        " ORDER BY number"),
           id)) {
    rows.push_back(ToTrialRow(r));
  }
  return rows;
}

std::vector<TrialRow> FaultTest::Trials(int64_t search_id) {
  return QueryTrials("search_id = $1", search_id);
}

TrialRow FaultTest::Trial(int64_t trial_id) {
  std::vector<TrialRow> rows = QueryTrials("id = $1", trial_id);
  EXPECT_EQ(rows.size(), 1u) << "trial " << trial_id;
  return rows.empty() ? TrialRow{} : rows[0];
}

int FaultTest::FinishedTrials(int64_t search_id) {
  int finished = 0;
  for (const TrialRow& t : Trials(search_id)) {
    finished += t.state == v1::TRIAL_SUCCEEDED || t.state == v1::TRIAL_FAILED;
  }
  return finished;
}

void FaultTest::WaitForResults(int64_t search_id, int results) {
  ASSERT_TRUE(WaitUntil([&] { return FinishedTrials(search_id) >= results; },
                        absl::Seconds(60)))
      << "fewer than " << results << " results within 60 s";
  absl::StatusOr<v1::Search> now = GetSearch(search_id);
  ASSERT_TRUE(now.ok()) << now.status();
  ASSERT_EQ(now->state(), v1::SEARCH_RUNNING)
      << "the search ended before the fault; the test would prove nothing";
}

std::string FaultTest::TrialJson(int64_t trial_id) {
  pqxx::connection conn(db_uri_);
  pqxx::work txn(conn);
  return txn
      .exec_params1("SELECT row_to_json(t)::text FROM trials t WHERE id = $1",
                    trial_id)[0]
      .as<std::string>();
}

bool FaultTest::WaitUntil(const std::function<bool()>& done,
                          absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

TrialRow FaultTest::WaitForRunning(int64_t search_id, const std::string& worker,
                                   absl::Duration min_age,
                                   absl::Duration max_age,
                                   absl::Duration timeout) {
  TrialRow found;
  WaitUntil(
      [&] {
        const int64_t now_ms = absl::ToUnixMillis(absl::Now());
        for (const TrialRow& t : Trials(search_id)) {
          const int64_t age_ms = now_ms - t.started_ms;
          if (t.state == v1::TRIAL_RUNNING && t.worker == worker &&
              age_ms >= absl::ToInt64Milliseconds(min_age) &&
              age_ms <= absl::ToInt64Milliseconds(max_age)) {
            found = t;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

constexpr int kHeldSearchTrials = 8;

void FaultTest::StartSearchUntilEveryWorkerIsBusy(const std::string& name,
                                                  int lease_ttl_ms,
                                                  v1::Search* search,
                                                  std::vector<TrialRow>* held) {
  lease_ttl_ms_ = lease_ttl_ms;
  heartbeat_ms_ = 300;
  ASSERT_NO_FATAL_FAILURE(StartController());
  StartWorker(name + "-w0");
  StartWorker(name + "-w1");
  FaultSpec spec;
  spec.name = name;
  spec.max_trials = kHeldSearchTrials;
  absl::StatusOr<v1::Search> submitted = Submit(FaultSpecYaml(spec));
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  *search = *submitted;
  ASSERT_NO_FATAL_FAILURE(WaitForResults(search->id(), 1));
  const bool busy = WaitUntil(
      [&] {
        held->clear();
        for (const TrialRow& t : Trials(search->id())) {
          if (t.state == v1::TRIAL_RUNNING) held->push_back(t);
        }
        return held->size() == 2;
      },
      absl::Seconds(60));
  ASSERT_TRUE(busy) << "the workers were not both busy within 60 s";
}

void FaultTest::ExpectEndKeepingHeldLeases(const v1::Search& search,
                                           const std::vector<TrialRow>& held,
                                           const std::string& outage) {
  const v1::Search ended = WaitForEnd(search.id(), absl::Seconds(120));
  ASSERT_EQ(ended.state(), v1::SEARCH_SUCCEEDED) << ended.ShortDebugString();
  Accounting accounting{kHeldSearchTrials};
  // A lease committed as the controller or database went may not have
  // reached its worker.
  accounting.leases_logged_exactly = false;
  ExpectEveryTrialAccountedFor(search.id(), accounting);
  for (const TrialRow& before : held) {
    const TrialRow after = Trial(before.id);
    EXPECT_EQ(after.state, v1::TRIAL_SUCCEEDED) << "trial " << before.id;
    EXPECT_EQ(after.attempts, 1) << "trial " << before.id << " was handed on";
    EXPECT_EQ(after.lease_id, before.lease_id) << "trial " << before.id;
    EXPECT_EQ(after.worker, before.worker) << "trial " << before.id;
  }
  const std::string log = Slurp(dir_ + "/controller.log");
  EXPECT_NE(log.find("so that their workers can heartbeat"), std::string::npos)
      << "the controller logged no grace for the held leases";
  std::cout << "trials " << held[0].id << " and " << held[1].id
            << " kept their leases through " << outage << std::endl;
}

std::map<int64_t, int> FaultTest::LoggedReports(const std::string& kind) {
  // worker/worker_loop.cc: "trial N reported" when accepted, else
  // "trial N reported; not accepted: <detail>".
  const std::regex line(
      kind == "accepted" ? R"(\] trial (\d+) reported\n)"
      : kind == "leased" ? R"(\] trial (\d+) \(search \d+, attempt \d+\) leased as )"
                         : R"(\] trial (\d+) reported; not accepted: )" + kind);
  std::map<int64_t, int> counts;
  for (const WorkerProcess& w : workers_) {
    const std::string text = Slurp(w.log);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), line);
         it != std::sregex_iterator(); ++it) {
      ++counts[std::stoll((*it)[1].str())];
    }
  }
  return counts;
}

void FaultTest::WaitForReportAnswers(const std::vector<TrialRow>& trials) {
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (absl::Now() < give_up) {
    const std::map<int64_t, int> accepted = LoggedReports("accepted");
    const std::map<int64_t, int> duplicates = LoggedReports("duplicate");
    const bool all_answered = std::all_of(
        trials.begin(), trials.end(), [&](const TrialRow& t) {
          return (t.state != v1::TRIAL_SUCCEEDED &&
                  t.state != v1::TRIAL_FAILED) ||
                 accepted.count(t.id) > 0 || duplicates.count(t.id) > 0;
        });
    if (all_answered) return;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

void FaultTest::ExpectEveryTrialAccountedFor(int64_t search_id,
                                             const Accounting& a) {
  const v1::Search search = WaitForEnd(search_id, absl::Seconds(5));
  EXPECT_EQ(search.state(), v1::SEARCH_SUCCEEDED) << search.ShortDebugString();
  EXPECT_EQ(search.trials_done(), a.max_trials);

  const std::vector<TrialRow> trials = Trials(search_id);
  if (a.reports_logged) WaitForReportAnswers(trials);
  const std::map<int64_t, int> accepted = LoggedReports("accepted");
  const std::map<int64_t, int> duplicates = LoggedReports("duplicate");
  const std::map<int64_t, int> leased = LoggedReports("leased");
  int counted = 0;
  for (size_t i = 0; i < trials.size(); ++i) {
    const TrialRow& t = trials[i];
    SCOPED_TRACE(absl::StrCat("trial ", t.id, " (#", t.number, ", state ",
                              v1::TrialState_Name(t.state), ", attempts ",
                              t.attempts, ", worker ", t.worker, ")"));
    EXPECT_EQ(t.number, static_cast<int32_t>(i)) << "numbers not contiguous";
    EXPECT_NE(t.state, v1::TRIAL_PENDING);
    EXPECT_NE(t.state, v1::TRIAL_RUNNING);
    const bool trained =
        t.state == v1::TRIAL_SUCCEEDED || t.state == v1::TRIAL_FAILED;
    if (trained || t.state == v1::TRIAL_CACHED) ++counted;
    const auto count = [&](const std::map<int64_t, int>& m) {
      auto it = m.find(t.id);
      return it == m.end() ? 0 : it->second;
    };
    if (trained) {
      EXPECT_GE(t.attempts, 1);
      EXPECT_NE(t.finished_ms, 0);
    } else {
      EXPECT_EQ(t.attempts, 0) << "a trial that needs no training was leased";
    }
    if (a.reports_logged) {
      // One accepted result; a repeat of the same report after a lost reply
      // is refused as a duplicate and stands for the same result.
      EXPECT_LE(count(accepted), 1) << "accepted twice";
      EXPECT_EQ(count(accepted) + (count(duplicates) > 0 ? 1 : 0),
                trained ? 1 : 0)
          << "accepted reports " << count(accepted) << ", duplicates "
          << count(duplicates);
    }
    EXPECT_LE(count(leased), t.attempts) << "a lease was not counted";
    if (a.leases_logged_exactly) {
      EXPECT_EQ(count(leased), t.attempts) << "attempts miscounted";
    }
  }
  EXPECT_EQ(counted, a.max_trials) << "trials done (trained or cached)";

  pqxx::connection conn(db_uri_);
  pqxx::work txn(conn);
  const pqxx::row r = txn.exec_params1(
      "SELECT count(*), count(DISTINCT number), "
      "count(*) FILTER (WHERE state = $2), "
      "count(DISTINCT cache_key) FILTER (WHERE state = $2) "
      "FROM trials WHERE search_id = $1",
      search_id, static_cast<int>(v1::TRIAL_SUCCEEDED));
  EXPECT_EQ(r[0].as<int64_t>(), r[1].as<int64_t>()) << "duplicate numbers";
  EXPECT_EQ(r[2].as<int64_t>(), r[3].as<int64_t>())
      << "a network was trained to success twice";
}

}  // namespace nas::testing
