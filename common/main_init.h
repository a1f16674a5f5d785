#ifndef NAS_COMMON_MAIN_INIT_H_
#define NAS_COMMON_MAIN_INIT_H_

#include "absl/strings/string_view.h"

namespace nas {

// What a server binary's main() does first:
//  - turns off Abseil's mutex deadlock detection, which Debian's Abseil
//    (built without NDEBUG) leaves on: it records every lock acquisition in
//    a graph under one global lock, a cost on every absl::Mutex of a busy
//    server (the tests keep it on);
//  - parses the command line with Abseil's flags: `--help` lists the flags
//    defined in the source file whose path ends with `main_file` (e.g.
//    "worker/main.cc"; Abseil's default looks for a file named after the
//    binary, and finds none), `--helpfull` adds the libraries' own; `usage`
//    is the help's first line;
//  - sets up logging (InitLogging).
void InitMain(int argc, char** argv, absl::string_view usage,
              absl::string_view main_file);

}  // namespace nas

#endif  // NAS_COMMON_MAIN_INIT_H_
