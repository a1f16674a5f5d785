#ifndef NAS_MCU_CODEGEN_RUNTIME_SOURCES_H_
#define NAS_MCU_CODEGEN_RUNTIME_SOURCES_H_

// The int8 runtime's source files (the CMake global property
// TINYNAS_MCU_RUNTIME_FILES, set by mcu/runtime/CMakeLists.txt), embedded
// into this library at build time by embed_runtime.cmake, so the exporter
// needs no source tree at run time.

#include <cstddef>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace nas::mcu {

struct EmbeddedFile {
  const char* path;  // Relative to mcu/runtime/, '/'-separated.
  const unsigned char* data;
  size_t size;
  absl::string_view contents() const {
    return absl::string_view(reinterpret_cast<const char*>(data), size);
  }
};

// In path order; empty when the build found no runtime files.
absl::Span<const EmbeddedFile> RuntimeSources();

}  // namespace nas::mcu

#endif  // NAS_MCU_CODEGEN_RUNTIME_SOURCES_H_
