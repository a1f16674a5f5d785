#ifndef NAS_MCU_CODEGEN_LIBRARY_WRITER_H_
#define NAS_MCU_CODEGEN_LIBRARY_WRITER_H_

// Writes a generated C library into a folder all at once: the files go into
// a fresh temporary sibling folder that is then renamed into place, so the
// folder is never seen half-written, and a failure leaves what was there
// before untouched.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mcu/codegen/c_library.h"

namespace nas::mcu {

// OK when `dir` can take the library: it does not exist, or is an empty
// folder, or `force` is set and it is a folder. InvalidArgument naming the
// problem otherwise ("out exists and is not empty (--force replaces it)",
// "out exists and is not a folder"). Looks only; changes nothing.
absl::Status CheckOutputFolder(const std::string& dir, bool force);

// CheckOutputFolder, then writes `files` (relative paths) into a temporary
// folder beside `dir` (its parents are created) and renames it to `dir`.
// With `force` an existing `dir` is first moved aside, and deleted once the
// new one is in place (restored if the rename fails). InvalidArgument for a
// refused folder or a path that leaves it; InvalidArgument "cannot write
// ..." for an I/O failure, after which nothing new is left behind.
absl::Status WriteCLibrary(const std::vector<GeneratedFile>& files, const std::string& dir,
                           bool force);

}  // namespace nas::mcu

#endif  // NAS_MCU_CODEGEN_LIBRARY_WRITER_H_
