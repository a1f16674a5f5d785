#ifndef NAS_NASCTL_EXPORT_C_H_
#define NAS_NASCTL_EXPORT_C_H_

// `nasctl export SEARCH TRIAL --format c -o DIR`: a trial's int8 model
// (ExportModel with format INT8) written as a C library (mcu/codegen) into
// a folder.

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nasctl/args.h"
#include "nasctl/client.h"
#include "proto/nas.pb.h"

namespace nas::nasctl {

// What was written.
struct CExport {
  std::string dir;
  int files = 0;
  int64_t flash_bytes = 0;  // The constant tables (TINYNAS_FLASH_BYTES).
  int64_t arena_bytes = 0;  // TINYNAS_ARENA_BYTES.
  int test_vectors = 0;
};

// Generates the library of `model` and writes it into `dir` all at once
// (mcu::WriteCLibrary). InvalidArgument naming the problem, with nothing
// written, for a model the runtime cannot run or a refused folder.
absl::StatusOr<CExport> WriteCExport(const v1::QuantizedModel& model, const std::string& dir,
                                     bool force);

// The whole command: checks the folder inv.output (non-empty without
// inv.force: refused before any call), asks `client` for the trial's int8
// model, writes the library and prints where and its flash and arena bytes
// to `out` (a JSON document with --json). FailedPrecondition when the trial
// has none: "trial 7 has no trained model (it is FAILED)", "trial 7 has no
// int8 model: its search ran with quantize: none", or what its notes say.
absl::Status ExportCLibrary(ControllerClient* client, const Invocation& inv, int64_t search_id,
                            int64_t trial_id, std::ostream* out);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_EXPORT_C_H_
