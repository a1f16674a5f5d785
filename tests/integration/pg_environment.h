#ifndef NAS_TESTS_INTEGRATION_PG_ENVIRONMENT_H_
#define NAS_TESTS_INTEGRATION_PG_ENVIRONMENT_H_

#include <string>

#include "gtest/gtest.h"

namespace nas::testing {

// A private PostgreSQL cluster for the whole test binary, started by
// scripts/pg_cluster.sh in a fresh mktemp -d /tmp/nasXXXXXX folder in SetUp
// and stopped and removed in TearDown. When $TINYNAS_TEST_PG_DIR names a
// cluster folder (ctest starts one for all test processes), that cluster is
// used (started if needed) and left running. Tests get a database of their
// own from NewDatabaseUri().
class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  // URI of the cluster's "tinynas" database.
  static const std::string& Uri();
  // A libpq URI of an empty database of the caller's own: a fresh schema
  // of the cluster's database, made the connection's search_path. (A schema
  // costs nothing; a database per test would copy its template files and make
  // the cluster's shutdown checkpoint long.)
  static std::string NewDatabaseUri();
};

// Runs `command` through /bin/sh; returns its exit status and sets `output`
// to what it printed (stdout and stderr).
int RunCommand(const std::string& command, std::string* output);

}  // namespace nas::testing

#endif  // NAS_TESTS_INTEGRATION_PG_ENVIRONMENT_H_
