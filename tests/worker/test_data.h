#ifndef NAS_TESTS_WORKER_TEST_DATA_H_
#define NAS_TESTS_WORKER_TEST_DATA_H_

// Resolved specs of the real data sets and small real trial tasks, shared by
// the worker tests.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/nas.pb.h"
#include "worker/dataset.h"

namespace nas::worker::testing {

// ResolveDataset() of the built-in data sets (absolute paths, shape,
// classes, normalisation, the summary of their files), with a validation
// fraction of 0.1. Japanese vowels: 12 channels of 7..29 frames padded to 29.
v1::DatasetSpec FashionMnistSpec();
v1::DatasetSpec Ecg5000Spec();
v1::DatasetSpec JapaneseVowelsSpec();

// The data set of `spec` from one process-wide DatasetCache, so the test
// binary reads each file once. CHECK-fails when it cannot be loaded.
std::shared_ptr<const Dataset> SharedDataset(const v1::DatasetSpec& spec);

// An architecture parsed from its text form (ParseArchitecture).
v1::Architecture Arch(absl::string_view text);

// A trial on `dataset` with an adam recipe: `epochs`, batch 32, lr 0.003,
// 5 latency runs, search seed 7, trial seed 11.
v1::TrialTask MakeTask(const v1::DatasetSpec& dataset, absl::string_view arch,
                       int epochs);

// A fresh temporary directory for this test process, removed at exit.
std::string TempDir();

// Writes `bytes` to TempDir()/name and returns the path.
std::string WriteTempFile(const std::string& name, const std::string& bytes);

}  // namespace nas::worker::testing

#endif  // NAS_TESTS_WORKER_TEST_DATA_H_
