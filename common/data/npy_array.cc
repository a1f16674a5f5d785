#include "common/data/npy_array.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <map>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/text_fields.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr uint32_t kMaxHeaderBytes = 1 << 20;

absl::Status Invalid(absl::string_view where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// The header dict's values: a string, a bool, or a tuple of integers.
struct DictValue {
  std::string text;  // A string, or "True"/"False".
  std::vector<int64_t> tuple;
  bool is_tuple = false;
};

// A parser for the Python dict literal of an .npy header.
class DictParser {
 public:
  explicit DictParser(absl::string_view text) : text_(text) {}

  bool Parse(std::map<std::string, DictValue>* dict) {
    if (!Take('{')) return false;
    while (!Take('}')) {
      std::string key;
      DictValue value;
      if (!String(&key) || !Take(':') || !Value(&value)) return false;
      (*dict)[key] = std::move(value);
      if (!Take(',') && !Peek('}')) return false;
    }
    return true;
  }

 private:
  void Blanks() {
    while (!text_.empty() && absl::ascii_isspace(text_[0]))
      text_.remove_prefix(1);
  }
  bool Peek(char c) {
    Blanks();
    return !text_.empty() && text_[0] == c;
  }
  bool Take(char c) {
    if (!Peek(c)) return false;
    text_.remove_prefix(1);
    return true;
  }
  bool String(std::string* out) {
    Blanks();
    if (text_.empty() || (text_[0] != '\'' && text_[0] != '"')) return false;
    const size_t end = text_.find(text_[0], 1);
    if (end == absl::string_view::npos) return false;
    out->assign(text_.data() + 1, end - 1);
    text_.remove_prefix(end + 1);
    return true;
  }
  bool Value(DictValue* value) {
    if (Peek('\'') || Peek('"')) return String(&value->text);
    if (Take('(')) {
      value->is_tuple = true;
      while (!Take(')')) {
        Blanks();
        size_t digits = 0;
        while (digits < text_.size() && absl::ascii_isdigit(text_[digits]))
          ++digits;
        int64_t dim = 0;
        if (digits == 0 || !absl::SimpleAtoi(text_.substr(0, digits), &dim)) {
          return false;
        }
        text_.remove_prefix(digits);
        Take('L');  // Python 2 longs.
        value->tuple.push_back(dim);
        if (!Take(',') && !Peek(')')) return false;
      }
      return true;
    }
    for (const char* word : {"True", "False"}) {
      Blanks();
      if (absl::StartsWith(text_, word)) {
        value->text = word;
        text_.remove_prefix(std::strlen(word));
        return true;
      }
    }
    return false;  // Lists (structured dtypes) and anything else.
  }

  absl::string_view text_;
};

// Sets kind and item_bytes from descr; false for what is not supported.
bool ParseDescr(NpyHeader* header) {
  const std::string& d = header->descr;
  if (d.size() < 3) return false;
  int64_t size = 0;
  if (!absl::SimpleAtoi(absl::string_view(d).substr(2), &size) || size <= 0) {
    return false;
  }
  const char order = d[0], type = d[1];
  if (order != '<' && order != '|' && order != '=' &&
      !(order == '>' && size == 1)) {
    return false;  // Big-endian.
  }
  header->item_bytes = size;
  switch (type) {
    case 'f':
      header->kind = NpyKind::kFloat;
      return size == 4 || size == 8;
    case 'i':
    case 'u':
      header->kind = type == 'i' ? NpyKind::kSigned : NpyKind::kUnsigned;
      return size == 1 || size == 2 || size == 4 || size == 8;
    case 'b':
      header->kind = NpyKind::kBool;
      return size == 1;
    case 'U':
      header->kind = NpyKind::kUnicode;
      header->item_bytes = 4 * size;
      return size <= 4096;
    case 'S':
      header->kind = NpyKind::kBytes;
      return size <= 16384;
    default:
      return false;
  }
}

double ElementValue(const char* p, const NpyHeader& header) {
  auto load = [p](auto value) {
    std::memcpy(&value, p, sizeof(value));
    return static_cast<double>(value);
  };
  const bool is_signed = header.kind == NpyKind::kSigned;
  switch (header.kind) {
    case NpyKind::kFloat:
      return header.item_bytes == 4 ? load(float{}) : load(double{});
    case NpyKind::kBool:
      return p[0] != 0 ? 1 : 0;
    default:
      switch (header.item_bytes) {
        case 1:
          return is_signed ? load(int8_t{}) : load(uint8_t{});
        case 2:
          return is_signed ? load(int16_t{}) : load(uint16_t{});
        case 4:
          return is_signed ? load(int32_t{}) : load(uint32_t{});
        default:
          return is_signed ? load(int64_t{}) : load(uint64_t{});
      }
  }
}

// Calls `each(data, first, count)` on the array's elements in chunks, then
// checks that the stream ends with them.
template <typename Each>
absl::Status ForEachChunk(ByteSource* source, const NpyHeader& header,
                          absl::string_view where, Each each) {
  const int64_t per_chunk = std::max<int64_t>(1, (1 << 16) / header.item_bytes);
  std::vector<char> buffer(static_cast<size_t>(per_chunk * header.item_bytes));
  for (int64_t first = 0; first < header.elements; first += per_chunk) {
    const int64_t count = std::min(per_chunk, header.elements - first);
    const size_t bytes = static_cast<size_t>(count * header.item_bytes);
    NAS_ASSIGN_OR_RETURN(size_t got, source->Read(buffer.data(), bytes));
    if (got < bytes) {
      NAS_RETURN_IF_ERROR(source->Finish());
      return Invalid(where, absl::StrCat("the data ends after ",
                                         first * header.item_bytes + got,
                                         " bytes, the header's shape needs ",
                                         header.elements * header.item_bytes));
    }
    NAS_RETURN_IF_ERROR(each(buffer.data(), first, count));
  }
  NAS_ASSIGN_OR_RETURN(int64_t rest, CountRest(source));
  NAS_RETURN_IF_ERROR(source->Finish());
  if (rest != 0)
    return Invalid(where, absl::StrCat(rest, " bytes after the array"));
  return absl::OkStatus();
}

// Appends code point `c` as UTF-8; false for an invalid one.
bool AppendUtf8(uint32_t c, std::string* out) {
  if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
  return true;
}

}  // namespace

std::string NpyShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("(", absl::StrJoin(shape, ", "),
                      shape.size() == 1 ? ",)" : ")");
}

absl::StatusOr<NpyHeader> ReadNpyHeader(ByteSource* source,
                                        absl::string_view where) {
  char prefix[12];
  NAS_ASSIGN_OR_RETURN(size_t got, source->Read(prefix, 10));
  if (got < 10 || std::memcmp(prefix, kMagic, kMagicBytes) != 0) {
    NAS_RETURN_IF_ERROR(source->Finish());
    return Invalid(where, "not a NumPy .npy array (no \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(prefix[6]);
  uint32_t length = static_cast<unsigned char>(prefix[8]) |
                    (static_cast<unsigned char>(prefix[9]) << 8);
  size_t fixed = 10;
  if (major == 2 || major == 3) {
    NAS_ASSIGN_OR_RETURN(got, source->Read(prefix + 10, 2));
    if (got < 2) return Invalid(where, "truncated .npy header");
    length |=
        (static_cast<unsigned char>(prefix[10]) << 16) |
        (static_cast<uint32_t>(static_cast<unsigned char>(prefix[11])) << 24);
    fixed = 12;
  } else if (major != 1) {
    return Invalid(where,
                   absl::StrCat(".npy version ", major, " is not supported"));
  }
  if (length > kMaxHeaderBytes) {
    return Invalid(where, absl::StrCat(".npy header of ", length, " bytes"));
  }
  std::string text(length, '\0');
  NAS_ASSIGN_OR_RETURN(got, source->Read(text.data(), length));
  if (got < length) return Invalid(where, "truncated .npy header");
  std::map<std::string, DictValue> dict;
  if (!DictParser(text).Parse(&dict) || dict.count("descr") == 0 ||
      dict.count("shape") == 0 || !dict["shape"].is_tuple) {
    return Invalid(where,
                   absl::StrCat("unreadable .npy header ", Quoted(text)));
  }
  if (dict["fortran_order"].text == "True") {
    return Invalid(where,
                   "fortran_order True is not supported: save the array "
                   "in C order (np.ascontiguousarray)");
  }
  NpyHeader header;
  header.descr = dict["descr"].text;
  if (!ParseDescr(&header)) {
    return Invalid(where,
                   absl::StrCat("dtype ", Quoted(header.descr),
                                " is not supported (float32/64, int, "
                                "uint, bool, or <U/|S strings for labels)"));
  }
  header.shape = dict["shape"].tuple;
  // Checked before allocating: a header may claim any size.
  absl::uint128 bytes = header.item_bytes;
  for (int64_t dim : header.shape) {
    bytes *= static_cast<uint64_t>(dim);
    if (bytes > absl::uint128(uint64_t{1} << 62)) break;
  }
  const int64_t room =
      source->MaxBytes() - static_cast<int64_t>(fixed + length);
  if (bytes > absl::uint128(std::max<int64_t>(room, 0))) {
    return Invalid(
        where, absl::StrCat("header says shape ", NpyShapeText(header.shape),
                            " of ", header.descr, ", more than the ",
                            std::max<int64_t>(room, 0),
                            " bytes of data the file can hold"));
  }
  header.elements = static_cast<int64_t>(bytes) / header.item_bytes;
  return header;
}

absl::Status ReadNpyFloats(ByteSource* source, const NpyHeader& header,
                           absl::string_view where, std::vector<float>* out) {
  if (header.kind == NpyKind::kUnicode || header.kind == NpyKind::kBytes) {
    return Invalid(where, absl::StrCat("dtype ", header.descr,
                                       " holds text, not numbers"));
  }
  if (out != nullptr) out->reserve(static_cast<size_t>(header.elements));
  const int64_t per_sample = header.shape.empty() || header.shape[0] == 0
                                 ? 1
                                 : header.elements / header.shape[0];
  return ForEachChunk(
      source, header, where,
      [&](const char* data, int64_t first, int64_t count) -> absl::Status {
        for (int64_t i = 0; i < count; ++i) {
          const double value =
              ElementValue(data + i * header.item_bytes, header);
          if (!std::isfinite(value) || std::fabs(value) > FLT_MAX) {
            return Invalid(where,
                           absl::StrCat("element ", first + i, " (sample ",
                                        (first + i) / per_sample,
                                        ") is not a finite float32"));
          }
          if (out != nullptr) out->push_back(static_cast<float>(value));
        }
        return absl::OkStatus();
      });
}

absl::Status ReadNpyBytes(ByteSource* source, const NpyHeader& header,
                          absl::string_view where, std::vector<uint8_t>* out) {
  if (out != nullptr) out->reserve(static_cast<size_t>(header.elements));
  return ForEachChunk(source, header, where,
                      [&](const char* data, int64_t, int64_t count) {
                        if (out != nullptr)
                          out->insert(out->end(), data, data + count);
                        return absl::OkStatus();
                      });
}

absl::StatusOr<std::vector<std::string>> ReadNpyLabels(
    ByteSource* source, const NpyHeader& header, absl::string_view where) {
  std::vector<std::string> labels;
  labels.reserve(static_cast<size_t>(header.elements));
  NAS_RETURN_IF_ERROR(ForEachChunk(
      source, header, where,
      [&](const char* data, int64_t first, int64_t count) -> absl::Status {
        for (int64_t i = 0; i < count; ++i) {
          const char* p = data + i * header.item_bytes;
          std::string label;
          if (header.kind == NpyKind::kUnicode) {
            for (int64_t c = 0; c < header.item_bytes / 4; ++c) {
              uint32_t point = 0;
              std::memcpy(&point, p + 4 * c, 4);
              if (point == 0) break;
              if (!AppendUtf8(point, &label)) {
                return Invalid(where,
                               absl::StrCat("element ", first + i,
                                            ": invalid code point ", point));
              }
            }
          } else if (header.kind == NpyKind::kBytes) {
            label.assign(p, strnlen(p, static_cast<size_t>(header.item_bytes)));
          } else {
            const double value = ElementValue(p, header);
            if (!std::isfinite(value) || value != std::floor(value)) {
              return Invalid(where,
                             absl::StrCat("element ", first + i, " is ", value,
                                          ", not a whole-number label"));
            }
            label = NumberText(value);
          }
          labels.push_back(CanonicalLabel(label));
        }
        return absl::OkStatus();
      }));
  return labels;
}

}  // namespace nas::data
