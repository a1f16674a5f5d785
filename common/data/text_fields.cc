#include "common/data/text_fields.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nas::data {

bool ParseFiniteFloat(absl::string_view field, float* out) {
  return absl::SimpleAtof(field, out) && std::isfinite(*out);
}

std::string NumberText(double value) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53.
  if (value == std::floor(value) && std::fabs(value) < kExactIntegers) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string CanonicalLabel(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  double value = 0;
  if (absl::SimpleAtod(text, &value) && std::isfinite(value)) {
    return NumberText(value);
  }
  return std::string(text);
}

std::string Quoted(absl::string_view text) {
  constexpr size_t kMaxShown = 40;
  const bool cut = text.size() > kMaxShown;
  if (cut) text = text.substr(0, kMaxShown);
  return absl::StrCat("'", absl::CHexEscape(text), cut ? "...'" : "'");
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("{", absl::StrJoin(shape, ","), "}");
}

absl::Status LineError(absl::string_view path, int64_t line,
                       absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": line ", line, ": ", message));
}

}  // namespace nas::data
