#ifndef NAS_COMMON_DATA_TEXT_FIELDS_H_
#define NAS_COMMON_DATA_TEXT_FIELDS_H_

// Small helpers the readers share: numbers and labels in text, and the
// pieces of their error messages. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace nas::data {

// Parses a decimal number ("3", "-1.2e-01", surrounding blanks allowed)
// into `out`; false for anything else and for NaN or infinity.
bool ParseFiniteFloat(absl::string_view field, float* out);

// A label as the class lists hold it: blanks around it dropped, and a
// number written canonically, so that "1", "01", "1.0" and "1.0000000e+00"
// are one class ("1"); "1.5e+00" becomes "1.5". Other text is kept as is.
std::string CanonicalLabel(absl::string_view text);

// The canonical text of a number: an integer without a fraction when it is
// one (below 2^53), otherwise the shortest text that reads back the same.
std::string NumberText(double value);

// `text` in single quotes for an error message: control and non-ASCII
// bytes escaped, cut after 40 characters ("'\x89PNG\r\n'").
std::string Quoted(absl::string_view text);

// "{12,29}".
std::string ShapeText(const std::vector<int64_t>& shape);

// InvalidArgument "PATH: line N: MESSAGE".
absl::Status LineError(absl::string_view path, int64_t line,
                       absl::string_view message);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_TEXT_FIELDS_H_
