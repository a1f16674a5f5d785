#ifndef NAS_MCU_CODEGEN_C_TEXT_H_
#define NAS_MCU_CODEGEN_C_TEXT_H_

// Text helpers of the C library generator: literals that mean exactly the
// value in C99 and comments that cannot end early. Pure functions.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace nas::mcu {

// Generated lines stay within this many characters.
inline constexpr int kMaxLineWidth = 100;

// A float literal that reads back as exactly `value` ("0.0123456791f",
// "1.0f"); non-finite values are written as 0.0f (they never reach here
// from a valid model).
std::string CFloatLiteral(float value);

// A C string literal of `text` ("class \"a\""): printable ASCII is kept
// (with \, " and ? escaped), everything else becomes a three-digit octal
// escape.
std::string CStringLiteral(absl::string_view text);

// `text` made safe inside a /* */ comment: only printable ASCII ('?' for
// anything else), no "*/", no trigraph.
std::string CommentSafe(absl::string_view text);

// `text` (made CommentSafe) word-wrapped into comment lines that start
// with `prefix` (e.g. " * " or "  /* ") and fit kMaxLineWidth.
std::string WrapComment(absl::string_view text, absl::string_view prefix);

// A whole comment of `text` indented by `indent` spaces: "/* text */" on
// one line when it fits, else a wrapped block.
std::string CComment(absl::string_view text, int indent);

// Appends `tokens` separated by ", " to `out`, as many per line as fit in
// kMaxLineWidth after `indent` spaces, each line ending in "," and "\n".
void AppendWrappedList(absl::Span<const std::string> tokens, int indent, std::string* out);

// Decimal tokens of integer arrays.
std::vector<std::string> IntTokens(absl::Span<const int8_t> values);
std::vector<std::string> IntTokens(absl::Span<const int32_t> values);

}  // namespace nas::mcu

#endif  // NAS_MCU_CODEGEN_C_TEXT_H_
