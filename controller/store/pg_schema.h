#ifndef NAS_CONTROLLER_STORE_PG_SCHEMA_H_
#define NAS_CONTROLLER_STORE_PG_SCHEMA_H_

#include "absl/types/span.h"

namespace nas::controller {

// One step of the PostgreSQL schema: SQL applied once, in its own
// transaction, and recorded in schema_migrations under `version`.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Every migration, in version order (1, 2, ...). PgTrialStore::Migrate()
// applies those a database lacks. Never edit one that may have been applied;
// append a new one.
absl::Span<const Migration> SchemaMigrations();

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_STORE_PG_SCHEMA_H_
