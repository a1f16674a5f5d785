#include "nasctl/views.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/nasctl/canned_search.h"

namespace nas::nasctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kStartMs = 1700000000000;

v1::Search RunningSearch() {
  v1::Search s;
  s.set_id(3);
  s.set_name("fmnist");
  s.set_state(v1::SEARCH_RUNNING);
  s.set_trials_total(20);
  s.set_trials_done(5);
  s.set_trials_running(2);
  s.set_trials_infeasible(4);
  s.set_best_trial_id(11);
  s.set_best_accuracy(0.86123);
  s.set_best_reward(0.8612);
  s.set_created_unix_ms(kStartMs - 5000);
  s.set_started_unix_ms(kStartMs);
  s.set_eta_seconds(-1);
  return s;
}

v1::Trial TrainedTrial(int64_t id, int number, double accuracy, int64_t flash) {
  v1::Trial t;
  t.set_id(id);
  t.set_number(number);
  t.set_state(v1::TRIAL_SUCCEEDED);
  v1::Layer* conv = t.mutable_architecture()->add_layers();
  conv->set_type(v1::CONV2D);
  conv->set_out(8);
  conv->set_kernel(3);
  conv->set_stride(1);
  conv->set_padding(1);
  v1::Layer* fc = t.mutable_architecture()->add_layers();
  fc->set_type(v1::LINEAR);
  fc->set_out(10);
  t.mutable_metrics()->set_accuracy(accuracy);
  t.mutable_metrics()->set_macro_f1(accuracy - 0.01);
  t.mutable_metrics()->set_params(62810);
  t.mutable_metrics()->set_flash_bytes(flash);
  t.mutable_metrics()->set_peak_sram_bytes(7056);
  t.mutable_metrics()->set_arena_bytes(7072);
  t.mutable_metrics()->set_macs(2000000);
  t.mutable_metrics()->set_latency_ms_estimate(156.25);
  t.set_reward(accuracy);
  t.set_attempts(1);
  t.set_worker("w1");
  return t;
}

TEST(ViewsTest, ProgressLineExtrapolatesEtaFromPace) {
  // 5 of 20 done in 100 s -> 15 more at 20 s each = 300 s.
  const std::string line = RenderProgressLine(RunningSearch(), kStartMs + 100000);
  EXPECT_EQ(line,
            "search 3 RUNNING | trials 5/20 done, 2 running, 4 infeasible | best acc 0.8612 "
            "reward 0.8612 | elapsed 1m40s | ETA 5m00s");
}

TEST(ViewsTest, ProgressLinePrefersServerEtaAndDropsItWhenDone) {
  v1::Search s = RunningSearch();
  s.set_eta_seconds(42);
  EXPECT_THAT(RenderProgressLine(s, kStartMs + 1000), HasSubstr("ETA 42s"));
  s.set_state(v1::SEARCH_SUCCEEDED);
  s.set_finished_unix_ms(kStartMs + 61000);
  const std::string done = RenderProgressLine(s, kStartMs + 999999);
  EXPECT_THAT(done, HasSubstr("SUCCEEDED"));
  EXPECT_THAT(done, HasSubstr("elapsed 1m01s"));
  EXPECT_THAT(done, Not(HasSubstr("ETA")));
}

TEST(ViewsTest, EtaUnknownBeforeTheFirstTrial) {
  v1::Search s = RunningSearch();
  s.set_trials_done(0);
  s.clear_best_trial_id();
  EXPECT_EQ(EtaSeconds(s, kStartMs + 1000), -1);
  EXPECT_THAT(RenderProgressLine(s, kStartMs + 1000), HasSubstr("best - | elapsed 1s | ETA -"));
}

TEST(ViewsTest, ParetoTableKeepsTheRpcsOrderAndShowsEveryColumn) {
  // GetParetoFront's order (the front's quality, best first) is kept.
  const std::string table = RenderParetoTable(
      {TrainedTrial(9, 4, 0.875, 64000), TrainedTrial(7, 2, 0.81, 20000)});
  const std::vector<std::string> lines = absl::StrSplit(table, '\n');
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "TRIAL  #  ACCURACY  MACRO-F1  SPREAD  FLOAT  PARAMS     FLASH  PEAK SRAM    ARENA   "
            "MACS  EST. LATENCY  ARCHITECTURE");
  // Float-only trials (quantize: none): no second figure; one split: no
  // spread.
  EXPECT_EQ(lines[1],
            "    9  4    0.8750    0.8650       -      -  62,810  62.5 KiB    6.9 KiB  6.9 KiB  "
            "2.00M        156 ms  CONV2D(8,k3,s1,p1) LINEAR(10)");
  EXPECT_THAT(lines[2], HasSubstr("    7  2    0.8100"));
  // Trained on folds: the spread of accuracy and macro-F1, never hidden.
  v1::Trial folded = TrainedTrial(9, 4, 0.875, 64000);
  folded.mutable_metrics()->set_folds(5);
  folded.mutable_metrics()->set_accuracy_spread(0.0125);
  folded.mutable_metrics()->set_macro_f1_spread(0.02);
  EXPECT_THAT(RenderParetoTable({folded}), HasSubstr("0.8650  0.0125/0.0200      -"));
}

// A quantised trial: the int8 figures lead, the float accuracy beside them.
v1::Trial Int8Trial(int64_t id, int number, double float_accuracy, double int8_accuracy) {
  v1::Trial t = TrainedTrial(id, number, float_accuracy, 20000);
  t.mutable_metrics()->set_int8(true);
  t.mutable_metrics()->set_accuracy_int8(int8_accuracy);
  t.mutable_metrics()->set_macro_f1_int8(int8_accuracy - 0.02);
  t.mutable_metrics()->set_latency_ms_int8_cpu(0.25);
  return t;
}

TEST(ViewsTest, QuantisedTrialsShowTheirInt8Figures) {
  // By int8 accuracy: trial 5's float figure is the higher one.
  const std::string front =
      RenderParetoTable({Int8Trial(6, 2, 0.85, 0.84), Int8Trial(5, 1, 0.90, 0.70)});
  const std::vector<std::string> lines = absl::StrSplit(front, '\n');
  ASSERT_GE(lines.size(), 3u);
  EXPECT_THAT(lines[1], HasSubstr("    6  2    0.8400    0.8200       -  0.8500"));
  EXPECT_THAT(lines[2], HasSubstr("    5  1    0.7000    0.6800       -  0.9000"));

  v1::Trial noted = Int8Trial(7, 3, 0.9, 0.8);
  noted.mutable_metrics()->add_notes("int8 accuracy 80.0% is 10.0 points below float 90.0%");
  const std::string trials = RenderTrialTable({noted});
  EXPECT_THAT(trials, HasSubstr("ACC      F1   FLOAT"));
  EXPECT_THAT(trials, HasSubstr("0.8000  0.7800  0.9000"));
  EXPECT_THAT(trials, HasSubstr("10.0 points below float"));
  EXPECT_EQ(RenderTrialEvent(Int8Trial(9, 4, 0.875, 0.87)),
            "trial 9 (#4) SUCCEEDED int8 acc 0.8700 reward 0.8750 flash 19.5 KiB sram 6.9 KiB "
            "macs 2.00M CONV2D(8,k3,s1,p1) LINEAR(10)");

  v1::Search s = RunningSearch();
  const std::string details = RenderSearchDetails(s, &noted, kStartMs + 100000);
  EXPECT_THAT(details, HasSubstr("accuracy     0.8000 (macro-F1 0.7800), int8 runtime"));
  EXPECT_THAT(details, HasSubstr("float        0.9000 (macro-F1 0.8900)"));
  EXPECT_THAT(details, HasSubstr("note         int8 accuracy 80.0% is 10.0 points below"));
  EXPECT_THAT(details, HasSubstr("(int8 runtime 0.250 ms)"));
}

TEST(ViewsTest, TrialTableShowsNotesForInfeasibleFailedAndCached) {
  v1::Trial infeasible;
  infeasible.set_id(20);
  infeasible.set_number(1);
  infeasible.set_state(v1::TRIAL_INFEASIBLE);
  infeasible.add_violations("flash 1203456 B > limit 946176 B");
  infeasible.mutable_metrics()->set_params(1000000);
  infeasible.mutable_metrics()->set_flash_bytes(1203456);
  v1::Trial failed;
  failed.set_id(21);
  failed.set_number(2);
  failed.set_state(v1::TRIAL_FAILED);
  failed.set_failure_reason("loss is NaN at step 12");
  v1::Trial cached = TrainedTrial(22, 3, 0.8, 1000);
  cached.set_state(v1::TRIAL_CACHED);
  cached.set_cached_from_trial_id(7);
  const std::string table = RenderTrialTable({infeasible, failed, cached});
  EXPECT_THAT(table, HasSubstr("INFEASIBLE"));
  EXPECT_THAT(table, HasSubstr("flash 1203456 B > limit 946176 B"));
  EXPECT_THAT(table, HasSubstr("1,000,000"));
  EXPECT_THAT(table, HasSubstr("loss is NaN at step 12"));
  EXPECT_THAT(table, HasSubstr("cached from trial 7"));
  EXPECT_THAT(table, HasSubstr("0.8000"));
}

TEST(ViewsTest, RunningTrialShowsItsProgress) {
  v1::TrialProgress p = CannedRunningTrial();
  EXPECT_EQ(RenderRunningTrial(p),
            "trial 41 (#12) on w1: epoch 3/15 batch 120/235, loss 0.4123, 8,400 samples/s, "
            "12s in, 48s left");
  p.set_phase(v1::TrialProgress::EVALUATING);
  p.set_remaining_seconds(-1);
  EXPECT_EQ(RenderTrialProgress(p), "evaluating after 15 epoch(s), 8,400 samples/s, 12s in");

  v1::Trial running;
  running.set_id(41);
  running.set_number(12);
  running.set_state(v1::TRIAL_RUNNING);
  running.set_worker("w1");
  *running.mutable_progress() = CannedRunningTrial();
  v1::Trial waiting = running;  // No heartbeat with progress yet.
  waiting.clear_progress();
  const std::string table = RenderTrialTable({running, waiting});
  EXPECT_THAT(table, HasSubstr("epoch 3/15 batch 120/235"));
  EXPECT_THAT(table, HasSubstr("12s"));  // TIME: so far.
}

TEST(ViewsTest, SearchListAndDetails) {
  v1::Search s = RunningSearch();
  const std::string list = RenderSearchList({s}, kStartMs + 100000);
  EXPECT_THAT(list, HasSubstr("ID  NAME    STATE    TRIALS  RUNNING  BEST ACC"));
  EXPECT_THAT(list, HasSubstr("fmnist  RUNNING    5/20        2    0.8612"));
  s.mutable_spec()->mutable_dataset()->set_name("fashion-mnist");
  s.mutable_spec()->set_device("nrf52840");
  const v1::Trial best = TrainedTrial(11, 4, 0.86123, 20000);
  const std::string details = RenderSearchDetails(s, &best, kStartMs + 100000);
  EXPECT_THAT(details, HasSubstr("search 3: fmnist"));
  EXPECT_THAT(details, HasSubstr("device       nrf52840"));
  EXPECT_THAT(details, HasSubstr("5/20 done (running 2, pending 0, cached 0, failed 0, "
                                 "infeasible 4)"));
  EXPECT_THAT(details, HasSubstr("elapsed      1m40s (ETA 5m00s)"));
  EXPECT_THAT(details, HasSubstr("best model: trial 11 (#4)"));
  EXPECT_THAT(details, HasSubstr("architecture CONV2D(8,k3,s1,p1) LINEAR(10)"));
  EXPECT_THAT(details, HasSubstr("accuracy     0.8612 (macro-F1 0.8512)"));
  EXPECT_THAT(details, HasSubstr("flash        19.5 KiB (int8 constants + runtime)"));
}

TEST(ViewsTest, TrialEventLine) {
  EXPECT_EQ(RenderTrialEvent(TrainedTrial(9, 4, 0.875, 64000)),
            "trial 9 (#4) SUCCEEDED acc 0.8750 reward 0.8750 flash 62.5 KiB sram 6.9 KiB "
            "macs 2.00M CONV2D(8,k3,s1,p1) LINEAR(10)");
}

TEST(ViewsTest, PolicyStateOfQLearningShowsTheTopEntriesInOrder) {
  v1::PolicyState state;
  state.set_policy("qlearning");
  state.set_observed(42);
  state.set_models(40);
  state.set_epsilon(0.9);
  state.set_q_entries(1234);
  v1::QValue* best = state.add_q_top();
  best->set_state("d1 CONV2D k3 s1 c16 |14");
  best->set_action("MAXPOOL2D k2 s2");
  best->set_q(0.8125);
  best->set_updates(12);
  v1::QValue* next = state.add_q_top();
  next->set_state("d0 START |28");
  next->set_action("CONV2D k3 s1 c16");
  next->set_q(0.71);
  next->set_updates(3);
  const std::vector<std::string> lines = absl::StrSplit(RenderPolicyState(7, state), '\n');
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[0], "search 7: qlearning policy");
  EXPECT_EQ(lines[1], "  observed     42 results (40 models)");
  EXPECT_EQ(lines[2], "  epsilon      0.9000");
  EXPECT_EQ(lines[3], "  Q-table      1234 entries");
  EXPECT_EQ(lines[4], "top 2 Q entries:");
  EXPECT_EQ(lines[5], "     Q  UPDATES  STATE                    ACTION");
  EXPECT_EQ(lines[6], "0.8125       12  d1 CONV2D k3 s1 c16 |14  MAXPOOL2D k2 s2");
  EXPECT_EQ(lines[7], "0.7100        3  d0 START |28             CONV2D k3 s1 c16");
  EXPECT_EQ(lines[8], "");
}

TEST(ViewsTest, PolicyStateOfEvolutionSortsThePopulationByFitness) {
  v1::PolicyState state;
  state.set_policy("evolution");
  state.set_observed(9);
  state.set_models(8);
  state.set_mutation_rate(0.25);
  const v1::Trial weak = TrainedTrial(31, 1, 0.5, 1000);
  const v1::Trial strong = TrainedTrial(35, 5, 0.9, 1000);
  for (const v1::Trial* t : {&weak, &strong}) {
    v1::PopulationMember* m = state.add_population();
    m->set_trial_id(t->id());
    m->set_fitness(t->reward());
    m->set_born(t->number());
    *m->mutable_architecture() = t->architecture();
  }
  const std::string text = RenderPolicyState(2, state);
  EXPECT_THAT(text, HasSubstr("search 2: evolution policy\n"));
  EXPECT_THAT(text, HasSubstr("  mutation rate 0.2500\n"));
  EXPECT_THAT(text, Not(HasSubstr("epsilon")));
  EXPECT_THAT(text, Not(HasSubstr("Q-table")));
  EXPECT_THAT(text, HasSubstr("population (2, fittest first):\n"
                              "TRIAL  FITNESS  BORN  ARCHITECTURE\n"
                              "   35   0.9000     5  CONV2D(8,k3,s1,p1) LINEAR(10)\n"
                              "   31   0.5000     1  CONV2D(8,k3,s1,p1) LINEAR(10)\n"));
}

TEST(ViewsTest, PolicyStateOfRandomSearchIsShort) {
  v1::PolicyState state;
  state.set_policy("random");
  EXPECT_EQ(RenderPolicyState(1, state),
            "search 1: random policy\n  observed     0 results (0 models)\n");
}

// A completed JapaneseVowels spec as the controller stores it.
v1::DatasetSpec VowelsDataset() {
  v1::DatasetSpec d;
  d.set_name("japanese-vowels");
  d.set_format(v1::TS);
  d.mutable_input_shape()->add_dims(12);
  d.mutable_input_shape()->add_dims(29);
  d.set_num_classes(9);
  d.set_length(29);
  d.set_pad(v1::PAD_END);
  d.set_layout(v1::CHANNEL_MAJOR);
  d.set_normalization(v1::NORMALIZATION_ZSCORE);
  d.set_validation_fraction(0.1);
  d.set_folds(5);
  d.set_evaluate_test(true);
  v1::DatasetSummary* s = d.mutable_summary();
  s->set_train_samples(270);
  s->set_test_samples(370);
  for (int c = 1; c <= 9; ++c) s->add_class_names(absl::StrCat(c));
  s->set_padded(638);
  s->set_min_length(7);
  s->set_max_length(29);
  return d;
}

TEST(ViewsTest, ShowListsTheDataSet) {
  v1::Search s = RunningSearch();
  *s.mutable_spec()->mutable_dataset() = VowelsDataset();
  const std::string details = RenderSearchDetails(s, nullptr, kStartMs + 1000);
  EXPECT_THAT(details,
              HasSubstr("  dataset      japanese-vowels (ts), 270 train / 370 test samples\n"
                        "  input        12 channels x 29 (stored 7..29 long: padded 638, cut 0 "
                        "to length 29, at the end)\n"
                        "  classes      9: 1, 2, 3, 4, 5, 6, 7, 8, 9\n"
                        "  normalise    zscore per channel (training split's mean and std)\n"
                        "  validation   5 stratified folds (mean \u00b1 spread), test file "
                        "scored\n"));
  // The report's one line says the same.
  EXPECT_EQ(DatasetSummary(VowelsDataset()),
            "japanese-vowels (ts), 270 train / 370 test samples; input 12 channels x 29 "
            "(stored 7..29 long: padded 638, cut 0 to length 29, at the end); classes 9: 1, "
            "2, 3, 4, 5, 6, 7, 8, 9; normalise zscore per channel (training split's mean "
            "and std); validation 5 stratified folds (mean \u00b1 spread), test file scored");
}

TEST(ViewsTest, DataSetLinesOfImagesAndOfHoldOutSplits) {
  v1::DatasetSpec d;
  d.set_name("fashion-mnist");
  d.set_format(v1::IDX);
  d.mutable_input_shape()->add_dims(1);
  d.mutable_input_shape()->add_dims(28);
  d.mutable_input_shape()->add_dims(28);
  d.set_num_classes(10);
  d.set_normalization(v1::NORMALIZATION_SCALE);
  d.set_validation_fraction(0.2);
  d.set_train_subset(6000);
  d.mutable_summary()->set_train_samples(60000);
  const std::string text = DatasetSummary(d);
  EXPECT_EQ(text,
            "fashion-mnist (idx), 60,000 train samples, train subset 6000; input 1x28x28 "
            "(channels x height x width); classes 10; normalise scale (x / 255); "
            "validation hold-out 20% (stratified)");
  // Nothing padded or cut: no such clause.
  v1::DatasetSpec even = VowelsDataset();
  even.mutable_summary()->set_padded(0);
  EXPECT_THAT(DatasetSummary(even), HasSubstr("input 12 channels x 29; classes"));
}

TEST(ViewsTest, ManyClassNamesAreAbbreviated) {
  v1::DatasetSummary s;
  for (int c = 0; c < 20; ++c) s.add_class_names(absl::StrCat("word", c));
  EXPECT_EQ(ClassNamesText(s),
            "word0, word1, word2, word3, word4, word5, word6, word7, ..., word18, word19");
  v1::DatasetSummary odd;
  odd.add_class_names(std::string("bell\x07") + std::string(30, 'x'));
  EXPECT_EQ(ClassNamesText(odd), "bell?xxxxxxxxxxxxxxxxxxx...");
}

TEST(ViewsTest, FoldedFiguresShowTheirSpread) {
  v1::Trial folded = Int8Trial(8, 2, 0.93, 0.912);
  folded.mutable_metrics()->set_folds(5);
  folded.mutable_metrics()->set_accuracy_spread(0.014);
  folded.mutable_metrics()->set_macro_f1_spread(0.021);
  const std::string table = RenderTrialTable({folded, TrainedTrial(9, 3, 0.8, 1000)});
  EXPECT_THAT(table, HasSubstr("0.9120 \u00b1 0.0140  0.8920 \u00b1 0.0210  0.9300"));
  EXPECT_THAT(table, Not(HasSubstr("0.8000 \u00b1")));  // One hold-out split.
  // Columns line up on the screen: "\u00b1" is two bytes, one column.
  const std::vector<std::string> lines = absl::StrSplit(table, '\n');
  ASSERT_GE(lines.size(), 3u);
  auto column_after = [](const std::string& line, const std::string& text) {
    const std::string before = line.substr(0, line.find(text) + text.size());
    return before.size() - std::count(before.begin(), before.end(), '\xC2');
  };
  EXPECT_EQ(column_after(lines[1], "0.9120 \u00b1 0.0140"), column_after(lines[2], "0.8000"));
  v1::Search s = RunningSearch();
  const std::string details = RenderSearchDetails(s, &folded, kStartMs + 1000);
  EXPECT_THAT(details, HasSubstr("accuracy     0.9120 \u00b1 0.0140 (macro-F1 0.8920 \u00b1 "
                                 "0.0210), int8 runtime"));
  EXPECT_THAT(details, HasSubstr("float        0.9300 (macro-F1 0.9200)"));
  EXPECT_THAT(details, HasSubstr("folds        mean \u00b1 spread over 5 folds"));
  EXPECT_THAT(RenderTrialEvent(folded), HasSubstr("int8 acc 0.9120 \u00b1 0.0140 reward"));
  EXPECT_EQ(ScoreWithSpread(0.5, 0.1, 1), "0.5000");
}

}  // namespace
}  // namespace nas::nasctl
