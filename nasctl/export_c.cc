#include "nasctl/export_c.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "mcu/codegen/c_library.h"
#include "mcu/codegen/library_writer.h"
#include "mcu/model_tables.h"
#include "nasctl/format.h"
#include "nlohmann/json.hpp"

namespace nas::nasctl {
namespace {

bool HasInt8Model(const v1::ExportModelResponse& reply) {
  return reply.has_int8_model() && reply.int8_model().layers_size() > 0;
}

absl::Status NoInt8Model(const v1::Trial& trial, const std::string& quantize) {
  const std::string name = absl::StrCat("trial ", trial.id());
  if (trial.state() != v1::TRIAL_SUCCEEDED) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " has no trained model (it is ", TrialStateName(trial.state()), ")"));
  }
  if (quantize == "none") {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " has no int8 model: its search ran with quantize: none"));
  }
  std::string why;
  if (!trial.metrics().notes().empty()) why = absl::StrCat(": ", trial.metrics().notes(0));
  return absl::FailedPreconditionError(absl::StrCat(name, " has no int8 model", why));
}

std::string RenderCExport(const CExport& done, const v1::Trial& trial) {
  const v1::Metrics& m = trial.metrics();
  const std::string accuracy =
      m.int8() ? absl::StrCat(", int8 accuracy ", FormatScore(m.accuracy_int8())) : "";
  const std::string build = absl::StrCat(done.dir, "/build");
  return absl::StrCat("exported trial ", trial.id(), " (#", trial.number(), accuracy,
                      ") as a C library to ", done.dir, " (", done.files, " files)\n", "  flash ",
                      done.flash_bytes, " B of constant tables (+ the runtime's code), ", "arena ",
                      done.arena_bytes, " B\n", "  check its ", done.test_vectors,
                      " test vectors: cmake -S ", done.dir, " -B ", build, " && cmake --build ",
                      build, " && ", build, "/tinynas_example\n");
}

std::string CExportToJson(const CExport& done, const v1::Trial& trial) {
  nlohmann::json doc = {{"path", done.dir},
                        {"format", "c"},
                        {"files", done.files},
                        {"flash_bytes", done.flash_bytes},
                        {"arena_bytes", done.arena_bytes},
                        {"test_vectors", done.test_vectors},
                        {"trial", nlohmann::json::parse(ToJson(trial))}};
  return doc.dump(2) + "\n";
}

}  // namespace

absl::StatusOr<CExport> WriteCExport(const v1::QuantizedModel& model, const std::string& dir,
                                     bool force) {
  NAS_ASSIGN_OR_RETURN(std::vector<mcu::GeneratedFile> files, mcu::GenerateCLibrary(model));
  NAS_RETURN_IF_ERROR(mcu::WriteCLibrary(files, dir, force));
  CExport done;
  done.dir = dir;
  done.files = static_cast<int>(files.size());
  // GenerateCLibrary accepted the model, so its plan is the tables'.
  NAS_ASSIGN_OR_RETURN(const mcu::ModelTables tables, mcu::BuildTables(model));
  done.flash_bytes = tables.ConstantBytes();
  done.arena_bytes = tables.arena_bytes;
  done.test_vectors = model.test_labels_size();
  return done;
}

absl::Status ExportCLibrary(ControllerClient* client, const Invocation& inv, int64_t search_id,
                            int64_t trial_id, std::ostream* out) {
  NAS_RETURN_IF_ERROR(mcu::CheckOutputFolder(inv.output, inv.force));
  NAS_ASSIGN_OR_RETURN(const v1::ExportModelResponse reply,
                       client->Export(search_id, trial_id, v1::INT8));
  if (!HasInt8Model(reply)) {
    // The search's spec only explains why (quantize: none).
    absl::StatusOr<v1::Search> search = client->GetSearch(search_id);
    return NoInt8Model(reply.trial(), search.ok() ? search->spec().training().quantize() : "");
  }
  NAS_ASSIGN_OR_RETURN(const CExport done, WriteCExport(reply.int8_model(), inv.output, inv.force));
  *out << (inv.global.json ? CExportToJson(done, reply.trial())
                           : RenderCExport(done, reply.trial()));
  return absl::OkStatus();
}

}  // namespace nas::nasctl
