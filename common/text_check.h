#ifndef NAS_COMMON_TEXT_CHECK_H_
#define NAS_COMMON_TEXT_CHECK_H_

// The check every free-text field from outside goes through (names, paths,
// ids, devices): bounded length, no control characters. PostgreSQL text
// cannot hold NUL, and names end up in terminals and logs, where escape
// sequences and line breaks do harm.

#include <cstddef>
#include <optional>
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

// The offset of the first byte of `text` that is not part of well-formed
// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF, no sequence cut short), or nullopt when all of it is.
inline std::optional<size_t> FirstNonUtf8Byte(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Length of the sequence and the range of its second byte.
    size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;   // Overlong.
      if (c == 0xed) high = 0x9f;  // Surrogates.
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;   // Overlong.
      if (c == 0xf4) high = 0x8f;  // Above U+10FFFF.
    } else {
      return i;
    }
    for (size_t k = 1; k < length; ++k) {
      if (i + k >= text.size()) return i;
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if (k == 1 ? (next < low || next > high) : (next < 0x80 || next > 0xbf)) {
        return i;
      }
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace nas

#endif  // NAS_COMMON_TEXT_CHECK_H_
