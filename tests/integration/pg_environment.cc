#include "tests/integration/pg_environment.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "pqxx/pqxx"

namespace nas::testing {
namespace {

// The cluster folder this process created (and removes), if any.
std::string& OwnedDir() {
  static auto* dir = new std::string;
  return *dir;
}

std::string& BaseUri() {
  static auto* uri = new std::string;
  return *uri;
}

std::string Script() {
  return absl::StrCat(TINYNAS_SOURCE_DIR, "/scripts/pg_cluster.sh");
}

// One cluster for the whole test binary.
::testing::Environment* const kPostgres =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen(absl::StrCat(command, " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output->append(buffer, n);
  }
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void PostgresEnvironment::SetUp() {
  std::string dir;
  const char* shared = std::getenv("TINYNAS_TEST_PG_DIR");
  if (shared != nullptr && *shared != '\0') {
    dir = shared;  // Not ours to stop.
  } else {
    char temp[] = "/tmp/nasXXXXXX";
    ASSERT_NE(mkdtemp(temp), nullptr) << "mkdtemp failed";
    dir = temp;
    OwnedDir() = dir;
  }
  std::string output;
  const int status =
      RunCommand(absl::StrCat(Script(), " start ", dir), &output);
  ASSERT_EQ(status, 0) << "pg_cluster.sh start failed: " << output;
  // The URI is the last line printed.
  absl::string_view text = absl::StripTrailingAsciiWhitespace(output);
  const size_t newline = text.rfind('\n');
  BaseUri() = std::string(
      newline == absl::string_view::npos ? text : text.substr(newline + 1));
  ASSERT_EQ(BaseUri().rfind("postgresql://", 0), 0u) << output;
}

void PostgresEnvironment::TearDown() {
  if (OwnedDir().empty()) return;
  std::string output;
  EXPECT_EQ(RunCommand(absl::StrCat(Script(), " stop ", OwnedDir()), &output),
            0)
      << output;
  RunCommand(absl::StrCat("rm -rf ", OwnedDir()), &output);
}

const std::string& PostgresEnvironment::Uri() { return BaseUri(); }

std::string PostgresEnvironment::NewDatabaseUri() {
  static std::atomic<int> counter{0};
  const std::string schema =
      absl::StrCat("test_", getpid(), "_", counter.fetch_add(1));
  pqxx::connection conn(BaseUri());
  pqxx::nontransaction txn(conn);
  // A schema name cannot be a parameter; this one is built from numbers.
  txn.exec(absl::StrCat("CREATE SCHEMA ", schema));
  return absl::StrCat(BaseUri(), "&options=-csearch_path%3D", schema);
}

}  // namespace nas::testing
