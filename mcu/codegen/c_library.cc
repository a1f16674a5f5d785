#include "mcu/codegen/c_library.h"

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/architecture.h"
#include "common/status_macros.h"
#include "mcu/codegen/library_parts.h"
#include "mcu/codegen/runtime_sources.h"
#include "mcu/model_tables.h"

namespace nas::mcu {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("cannot export: int8 model: ", why));
}

bool GoodScale(float scale) { return std::isfinite(scale) && scale > 0; }

// What BuildTables does not check: the model-level fields the library's
// header and test vectors are written from.
absl::Status CheckModel(const v1::QuantizedModel& m, const ModelTables& t) {
  const int rank = m.input_shape().dims_size();
  if (rank < 1 || rank > 3 || NumElements(m.input_shape()) != t.input_bytes) {
    return Invalid(absl::StrCat("input shape ", ShapeToString(m.input_shape()),
                                " does not hold the model's ", t.input_bytes, " input values"));
  }
  if (m.num_classes() < 1 || m.num_classes() != t.output_bytes) {
    return Invalid(
        absl::StrCat(m.num_classes(), " classes but ", t.output_bytes, " output values"));
  }
  if (m.labels_size() != 0 && m.labels_size() != m.num_classes()) {
    return Invalid(absl::StrCat(m.labels_size(), " labels for ", m.num_classes(), " classes"));
  }
  if (!GoodScale(m.input_scale()) || !GoodScale(m.output_scale())) {
    return Invalid("the input and output scales must be positive");
  }
  if (m.input_zero_point() < -128 || m.input_zero_point() > 127 || m.output_zero_point() < -128 ||
      m.output_zero_point() > 127) {
    return Invalid("the input and output zero points must be int8 values");
  }
  if (m.input_mean_size() != m.input_std_size()) {
    return Invalid(absl::StrCat(m.input_mean_size(), " input means but ", m.input_std_size(),
                                " standard deviations"));
  }
  return absl::OkStatus();
}

// The number of test vectors, once their three fields agree.
absl::StatusOr<int> CountTestVectors(const v1::QuantizedModel& m, const ModelTables& t) {
  const int64_t n = m.test_labels_size();
  if (static_cast<int64_t>(m.test_inputs().size()) != n * t.input_bytes ||
      static_cast<int64_t>(m.test_outputs().size()) != n * t.output_bytes) {
    return Invalid(absl::StrCat("the test vectors do not agree: ", n, " labels, ",
                                m.test_inputs().size(), " input bytes (", t.input_bytes, " each), ",
                                m.test_outputs().size(), " output bytes (", t.output_bytes,
                                " each)"));
  }
  for (int i = 0; i < n; ++i) {
    if (m.test_labels(i) < 0 || m.test_labels(i) >= m.num_classes()) {
      return Invalid(absl::StrCat("test vector ", i, " has label ", m.test_labels(i),
                                  ", not a class of ", m.num_classes()));
    }
  }
  return static_cast<int>(n);
}

}  // namespace

absl::StatusOr<std::vector<GeneratedFile>> GenerateCLibrary(const v1::QuantizedModel& model) {
  const absl::Span<const EmbeddedFile> runtime = RuntimeSources();
  if (runtime.empty()) {
    return absl::FailedPreconditionError(
        "this build has no int8 runtime sources to export (mcu/runtime/ set no "
        "TINYNAS_MCU_RUNTIME_FILES)");
  }
  absl::StatusOr<ModelTables> tables = BuildTables(model);
  if (!tables.ok()) {
    // BuildTables names the layer and the problem ("int8 layer 3 (INT8_CONV): ...").
    return absl::InvalidArgumentError(absl::StrCat("cannot export: ", tables.status().message()));
  }
  LibraryInputs in;
  in.model = &model;
  in.tables = *std::move(tables);
  NAS_RETURN_IF_ERROR(CheckModel(model, in.tables));
  NAS_ASSIGN_OR_RETURN(in.num_test_vectors, CountTestVectors(model, in.tables));
  in.arch_layers = absl::StrSplit(model.architecture(), ' ', absl::SkipWhitespace());
  for (const EmbeddedFile& file : runtime) {
    in.runtime_paths.push_back(absl::StrCat("runtime/", file.path));
  }
  std::vector<GeneratedFile> files = {
      {"model.h", ModelHeader(in)},
      {"model.c", ModelSource(in)},
      {"test_vectors.h", TestVectorsHeader(in)},
      {"main.c", ExampleMain(in)},
      {"CMakeLists.txt", CMakeFile(in)},
      {"README.md", Readme(in)},
  };
  for (size_t i = 0; i < runtime.size(); ++i) {
    files.push_back({in.runtime_paths[i], std::string(runtime[i].contents())});
  }
  return files;
}

}  // namespace nas::mcu
