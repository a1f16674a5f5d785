#include "worker/classification_metrics.h"

#include "gtest/gtest.h"

namespace nas::worker {
namespace {

TEST(ConfusionMatrixTest, AccuracyAndMacroF1ByHand) {
  ConfusionMatrix m(3);
  // truth 0: 3 samples, 2 right, 1 predicted as 1.
  m.Add(0, 0);
  m.Add(0, 0);
  m.Add(0, 1);
  // truth 1: 2 samples, both right.
  m.Add(1, 1);
  m.Add(1, 1);
  // truth 2: 1 sample, predicted as 0.
  m.Add(2, 0);
  EXPECT_EQ(m.total(), 6);
  EXPECT_DOUBLE_EQ(m.Accuracy(), 4.0 / 6.0);
  // Class 0: TP 2, FP 1, FN 1 -> F1 4/6. Class 1: TP 2, FP 1, FN 0 -> 4/5.
  // Class 2: TP 0, FP 0, FN 1 -> 0.
  EXPECT_DOUBLE_EQ(m.MacroF1(), (4.0 / 6.0 + 4.0 / 5.0 + 0.0) / 3.0);
}

TEST(ConfusionMatrixTest, ClassesWithoutSupportOrPredictionsAreLeftOut) {
  ConfusionMatrix m(4);  // Classes 2 and 3 never occur and are never predicted.
  m.Add(0, 0);
  m.Add(1, 1);
  m.Add(1, 0);
  // Class 0: TP 1, FP 1, FN 0 -> 2/3. Class 1: TP 1, FP 0, FN 1 -> 2/3.
  EXPECT_DOUBLE_EQ(m.MacroF1(), 2.0 / 3.0);
  // A class predicted but never present counts with F1 0.
  m.Add(1, 3);
  // Class 1 now: TP 1, FN 2 -> 2/4; class 3: FP 1 -> 0.
  EXPECT_DOUBLE_EQ(m.MacroF1(), (2.0 / 3.0 + 0.5 + 0.0) / 3.0);
}

TEST(ConfusionMatrixTest, EmptyIsZero) {
  ConfusionMatrix m(2);
  EXPECT_EQ(m.Accuracy(), 0.0);
  EXPECT_EQ(m.MacroF1(), 0.0);
}

}  // namespace
}  // namespace nas::worker
