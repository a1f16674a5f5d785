#include "mcu/codegen/c_text.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace nas::mcu {

std::string CFloatLiteral(float value) {
  if (!std::isfinite(value)) return "0.0f";
  // %.9g round-trips every float.
  std::string text = absl::StrFormat("%.9g", static_cast<double>(value));
  if (!absl::StrContains(text, '.') && !absl::StrContains(text, 'e') &&
      !absl::StrContains(text, 'n')) {
    absl::StrAppend(&text, ".0");
  }
  return absl::StrCat(text, "f");
}

std::string CStringLiteral(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '?') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, absl::StrFormat("\\%03o", byte));
    }
  }
  out.push_back('"');
  return out;
}

std::string CommentSafe(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    char kept = (byte >= 0x20 && byte < 0x7f) ? c : '?';
    // Break "*/" and "??" (a trigraph's start) with a space.
    if (!out.empty() &&
        ((out.back() == '*' && kept == '/') || (out.back() == '?' && kept == '?'))) {
      out.push_back(' ');
    }
    out.push_back(kept);
  }
  return out;
}

std::string WrapComment(absl::string_view text, absl::string_view prefix) {
  const std::string safe = CommentSafe(text);
  std::string out;
  std::string line(prefix);
  bool empty_line = true;
  for (absl::string_view word : absl::StrSplit(safe, ' ', absl::SkipEmpty())) {
    if (!empty_line && line.size() + 1 + word.size() > kMaxLineWidth) {
      absl::StrAppend(&out, line, "\n");
      line = std::string(prefix);
      empty_line = true;
    }
    absl::StrAppend(&line, empty_line ? "" : " ", word);
    empty_line = false;
  }
  if (!empty_line) absl::StrAppend(&out, line, "\n");
  return out;
}

std::string CComment(absl::string_view text, int indent) {
  const std::string margin(static_cast<size_t>(indent), ' ');
  const std::string safe = CommentSafe(text);
  if (margin.size() + safe.size() + 6 <= kMaxLineWidth) {
    return absl::StrCat(margin, "/* ", safe, " */\n");
  }
  return absl::StrCat(margin, "/*\n", WrapComment(safe, absl::StrCat(margin, " * ")), margin,
                      " */\n");
}

void AppendWrappedList(absl::Span<const std::string> tokens, int indent, std::string* out) {
  const std::string margin(static_cast<size_t>(indent), ' ');
  std::string line;
  for (const std::string& token : tokens) {
    // Each token is followed by ",", and separated from the previous by " ".
    const size_t needed = token.size() + 1 + (line.empty() ? 0 : 1);
    if (!line.empty() && margin.size() + line.size() + needed > kMaxLineWidth) {
      absl::StrAppend(out, margin, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", token, ",");
  }
  if (!line.empty()) absl::StrAppend(out, margin, line, "\n");
}

std::vector<std::string> IntTokens(absl::Span<const int8_t> values) {
  std::vector<std::string> tokens;
  tokens.reserve(values.size());
  for (const int8_t v : values) tokens.push_back(absl::StrCat(static_cast<int>(v)));
  return tokens;
}

std::vector<std::string> IntTokens(absl::Span<const int32_t> values) {
  std::vector<std::string> tokens;
  tokens.reserve(values.size());
  for (const int32_t v : values) {
    // -2147483648 is not a C literal (2147483648 does not fit in int).
    tokens.push_back(v == INT32_MIN ? "(-2147483647 - 1)" : absl::StrCat(v));
  }
  return tokens;
}

}  // namespace nas::mcu
