// ParseSearchSpecYaml: YAML text -> SearchSpec, every problem named by path.

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/architecture.h"
#include "common/data/formats.h"
#include "common/spec.h"
#include "common/status_macros.h"
#include "common/yaml_util.h"

namespace nas {
namespace {

using internal::YamlErrors;

// Reads one key's value into the spec.
using Reader =
    std::function<void(const YAML::Node&, const std::string&, YamlErrors*)>;
struct Field {
  std::string key;
  Reader read;
};

void ReadSection(const YAML::Node& node, const std::string& path,
                 const std::vector<Field>& fields, YamlErrors* errors) {
  if (!internal::ExpectMap(node, path, errors)) return;
  std::vector<std::string> keys;
  for (const Field& f : fields) keys.push_back(f.key);
  internal::CheckKeys(node, path, keys, errors);
  for (const Field& f : fields) {
    const YAML::Node value = node[f.key];
    if (value && !value.IsNull())
      f.read(value, internal::JoinPath(path, f.key), errors);
  }
}

Field Int32(const std::string& key, std::function<void(int32_t)> set) {
  return {key, [set](const YAML::Node& n, const std::string& p, YamlErrors* e) {
            std::optional<int64_t> v = internal::ReadInt(n, p, e);
            if (v && (*v < INT32_MIN || *v > INT32_MAX)) {
              e->Add(p, absl::StrCat(*v, " is out of range"));
            } else if (v) {
              set(static_cast<int32_t>(*v));
            }
          }};
}

// A field read by a typed scalar reader and stored by `set`.
template <typename T>
Field Scalar(const std::string& key,
             std::optional<T> (*read)(const YAML::Node&, const std::string&,
                                      YamlErrors*),
             std::function<void(const T&)> set) {
  return {key, [read, set](const YAML::Node& n, const std::string& p,
                           YamlErrors* e) {
            if (std::optional<T> v = read(n, p, e)) set(*v);
          }};
}

Field Int64(const std::string& key, std::function<void(const int64_t&)> set) {
  return Scalar<int64_t>(key, internal::ReadInt, std::move(set));
}
Field Bytes(const std::string& key, std::function<void(const int64_t&)> set) {
  return Scalar<int64_t>(key, internal::ReadBytes, std::move(set));
}
Field Seconds(const std::string& key, std::function<void(const int64_t&)> set) {
  return Scalar<int64_t>(key, internal::ReadDurationSeconds, std::move(set));
}
Field Double(const std::string& key, std::function<void(const double&)> set) {
  return Scalar<double>(key, internal::ReadDouble, std::move(set));
}
Field Bool(const std::string& key, std::function<void(const bool&)> set) {
  return Scalar<bool>(key, internal::ReadBool, std::move(set));
}
Field String(const std::string& key,
             std::function<void(const std::string&)> set) {
  return Scalar<std::string>(key, internal::ReadString, std::move(set));
}

std::optional<v1::LayerType> ReadLayerType(const YAML::Node& n,
                                           const std::string& p,
                                           YamlErrors* e) {
  std::optional<std::string> name = internal::ReadString(n, p, e);
  if (!name) return std::nullopt;
  absl::StatusOr<v1::LayerType> type = ParseLayerType(*name);
  if (!type.ok()) e->Add(p, std::string(type.status().message()));
  return type.ok() ? std::optional<v1::LayerType>(*type) : std::nullopt;
}

Field LayerTypeField(const std::string& key,
                     std::function<void(const v1::LayerType&)> set) {
  return Scalar<v1::LayerType>(key, ReadLayerType, std::move(set));
}

// A list whose items are read by `item`; an explicit empty list is an error
// (leave the key out to get the default).
Field List(const std::string& key, Reader item) {
  return {key,
          [item](const YAML::Node& n, const std::string& p, YamlErrors* e) {
            std::optional<std::vector<YAML::Node>> items =
                internal::ReadList(n, p, e);
            if (!items) return;
            if (items->empty()) e->Add(p, "must not be empty");
            for (size_t i = 0; i < items->size(); ++i) {
              item((*items)[i], internal::IndexPath(p, i), e);
            }
          }};
}

Field IntList(const std::string& key, std::function<void(int32_t)> add) {
  return List(key, Int32("", add).read);
}

// input_shape: [1, 28, 28] or "1x28x28".
Reader ShapeReader(v1::TensorShape* shape) {
  return [shape](const YAML::Node& n, const std::string& p, YamlErrors* e) {
    std::vector<std::string> parts;
    if (n.IsScalar()) {
      parts =
          absl::StrSplit(n.Scalar(), absl::ByAnyChar("x, "), absl::SkipEmpty());
    } else if (n.IsSequence()) {
      for (const YAML::Node& item : n) {
        parts.push_back(item.IsScalar() ? item.Scalar() : "?");
      }
    }
    shape->Clear();
    for (const std::string& part : parts) {
      int64_t dim = 0;
      if (!absl::SimpleAtoi(part, &dim)) {
        e->Add(p, "expected a shape such as [1, 28, 28] or \"1x28x28\"");
        shape->Clear();
        return;
      }
      shape->add_dims(dim);
    }
    if (parts.empty()) e->Add(p, "expected a shape such as [1, 28, 28]");
  };
}

Field FormatField(v1::DatasetSpec* d) {
  return {
      "format", [d](const YAML::Node& n, const std::string& p, YamlErrors* e) {
        std::optional<std::string> v = internal::ReadString(n, p, e);
        if (!v) return;
        if (const data::FormatInfo* f = data::FindFormat(*v)) {
          d->set_format(f->format);
        } else {
          e->Add(p, absl::StrCat("unknown format '", *v, "' (",
                                 data::FormatNames(), ")"));
        }
      }};
}

// A field whose text picks one of `choices` (case and '-'/'_' ignored).
template <typename Enum>
Field ChoiceField(const std::string& key,
                  std::vector<std::pair<std::string, Enum>> choices,
                  std::function<void(Enum)> set) {
  return {key, [choices, set](const YAML::Node& n, const std::string& p,
                              YamlErrors* e) {
            std::optional<std::string> v = internal::ReadString(n, p, e);
            if (!v) return;
            std::string text = absl::AsciiStrToLower(*v);
            std::replace(text.begin(), text.end(), '-', '_');
            std::vector<std::string> names;
            for (const auto& [name, value] : choices) {
              if (name == text) return set(value);
              names.push_back(name);
            }
            e->Add(p, absl::StrCat("unknown value '", *v, "' (",
                                   absl::StrJoin(names, ", "), ")"));
          }};
}

std::vector<Field> DatasetFields(v1::DatasetSpec* d) {
  return {
      String("name", [d](const std::string& v) { d->set_name(v); }),
      FormatField(d),
      String("train_path", [d](const std::string& v) { d->set_train_path(v); }),
      String("train_labels_path",
             [d](const std::string& v) { d->set_train_labels_path(v); }),
      String("test_path", [d](const std::string& v) { d->set_test_path(v); }),
      String("test_labels_path",
             [d](const std::string& v) { d->set_test_labels_path(v); }),
      {"input_shape", ShapeReader(d->mutable_input_shape())},
      Int32("num_classes", [d](int32_t v) { d->set_num_classes(v); }),
      Double("validation_fraction",
             [d](double v) { d->set_validation_fraction(v); }),
      Int64("train_subset", [d](int64_t v) { d->set_train_subset(v); }),
      Int64("validation_subset",
            [d](int64_t v) { d->set_validation_subset(v); }),
      Bool("evaluate_test", [d](bool v) { d->set_evaluate_test(v); }),
      ChoiceField<v1::SeriesLayout>(
          "layout",
          {{"channel_major", v1::CHANNEL_MAJOR},
           {"time_major", v1::TIME_MAJOR}},
          [d](v1::SeriesLayout v) { d->set_layout(v); }),
      Int64("length", [d](int64_t v) { d->set_length(v); }),
      ChoiceField<v1::PadSide>(
          "pad", {{"end", v1::PAD_END}, {"start", v1::PAD_START}},
          [d](v1::PadSide v) { d->set_pad(v); }),
      String("label_column",
             [d](const std::string& v) { d->set_label_column(v); }),
      ChoiceField<v1::Normalization>(
          "normalization",
          {{"none", v1::NORMALIZATION_NONE},
           {"scale", v1::NORMALIZATION_SCALE},
           {"zscore", v1::NORMALIZATION_ZSCORE}},
          [d](v1::Normalization v) { d->set_normalization(v); }),
  };
}

// validation: {folds, fraction}; fraction is dataset.validation_fraction
// under another name (one of the two).
std::vector<Field> ValidationFields(v1::DatasetSpec* d) {
  return {
      Int32("folds", [d](int32_t v) { d->set_folds(v); }),
      {"fraction",
       [d](const YAML::Node& n, const std::string& p, YamlErrors* e) {
         std::optional<double> v = internal::ReadDouble(n, p, e);
         if (!v) return;
         if (d->validation_fraction() != 0) {
           e->Add(p, "also given as dataset.validation_fraction: give one");
         } else if (d->folds() > 1) {
           e->Add(p, absl::StrCat("unused with ", d->folds(),
                                  " folds (each fold validates on 1/",
                                  d->folds(), " of the training file)"));
         }
         d->set_validation_fraction(*v);
       }},
  };
}

std::vector<Field> DeviceFields(v1::DeviceProfile* d) {
  return {
      String("name", [d](const std::string& v) { d->set_name(v); }),
      Bytes("sram_bytes", [d](int64_t v) { d->set_sram_bytes(v); }),
      Bytes("flash_bytes", [d](int64_t v) { d->set_flash_bytes(v); }),
      String("core", [d](const std::string& v) { d->set_core(v); }),
      Double("clock_hz", [d](double v) { d->set_clock_hz(v); }),
      Double("cycles_per_mac", [d](double v) { d->set_cycles_per_mac(v); }),
      Bytes("flash_reserved_bytes",
            [d](int64_t v) { d->set_flash_reserved_bytes(v); }),
      Bytes("sram_reserved_bytes",
            [d](int64_t v) { d->set_sram_reserved_bytes(v); }),
  };
}

std::vector<Field> SpaceFields(v1::SearchSpace* s) {
  return {
      List("layer_types",
           LayerTypeField("", [s](v1::LayerType t) { s->add_layer_types(t); })
               .read),
      IntList("channels", [s](int32_t v) { s->add_channels(v); }),
      IntList("kernels", [s](int32_t v) { s->add_kernels(v); }),
      IntList("strides", [s](int32_t v) { s->add_strides(v); }),
      IntList("dense_units", [s](int32_t v) { s->add_dense_units(v); }),
      Int32("min_layers", [s](int32_t v) { s->set_min_layers(v); }),
      Int32("max_layers", [s](int32_t v) { s->set_max_layers(v); }),
      Int32("max_dense_layers", [s](int32_t v) { s->set_max_dense_layers(v); }),
      Bool("batch_norm", [s](bool v) { s->set_batch_norm(v); }),
      LayerTypeField("activation",
                     [s](v1::LayerType t) { s->set_activation(t); }),
      List(
          "dropout_rates",
          Double("",
                 [s](double v) { s->add_dropout_rates(static_cast<float>(v)); })
              .read),
      String("padding",
             [s](const std::string& v) {
               s->set_padding(absl::AsciiStrToLower(v));
             }),
      Int32("max_consecutive_pooling",
            [s](int32_t v) { s->set_max_consecutive_pooling(v); }),
  };
}

std::vector<Field> TrainingFields(v1::TrainingRecipe* t) {
  return {
      String("optimizer",
             [t](const std::string& v) {
               t->set_optimizer(absl::AsciiStrToLower(v));
             }),
      Double("learning_rate", [t](double v) { t->set_learning_rate(v); }),
      Double("momentum", [t](double v) { t->set_momentum(v); }),
      Double("weight_decay", [t](double v) { t->set_weight_decay(v); }),
      Int32("epochs", [t](int32_t v) { t->set_epochs(v); }),
      Int32("batch_size", [t](int32_t v) { t->set_batch_size(v); }),
      Int32("latency_runs", [t](int32_t v) { t->set_latency_runs(v); }),
      String("quantize",
             [t](const std::string& v) {
               t->set_quantize(absl::AsciiStrToLower(v));
             }),
      Int32("qat_epochs", [t](int32_t v) { t->set_qat_epochs(v); }),
      Int32("calibration_samples",
            [t](int32_t v) { t->set_calibration_samples(v); }),
      String("calibration",
             [t](const std::string& v) {
               t->set_calibration(absl::AsciiStrToLower(v));
             }),
      Double("calibration_percentile",
             [t](double v) { t->set_calibration_percentile(v); }),
  };
}

std::vector<Field> BudgetFields(v1::Budget* b) {
  return {
      Int32("max_trials", [b](int32_t v) { b->set_max_trials(v); }),
      Seconds("max_duration_s", [b](int64_t v) { b->set_max_duration_s(v); }),
      Seconds("max_duration", [b](int64_t v) { b->set_max_duration_s(v); }),
      Int32("max_infeasible", [b](int32_t v) { b->set_max_infeasible(v); }),
      Int32("max_attempts", [b](int32_t v) { b->set_max_attempts(v); }),
  };
}

std::vector<Field> RewardFields(v1::RewardSpec* r) {
  std::vector<Field> fields = {
      String(
          "type",
          [r](const std::string& v) { r->set_type(absl::AsciiStrToLower(v)); }),
      String("metric",
             [r](const std::string& v) {
               r->set_metric(absl::AsciiStrToLower(v));
             }),
  };
  using Setter = void (v1::RewardSpec::*)(double);
  const std::pair<const char*, Setter> doubles[] = {
      {"weight_accuracy", &v1::RewardSpec::set_weight_accuracy},
      {"weight_flash", &v1::RewardSpec::set_weight_flash},
      {"weight_sram", &v1::RewardSpec::set_weight_sram},
      {"weight_macs", &v1::RewardSpec::set_weight_macs},
      {"weight_latency", &v1::RewardSpec::set_weight_latency},
      {"exp_flash", &v1::RewardSpec::set_exp_flash},
      {"exp_sram", &v1::RewardSpec::set_exp_sram},
      {"exp_macs", &v1::RewardSpec::set_exp_macs},
      {"exp_latency", &v1::RewardSpec::set_exp_latency},
      {"alpha", &v1::RewardSpec::set_alpha},
      {"lambda_error", &v1::RewardSpec::set_lambda_error},
      {"lambda_flash", &v1::RewardSpec::set_lambda_flash},
      {"lambda_sram", &v1::RewardSpec::set_lambda_sram},
      {"lambda_macs", &v1::RewardSpec::set_lambda_macs},
      {"error_bound", &v1::RewardSpec::set_error_bound},
  };
  for (const auto& [key, setter] : doubles) {
    fields.push_back(
        Double(key, [r, setter = setter](double v) { (r->*setter)(v); }));
  }
  fields.push_back(
      Bool("draw_lambdas", [r](bool v) { r->set_draw_lambdas(v); }));
  return fields;
}

std::vector<Field> ConstraintFields(v1::Constraints* c) {
  return {
      Bytes("max_flash_bytes", [c](int64_t v) { c->set_max_flash_bytes(v); }),
      Bytes("max_sram_bytes", [c](int64_t v) { c->set_max_sram_bytes(v); }),
      Int64("max_macs", [c](int64_t v) { c->set_max_macs(v); }),
      Double("max_latency_ms", [c](double v) { c->set_max_latency_ms(v); }),
      Int64("max_params", [c](int64_t v) { c->set_max_params(v); }),
      Double("min_accuracy", [c](double v) { c->set_min_accuracy(v); }),
      Double("min_macro_f1", [c](double v) { c->set_min_macro_f1(v); }),
  };
}

// device: a built-in name or a custom profile map.
Reader DeviceReader(v1::SearchSpec* spec) {
  return [spec](const YAML::Node& n, const std::string& p, YamlErrors* e) {
    if (n.IsScalar()) {
      spec->set_device(n.Scalar());
      return;
    }
    if (!n.IsMap()) {
      e->Add(p, "expected a device name or a map {name, sram_bytes, ...}");
      return;
    }
    ReadSection(n, p, DeviceFields(spec->mutable_custom_device()), e);
    spec->set_device(spec->custom_device().name());
  };
}

// One seed architecture in any ParseArchitecture form.
Reader SeedArchitectureReader(v1::SearchSpec* spec) {
  return [spec](const YAML::Node& n, const std::string& p, YamlErrors* e) {
    std::string text;
    if (n.IsScalar()) {
      text = n.Scalar();
    } else {
      YAML::Emitter out;
      out << YAML::Flow << n;
      text = out.c_str();
    }
    absl::StatusOr<v1::Architecture> arch = ParseArchitecture(text);
    if (arch.ok()) {
      *spec->add_seed_architectures() = *arch;
    } else {
      for (absl::string_view line :
           absl::StrSplit(arch.status().message(), '\n')) {
        e->Add(p, std::string(line));
      }
    }
  };
}

Reader SectionReader(std::vector<Field> fields) {
  return [fields](const YAML::Node& n, const std::string& p, YamlErrors* e) {
    ReadSection(n, p, fields, e);
  };
}

std::vector<Field> EpsilonStepFields(v1::EpsilonStep* step) {
  return {
      Double("epsilon", [step](double v) { step->set_epsilon(v); }),
      Int32("models", [step](int32_t v) { step->set_models(v); }),
  };
}

std::vector<Field> QLearningFields(v1::QLearningSpec* q) {
  return {
      List("epsilon_schedule",
           [q](const YAML::Node& n, const std::string& p, YamlErrors* e) {
             ReadSection(n, p, EpsilonStepFields(q->add_epsilon_schedule()),
                         e);
           }),
      Double("learning_rate", [q](double v) { q->set_learning_rate(v); }),
      Double("alpha", [q](double v) { q->set_learning_rate(v); }),
      Double("discount", [q](double v) { q->set_discount(v); }),
      Double("gamma", [q](double v) { q->set_discount(v); }),
      Double("initial_q", [q](double v) { q->set_initial_q(v); }),
      Int32("replay_per_model", [q](int32_t v) { q->set_replay_per_model(v); }),
      IntList("size_bins", [q](int32_t v) { q->add_size_bins(v); }),
  };
}

std::vector<Field> EvolutionFields(v1::EvolutionSpec* evo) {
  return {
      Int32("population", [evo](int32_t v) { evo->set_population(v); }),
      Int32("sample", [evo](int32_t v) { evo->set_sample(v); }),
      String("remove",
             [evo](const std::string& v) {
               evo->set_remove(absl::AsciiStrToLower(v));
             }),
      Double("mutation_rate", [evo](double v) { evo->set_mutation_rate(v); }),
  };
}

std::vector<Field> TopLevelFields(v1::SearchSpec* spec) {
  return {
      String("name", [spec](const std::string& v) { spec->set_name(v); }),
      {"dataset", SectionReader(DatasetFields(spec->mutable_dataset()))},
      // After dataset: fraction is checked against dataset's.
      {"validation",
       SectionReader(ValidationFields(spec->mutable_dataset()))},
      {"device", DeviceReader(spec)},
      {"space", SectionReader(SpaceFields(spec->mutable_space()))},
      {"training", SectionReader(TrainingFields(spec->mutable_training()))},
      {"budget", SectionReader(BudgetFields(spec->mutable_budget()))},
      String("policy",
             [spec](const std::string& v) {
               spec->set_policy(absl::AsciiStrToLower(v));
             }),
      // The deployment form; stored in the recipe (it keys the cache).
      String("quantize",
             [spec](const std::string& v) {
               spec->mutable_training()->set_quantize(absl::AsciiStrToLower(v));
             }),
      {"reward", SectionReader(RewardFields(spec->mutable_reward()))},
      // Sub-messages made only when the key is there (has_qlearning()).
      {"qlearning",
       [spec](const YAML::Node& n, const std::string& p, YamlErrors* e) {
         ReadSection(n, p, QLearningFields(spec->mutable_qlearning()), e);
       }},
      {"evolution",
       [spec](const YAML::Node& n, const std::string& p, YamlErrors* e) {
         ReadSection(n, p, EvolutionFields(spec->mutable_evolution()), e);
       }},
      {"constraints",
       SectionReader(ConstraintFields(spec->mutable_constraints()))},
      {"seed",
       [spec](const YAML::Node& n, const std::string& p, YamlErrors* e) {
         uint64_t seed = 0;
         if (n.IsScalar() && absl::SimpleAtoi(n.Scalar(), &seed)) {
           spec->set_seed(seed);
         } else {
           e->Add(p, absl::StrCat("expected a non-negative integer, got '",
                                  n.IsScalar() ? n.Scalar() : "?", "'"));
         }
       }},
      List("seed_architectures", SeedArchitectureReader(spec)),
  };
}


// Reads every field of `yaml` that it can into `spec`, recording each YAML
// problem in `errors`. Fails only when the text is not YAML at all.
absl::Status ReadSpec(absl::string_view yaml, v1::SearchSpec* spec,
                      YamlErrors* errors) {
  NAS_ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYaml(yaml));
  spec->mutable_space()->set_batch_norm(true);  // Unless the YAML says so.
  if (!root.IsMap()) {
    errors->Add("",
                "a search spec must be a YAML map (name, dataset, device, ...)");
    return absl::OkStatus();
  }
  ReadSection(root, "", TopLevelFields(spec), errors);
  return absl::OkStatus();
}

// "space.layer_types[2]: unknown ..." -> "space.layer_types".
std::string FieldOfProblem(absl::string_view line) {
  absl::string_view field = line.substr(0, line.find(": "));
  return std::string(field.substr(0, field.find('[')));
}

bool SameOrNestedField(absl::string_view a, absl::string_view b) {
  auto nested = [](absl::string_view outer, absl::string_view inner) {
    return absl::StartsWith(inner, outer) &&
           (inner.size() == outer.size() || inner[outer.size()] == '.');
  };
  return nested(a, b) || nested(b, a);
}

}  // namespace

absl::StatusOr<v1::SearchSpec> ParseSearchSpecYaml(absl::string_view yaml) {
  v1::SearchSpec spec;
  YamlErrors errors;
  NAS_RETURN_IF_ERROR(ReadSpec(yaml, &spec, &errors));
  NAS_RETURN_IF_ERROR(errors.ToStatus());
  return spec;
}

absl::StatusOr<v1::SearchSpec> ParseAndCompleteSearchSpecYaml(
    absl::string_view yaml, const std::string& data_root) {
  v1::SearchSpec spec;
  YamlErrors errors;
  NAS_RETURN_IF_ERROR(ReadSpec(yaml, &spec, &errors));
  absl::StatusOr<v1::SearchSpec> completed = CompleteSearchSpec(spec, data_root);
  if (errors.empty() || completed.ok()) {
    return errors.empty() ? completed : errors.ToStatus();
  }
  std::vector<std::string> yaml_fields;
  for (const std::string& line : errors.lines()) {
    yaml_fields.push_back(FieldOfProblem(line));
  }
  for (absl::string_view line :
       absl::StrSplit(completed.status().message(), '\n', absl::SkipEmpty())) {
    const std::string field = FieldOfProblem(line);
    const bool covered =
        std::any_of(yaml_fields.begin(), yaml_fields.end(),
                    [&](const std::string& f) { return SameOrNestedField(f, field); });
    if (!covered) errors.Add("", std::string(line));
  }
  return errors.ToStatus();
}

}  // namespace nas
