#ifndef NAS_COMMON_DATA_NPY_ARRAY_H_
#define NAS_COMMON_DATA_NPY_ARRAY_H_

// One NumPy .npy array read from a ByteSource (a file, or an .npz entry):
// the header (magic, version, the dict with descr, fortran_order, shape),
// then the data converted as the caller asks. Little-endian hosts.
// Stateless functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/data/byte_source.h"

namespace nas::data {

enum class NpyKind {
  kFloat,     // <f4, <f8.
  kSigned,    // |i1, <i2, <i4, <i8.
  kUnsigned,  // |u1, <u2, <u4, <u8.
  kBool,      // |b1.
  kUnicode,   // <U n: n UCS-4 code points.
  kBytes,     // |S n: n bytes.
};

struct NpyHeader {
  std::string descr;  // As written, e.g. "<f4".
  NpyKind kind = NpyKind::kFloat;
  int64_t item_bytes = 0;
  std::vector<int64_t> shape;
  int64_t elements = 0;  // The product of shape.
};

// Reads and checks the header. `where` prefixes every message ("PATH" or
// "PATH: x.npy"). InvalidArgument for a bad magic, an unsupported dtype
// (big-endian, float16, objects, structured), fortran_order True, and a
// shape whose data would not fit in source->MaxBytes() (refused before
// anything is allocated).
absl::StatusOr<NpyHeader> ReadNpyHeader(ByteSource* source,
                                        absl::string_view where);

// Reads the data after the header as float (any numeric kind), checking
// that each value is finite; keeps them in `out` unless it is null. Then
// checks that the stream ends with the array and passes its own checks.
absl::Status ReadNpyFloats(ByteSource* source, const NpyHeader& header,
                           absl::string_view where, std::vector<float>* out);

// The same for |u1 data kept as bytes.
absl::Status ReadNpyBytes(ByteSource* source, const NpyHeader& header,
                          absl::string_view where, std::vector<uint8_t>* out);

// The data as class labels: integers (and floats holding whole numbers) as
// their canonical text, strings (<U, |S) as UTF-8 without trailing NULs.
// InvalidArgument naming the element for a fraction, NaN, or an invalid
// code point.
absl::StatusOr<std::vector<std::string>> ReadNpyLabels(ByteSource* source,
                                                       const NpyHeader& header,
                                                       absl::string_view where);

// "(60000, 1, 28, 28)".
std::string NpyShapeText(const std::vector<int64_t>& shape);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_NPY_ARRAY_H_
