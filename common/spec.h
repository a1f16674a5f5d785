#ifndef NAS_COMMON_SPEC_H_
#define NAS_COMMON_SPEC_H_

// Search specs: YAML parsing, defaults and validation, result-cache keys.
// Pure functions apart from file-system checks; thread-safe.
//
// YAML layout (every key optional unless CompleteSearchSpec says otherwise):
//   name: str
//   dataset: {name, format: idx|ucr_tsv|ts|csv|npy (and aliases, see
//             common/data/formats.h), train_path, train_labels_path,
//             test_path, test_labels_path, input_shape: [1,28,28] | "1x28x28",
//             num_classes, validation_fraction, train_subset,
//             validation_subset, evaluate_test,
//             layout: channel_major|time_major, length, pad: end|start,
//             label_column, normalization: none|scale|zscore}
//   validation: {folds, fraction (= dataset.validation_fraction)}
//   device: nrf52840 | {name, sram_bytes, flash_bytes, core, clock_hz,
//                       cycles_per_mac, flash_reserved_bytes,
//                       sram_reserved_bytes}
//   space: {layer_types: [CONV2D, ...], channels, kernels, strides,
//           dense_units, min_layers, max_layers, max_dense_layers,
//           batch_norm, activation, dropout_rates, padding: same|valid,
//           max_consecutive_pooling}
//   training: {optimizer, learning_rate, momentum, weight_decay, epochs,
//              batch_size, latency_runs}
//   budget: {max_trials, max_duration_s | max_duration: "10m",
//            max_infeasible, max_attempts}
//   policy: random | qlearning | evolution
//   qlearning: {epsilon_schedule: [{epsilon, models}, ...], learning_rate
//               (alias alpha), discount (alias gamma), initial_q,
//               replay_per_model, size_bins}
//   evolution: {population, sample, remove: oldest|worst, mutation_rate}
//   reward: {type, metric, weight_accuracy, weight_flash, weight_sram,
//            weight_macs, weight_latency, exp_flash, exp_sram, exp_macs,
//            exp_latency, alpha, lambda_error, lambda_flash, lambda_sram,
//            lambda_macs, draw_lambdas}
//   constraints: {max_flash_bytes, max_sram_bytes, max_macs, max_latency_ms,
//                 max_params}
//   seed: int
//   seed_architectures: [<any ParseArchitecture form>, ...]
// Byte fields (sram_bytes, flash_bytes, *_reserved_bytes, max_flash_bytes,
// max_sram_bytes) also take sizes such as "256KiB", "1 MiB", "64kB", "1MB"
// (kB/MB decimal, KiB/MiB binary). Durations take "90s", "10m", "1h30m".

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/nas.pb.h"

namespace nas {

// YAML -> SearchSpec. Unknown keys ("space.kernel: unknown key (did you mean
// 'kernels'?)") and wrong types ("training.epochs: expected an integer, got
// 'ten'") are errors naming the field path. InvalidArgument with every
// problem, one per line. No defaults are filled, except space.batch_norm,
// which is true unless the YAML sets it (a proto3 bool cannot say "unset").
absl::StatusOr<v1::SearchSpec> ParseSearchSpecYaml(absl::string_view yaml);

// Fills defaults, resolves dataset and device, checks everything and collects
// EVERY problem: unknown device/dataset/layer type, missing data file,
// negative/zero budget, empty search space, kernels larger than the input,
// bad recipe values, invalid seed architectures, ...
// Defaults (applied to 0 / empty fields):
//   name "search"; policy "random"; seed 1;
//   dataset.validation_fraction 0.1; the data set's own defaults (layout,
//   pad, length, label_column, normalization) as ResolveDataset says;
//   space: strides [1], min_layers 1, max_layers 6 (not below min_layers),
//          activation RELU, padding "same", max_consecutive_pooling 1;
//          layer_types, channels (with conv types), kernels (with conv or
//          pooling types) and dense_units (with max_dense_layers > 0) are
//          required;
//   training: optimizer "adam", learning_rate 1e-3, epochs 2, batch_size 64,
//             latency_runs 20 (momentum and weight_decay stay 0);
//   budget: max_infeasible 1000, max_attempts 3 (max_trials is required,
//           max_duration_s 0 = no limit);
//   reward: type "accuracy", metric "accuracy"; weighted_exp:
//           weight_accuracy 1, exp_X -1 for each resource with a weight;
//           linear: alpha 0.5; max: every lambda 1.
// The result carries the resolved data set (absolute paths, shape, classes),
// the canonical device name in `device` and the full resolved profile in
// `custom_device`, and canonical seed architectures; completing it again is
// a no-op. InvalidArgument naming the field path of each problem, one per
// line (seed architecture problems prefixed "seed_architectures[i]: ").
absl::StatusOr<v1::SearchSpec> CompleteSearchSpec(const v1::SearchSpec& spec,
                                                  const std::string& data_root);

// ParseSearchSpecYaml followed by CompleteSearchSpec, in one answer: when the
// YAML itself has problems (unknown keys, wrong types, unknown layer types),
// the semantic checks still run on the fields that could be read, so the
// InvalidArgument names every problem of both kinds, one per line. Semantic
// problems about a field that already has a YAML problem are left out.
absl::StatusOr<v1::SearchSpec> ParseAndCompleteSearchSpecYaml(
    absl::string_view yaml, const std::string& data_root);

// Cache key: sha256 hex of (canonical architecture, training recipe except
// latency_runs, resolved data set identity incl. split/subsets, how samples
// become inputs (layout, length, pad, label column, normalisation), the
// folds, and the search seed).
std::string ResultCacheKey(const v1::Architecture& arch,
                           const v1::SearchSpec& completed_spec);

}  // namespace nas

#endif  // NAS_COMMON_SPEC_H_
