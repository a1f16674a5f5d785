#ifndef NAS_CONTROLLER_STORE_PG_CONNECTION_POOL_H_
#define NAS_CONTROLLER_STORE_PG_CONNECTION_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/connection"

namespace nas::controller {

// A bounded set of libpqxx connections to one database, opened lazily and
// reused. A connection is used by one thread at a time (libpqxx connections
// are not thread-safe); one found broken is dropped and a new one opened on
// the next Acquire, so the pool reconnects after a database restart.
// Thread-safe. Every Handle must be released before the pool is destroyed.
class PgConnectionPool {
 public:
  // Exclusive use of one connection; gives it back on destruction.
  class Handle {
   public:
    Handle(PgConnectionPool* pool, std::unique_ptr<pqxx::connection> conn);
    Handle(Handle&& other) noexcept;
    Handle& operator=(Handle&&) = delete;
    ~Handle();

    pqxx::connection& get() { return *conn_; }
    // The connection is broken: close it instead of giving it back.
    void Discard();

   private:
    PgConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Opens one connection to check `uri`. kUnavailable with libpq's reason
  // when the database cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgConnectionPool>> Create(
      std::string uri, int max_connections);

  PgConnectionPool(const PgConnectionPool&) = delete;
  PgConnectionPool& operator=(const PgConnectionPool&) = delete;
  ~PgConnectionPool();

  // Waits up to `wait` for a free connection. kUnavailable when none frees
  // up or a new one cannot be opened.
  absl::StatusOr<Handle> Acquire(absl::Duration wait = absl::Seconds(30));

 private:
  PgConnectionPool(std::string uri, int max_connections);
  void Release(std::unique_ptr<pqxx::connection> conn);
  void Forget();

  const std::string uri_;
  const int max_connections_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // Idle plus handed out.
};

// Maps the exception being handled (call inside a catch block) to a status,
// per the house rules: broken_connection -> kUnavailable, serialization
// failure or deadlock -> kAborted, unique_violation -> kAlreadyExists, other
// SQL errors -> kInternal. `operation` names what was being done.
absl::Status StatusFromCurrentException(absl::string_view operation);

// The URI with any password replaced by "***", for messages and logs.
std::string RedactDatabaseUri(absl::string_view uri);

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_CONNECTION_POOL_H_
