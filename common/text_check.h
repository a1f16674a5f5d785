#ifndef NAS_COMMON_TEXT_CHECK_H_
#define NAS_COMMON_TEXT_CHECK_H_

// The check every free-text field from outside goes through (names, paths,
// ids, devices): bounded length, no control characters. PostgreSQL text
// cannot hold NUL, and names end up in terminals and logs, where escape
// sequences and line breaks do harm.

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace nas {

// InvalidArgument naming `field` for an empty (when `required`) or over-long
// text, or one holding an ASCII control character (0x00-0x1f, 0x7f).
inline absl::Status CheckText(absl::string_view field, absl::string_view text,
                              size_t max_length, bool required) {
  if (required && text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (text.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", text.size(), " bytes, at most ", max_length, " allowed"));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s contains a control character (byte 0x%02x at offset %d)", field,
          c, i));
    }
  }
  return absl::OkStatus();
}

}  // namespace nas

#endif  // NAS_COMMON_TEXT_CHECK_H_
