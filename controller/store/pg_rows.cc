#include "controller/store/pg_rows.h"

#include "nlohmann/json.hpp"

namespace nas::controller {

const char kTrialColumns[] = R"sql(
  t.id, t.search_id, t.number, t.state, t.arch, t.arch_hash, t.metrics,
  t.reward, t.failure_reason, t.violations::text, t.attempts, t.worker,
  t.created_ms, t.started_ms, t.finished_ms, t.cached_from,
  (t.model IS NOT NULL OR EXISTS (SELECT 1 FROM trials m
     WHERE m.id = t.cached_from AND m.model IS NOT NULL))
)sql";

std::string TrialSelect(absl::string_view tail) {
  return absl::StrCat("SELECT ", kTrialColumns, " FROM trials t ", tail);
}

v1::Trial TrialFromRow(const pqxx::row& r) {
  v1::Trial t;
  t.set_id(r[0].as<int64_t>());
  t.set_search_id(r[1].as<int64_t>());
  t.set_number(r[2].as<int32_t>());
  t.set_state(static_cast<v1::TrialState>(r[3].as<int>()));
  *t.mutable_architecture() =
      ParseBytes<v1::Architecture>(r[4], "architecture");
  t.set_arch_hash(r[5].as<std::string>());
  *t.mutable_metrics() = ParseBytes<v1::Metrics>(r[6], "metrics");
  t.set_reward(Get<double>(r[7]));
  t.set_failure_reason(r[8].as<std::string>());
  for (const auto& v : nlohmann::json::parse(r[9].as<std::string>())) {
    t.add_violations(v.get<std::string>());
  }
  t.set_attempts(r[10].as<int32_t>());
  t.set_worker(r[11].as<std::string>());
  t.set_created_unix_ms(r[12].as<int64_t>());
  t.set_started_unix_ms(Get<int64_t>(r[13]));
  t.set_finished_unix_ms(Get<int64_t>(r[14]));
  t.set_cached_from_trial_id(Get<int64_t>(r[15]));
  t.set_has_model(r[16].as<bool>());
  return t;
}

absl::Status LockRunningSearch(pqxx::transaction_base& txn, int64_t search_id) {
  pqxx::result search = txn.exec_params(
      "SELECT state FROM searches WHERE id = $1 FOR UPDATE", search_id);
  if (search.empty()) return NoSuchSearch(search_id);
  if (search[0][0].as<int>() != v1::SEARCH_RUNNING) {
    return absl::FailedPreconditionError(
        absl::StrCat("search ", search_id, " is no longer running"));
  }
  return absl::OkStatus();
}

int TakeTrialNumbers(pqxx::transaction_base& txn, int64_t search_id, int count,
                     bool infeasible) {
  return txn
      .exec_params1(
          "UPDATE searches SET infeasible_streak = CASE WHEN $3 "
          "THEN infeasible_streak + 1 ELSE 0 END, "
          "next_number = next_number + $2 WHERE id = $1 "
          "RETURNING next_number - $2",
          search_id, count, infeasible)[0]
      .as<int>();
}

}  // namespace nas::controller
