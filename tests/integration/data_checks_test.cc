// The data set over real gRPC against a real PostgreSQL: files checked at
// submit (refused naming file and line, or summarised in the stored spec),
// and a data error a worker reports failing the whole search once.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nasctl/spec_file.h"
#include "tests/controller/test_specs.h"
#include "tests/integration/controller_fixture.h"
#include "tests/status_matchers.h"

namespace nas::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class DataChecksTest : public ControllerFixture {
 protected:
  void SetUp() override {
    ControllerFixture::SetUp();
    char pattern[] = "/tmp/nas_data_checksXXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    ControllerFixture::TearDown();
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // A search of 1-D networks on a custom UCR file of {2, 4} series (two
  // channels of four values: eight values after the label) in 3 classes.
  static std::string SpecOn(const std::string& train_path) {
    return absl::StrCat(
        "name: custom-data\n"
        "dataset: {name: two-leads, format: ucr_tsv, train_path: \"",
        train_path,
        "\", input_shape: [2, 4], num_classes: 3}\n"
        "device: nrf52840\n"
        "space: {layer_types: [CONV1D], channels: [4], kernels: [3]}\n"
        "budget: {max_trials: 2}\n");
  }

  std::string dir_;
};

TEST_F(DataChecksTest, SubmitRefusesDataUnlikeTheSpecNamingFileAndLine) {
  const std::string good_rows =
      "1 0.1 0.2 0.3 0.4 1.1 1.2 1.3 1.4\n"
      "2 0.5 0.6 0.7 0.8 1.5 1.6 1.7 1.8\n";
  struct Case {
    std::string file;
    std::string bytes;
    std::string where;  // What the refusal must name besides the path.
  };
  std::string junk;
  for (int i = 0; i < 2048; ++i) junk.push_back(static_cast<char>(i * 91 + 7));
  const Case cases[] = {
      // Line 3: 7 values are not two channels of the same length.
      {"shape.tsv", good_rows + "3 0.1 0.2 0.3 0.4 0.5 0.6 0.7\n", ": line 3"},
      // Labels 1..4 for num_classes 3.
      {"labels.tsv", good_rows + "3 1 2 3 4 5 6 7 8\n4 1 2 3 4 5 6 7 8\n",
       "num_classes"},
      {"empty.tsv", "", ""},
      {"junk.tsv", junk, ": line"},
  };
  for (const Case& c : cases) {
    const std::string path = Write(c.file, c.bytes);
    EXPECT_THAT(Submit(SpecOn(path)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(path), HasSubstr(c.where))))
        << c.file;
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM searches"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM trials"), 0);

  // The same data without its faults is accepted.
  NAS_ASSERT_OK_AND_ASSIGN(
      v1::Search search,
      Submit(SpecOn(Write("good.tsv",
                          good_rows + "3 1 2 3 4 5 6 7 8\n"))));
  EXPECT_EQ(search.spec().dataset().summary().train_samples(), 3);
  EXPECT_THAT(search.spec().dataset().summary().class_names(),
              ElementsAre("1", "2", "3"));
}

TEST_F(DataChecksTest, JapaneseVowelsExampleIsAcceptedWithItsSummary) {
  // As `nasctl submit examples/...` sends it.
  NAS_ASSERT_OK_AND_ASSIGN(
      std::string yaml,
      nasctl::LoadSpecYaml(std::string(TINYNAS_SOURCE_DIR) +
                           "/examples/japanese-vowels-nrf52840.yaml"));
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search submitted, Submit(yaml));
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, GetSearch(submitted.id()));
  const v1::DatasetSpec& d = search.spec().dataset();
  EXPECT_EQ(d.format(), v1::TS);
  EXPECT_EQ(d.folds(), 5);
  EXPECT_EQ(d.normalization(), v1::NORMALIZATION_ZSCORE);
  EXPECT_EQ(d.length(), 29);
  EXPECT_EQ(d.summary().train_samples(), 270);
  EXPECT_EQ(d.summary().test_samples(), 370);
  EXPECT_THAT(d.summary().class_names(),
              ElementsAre("1", "2", "3", "4", "5", "6", "7", "8", "9"));
  EXPECT_GT(d.summary().padded(), 0);
  // Every task carries the summary, so workers map labels as it says.
  const int64_t worker = RegisterWorker("w-vowels", 1);
  const v1::TrialTask task = LeaseOne(worker);
  EXPECT_EQ(task.dataset().summary().class_names_size(), 9);
  EXPECT_EQ(task.dataset().folds(), 5);
}

TEST_F(DataChecksTest, DataErrorFailsTheSearchOnceAndLeasesNoMore) {
  EcgSpecOptions options;
  options.max_trials = 8;
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml(options)));
  const int64_t worker = RegisterWorker("w-data", 2);
  const std::string pending = absl::StrCat(
      "SELECT COUNT(*) FROM trials WHERE state = 1 AND search_id = ",
      search.id());
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (Count(pending) < 4 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(Count(pending), 4);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::TrialTask> tasks, Lease(worker, 2));
  ASSERT_THAT(tasks, SizeIs(2));

  v1::TrialResult bad;
  bad.set_failure_reason("ECG5000_TRAIN.tsv.gz: line 17: 139 values, "
                         "expected 140");
  // data_error needs its reason.
  v1::TrialResult no_reason;
  no_reason.set_data_error(true);
  *no_reason.mutable_metrics() = Plausible(tasks[0], 0.5).metrics();
  EXPECT_THAT(Report(worker, tasks[0], no_reason),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("data_error")));

  bad.set_data_error(true);
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, tasks[0], bad, 1));
  EXPECT_TRUE(ack.accepted()) << ack.detail();
  EXPECT_THAT(ack.tasks(), SizeIs(0));  // Nothing more of it is leased.

  // Failed at once, in the report's transaction, with the reason.
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search failed, GetSearch(search.id()));
  EXPECT_EQ(failed.state(), v1::SEARCH_FAILED);
  EXPECT_EQ(failed.message(),
            "data: ECG5000_TRAIN.tsv.gz: line 17: 139 values, expected 140");
  EXPECT_EQ(Count(pending), 0);
  EXPECT_GE(Count(absl::StrCat(
                "SELECT COUNT(*) FROM trials WHERE state = 7 AND search_id = ",
                search.id(), " AND failure_reason LIKE 'search failed: data: "
                             "ECG5000_TRAIN.tsv.gz: line 17%'")),
            2);
  EXPECT_EQ(Count(absl::StrCat(
                "SELECT COUNT(*) FROM trials WHERE state = 4 AND search_id = ",
                search.id())),
            1);
  NAS_ASSERT_OK_AND_ASSIGN(std::vector<v1::TrialTask> more, Lease(worker, 2));
  EXPECT_THAT(more, SizeIs(0));

  // The other running trial is stopped by its next heartbeat, and its
  // report no longer counts; the search stays FAILED.
  NAS_ASSERT_OK_AND_ASSIGN(v1::HeartbeatResponse beat,
                           Heartbeat(worker, {tasks[1].lease_id()}));
  ASSERT_THAT(beat.verdicts(), SizeIs(1));
  EXPECT_FALSE(beat.verdicts(0).keep_going());
  NAS_ASSERT_OK_AND_ASSIGN(ack, Report(worker, tasks[1], bad));
  EXPECT_FALSE(ack.accepted());
  for (int i = 0; i < 3; ++i) AdvanceAndTick(absl::Seconds(1));
  NAS_ASSERT_OK_AND_ASSIGN(failed, GetSearch(search.id()));
  EXPECT_EQ(failed.state(), v1::SEARCH_FAILED);
  EXPECT_EQ(failed.trials_failed(), 1);
  EXPECT_EQ(failed.trials_running() + failed.trials_pending(), 0);
}

TEST_F(DataChecksTest, OtherFailuresLeaveTheSearchRunning) {
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search search, Submit(EcgSpecYaml()));
  const int64_t worker = RegisterWorker("w-oom", 1);
  const v1::TrialTask task = LeaseOne(worker);
  v1::TrialResult oom;
  oom.set_failure_reason("out of memory");
  NAS_ASSERT_OK_AND_ASSIGN(v1::ReportTrialResponse ack,
                           Report(worker, task, oom));
  EXPECT_TRUE(ack.accepted());
  NAS_ASSERT_OK_AND_ASSIGN(v1::Search running, GetSearch(search.id()));
  EXPECT_EQ(running.state(), v1::SEARCH_RUNNING);
  EXPECT_EQ(running.trials_failed(), 1);
}

}  // namespace
}  // namespace nas::testing
