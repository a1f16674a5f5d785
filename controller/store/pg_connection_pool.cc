#include "controller/store/pg_connection_pool.h"

#include <exception>
#include <regex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "pqxx/except"

namespace nas::controller {
namespace {

// libpq messages span several lines; a status is one line.
std::string OneLine(absl::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::ByAnyChar("\n\t"), absl::SkipWhitespace());
  for (absl::string_view& part : parts) part = absl::StripAsciiWhitespace(part);
  return absl::StrJoin(parts, " ");
}

std::unique_ptr<pqxx::connection> Connect(const std::string& uri) {
  return std::make_unique<pqxx::connection>(uri);
}

}  // namespace

std::string RedactDatabaseUri(absl::string_view uri) {
  // postgresql://user:secret@host/db and ...?password=secret.
  static const std::regex kUserInfo("(://[^:/@?]*):[^@/?]*@");
  static const std::regex kParam("([?&]password=)[^&]*");
  std::string out = std::regex_replace(std::string(uri), kUserInfo, "$1:***@");
  return std::regex_replace(out, kParam, "$1***");
}

PgConnectionPool::Handle::Handle(PgConnectionPool* pool,
                                 std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PgConnectionPool::Handle::Handle(Handle&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)) {}

PgConnectionPool::Handle::~Handle() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

void PgConnectionPool::Handle::Discard() {
  if (conn_ == nullptr) return;
  conn_.reset();
  pool_->Forget();
}

absl::StatusOr<std::unique_ptr<PgConnectionPool>> PgConnectionPool::Create(
    std::string uri, int max_connections) {
  std::unique_ptr<PgConnectionPool> pool(
      new PgConnectionPool(std::move(uri), std::max(1, max_connections)));
  // Fail fast on a bad URI or an unreachable server.
  absl::StatusOr<Handle> first = pool->Acquire();
  if (!first.ok()) return first.status();
  return pool;
}

PgConnectionPool::PgConnectionPool(std::string uri, int max_connections)
    : uri_(std::move(uri)), max_connections_(max_connections) {}

PgConnectionPool::~PgConnectionPool() = default;

absl::StatusOr<PgConnectionPool::Handle> PgConnectionPool::Acquire(
    absl::Duration wait) {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < max_connections_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), wait)) {
      return absl::UnavailableError(absl::StrCat(
          "all ", max_connections_, " database connections are busy"));
    }
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Handle(this, std::move(conn));
    }
    ++open_;  // Reserve the slot; connect without holding the lock.
  }
  try {
    return Handle(this, Connect(uri_));
  } catch (const std::exception& e) {
    Forget();
    return absl::UnavailableError(absl::StrCat("cannot connect to database ",
                                               RedactDatabaseUri(uri_), ": ",
                                               OneLine(e.what())));
  }
}

void PgConnectionPool::Release(std::unique_ptr<pqxx::connection> conn) {
  if (!conn->is_open()) {
    conn.reset();
    Forget();
    return;
  }
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
}

void PgConnectionPool::Forget() {
  absl::MutexLock lock(&mu_);
  --open_;
}

absl::Status StatusFromCurrentException(absl::string_view operation) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(
        operation, ": database connection lost: ", OneLine(e.what())));
  } catch (const pqxx::serialization_failure& e) {
    return absl::AbortedError(absl::StrCat(operation, ": ", OneLine(e.what())));
  } catch (const pqxx::deadlock_detected& e) {
    return absl::AbortedError(absl::StrCat(operation, ": ", OneLine(e.what())));
  } catch (const pqxx::unique_violation& e) {
    return absl::AlreadyExistsError(
        absl::StrCat(operation, ": ", OneLine(e.what())));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnknownError(absl::StrCat(
        operation, ": commit outcome unknown: ", OneLine(e.what())));
  } catch (const pqxx::sql_error& e) {
    return absl::InternalError(
        absl::StrCat(operation, ": ", OneLine(e.what())));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(operation, ": ", OneLine(e.what())));
  } catch (...) {
    return absl::InternalError(absl::StrCat(operation, ": unknown exception"));
  }
}

}  // namespace nas::controller
