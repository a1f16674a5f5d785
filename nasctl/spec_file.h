#ifndef NAS_NASCTL_SPEC_FILE_H_
#define NAS_NASCTL_SPEC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace nas::nasctl {

// Reads a search spec file for `nasctl submit`. The controller may run in
// another folder (or machine), so relative data file paths in the
// `dataset:` section (every key ending in `_path`) are made absolute against
// the folder of the spec file before the YAML is sent. Everything else is
// left to the controller's parser, which names every problem; text that is
// not valid YAML is sent unchanged for the same reason.
// InvalidArgument when the file cannot be read, is empty, or is not text
// (CheckIsText).
absl::StatusOr<std::string> LoadSpecYaml(const std::string& path);

// InvalidArgument "PATH is not UTF-8 text: byte 0xff at offset 17 (line 2)"
// naming the first byte of `text` that is not well-formed UTF-8 or is NUL.
absl::Status CheckIsText(const std::string& path, absl::string_view text);

// The rewrite step on its own: `yaml` with relative dataset paths resolved
// against `base_dir` (returned unchanged when there is nothing to resolve).
std::string ResolveDatasetPaths(const std::string& yaml, absl::string_view base_dir);

// Reads a whole file; InvalidArgument naming the path and the OS error.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_SPEC_FILE_H_
