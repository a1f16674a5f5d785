// Hostile and malformed files: each refused with the file and the line (or
// the array) in the message, never a crash or an allocation of the claimed
// size.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/data/samples.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/data/test_files.h"
#include "tests/status_matchers.h"

namespace nas::data {
namespace {

using ::nas::data::testing::Read;
using ::nas::data::testing::RunPython;
using ::nas::data::testing::Spec;
using ::nas::data::testing::TempDir;
using ::nas::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

// A .ts header for two channels and labels a, b.
constexpr char kTsHeader[] =
    "@problemName t\n@timeStamps false\n@missing true\n@univariate false\n"
    "@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n";

TEST(HostileTextTest, RaggedRows) {
  TempDir dir;
  std::string text;
  for (int row = 0; row < 3; ++row) {
    absl::StrAppend(&text, row % 2 + 1);
    for (int i = 0; i < (row == 2 ? 139 : 140); ++i)
      absl::StrAppend(&text, "\t0.5");
    absl::StrAppend(&text, "\n");
  }
  const std::string path = dir.Write("ragged.tsv", text);
  EXPECT_THAT(Read(Spec(v1::UCR_TSV, path, {1, 140})),
              StatusIs(kInvalid, HasSubstr(absl::StrCat(
                                     path,
                                     ": line 3: 139 values, expected 140 "
                                     "(ragged rows)"))));
}

TEST(HostileTextTest, NanAndInfinityWithLineAndField) {
  TempDir dir;
  const std::string path =
      dir.Write("nan.txt", "1 0.1 0.2 0.3\n2 0.1 NaN 0.3\n");
  EXPECT_THAT(Read(Spec(v1::UCR_TSV, path, {1, 3})),
              StatusIs(kInvalid, HasSubstr(absl::StrCat(
                                     path,
                                     ": line 2: field 3: 'NaN' is not a "
                                     "finite number"))));
  const std::string inf = dir.Write("inf.csv", "label,a\n1,1e999\n");
  EXPECT_THAT(Read(Spec(v1::CSV, inf, {1, 1})),
              StatusIs(kInvalid, HasSubstr(": line 2: field 2: '1e999'")));
  const std::string ts =
      dir.Write("nan.ts", absl::StrCat(kTsHeader, "1,2:3,nan:a\n"));
  EXPECT_THAT(
      Read(Spec(v1::TS, ts, {2, 2})),
      StatusIs(kInvalid, HasSubstr(": line 9: channel 2, value 2: 'nan'")));
}

TEST(HostileTextTest, TsMissingValue) {
  TempDir dir;
  const std::string path = dir.Write(
      "missing.ts", absl::StrCat(kTsHeader, "1,2:3,4:a\n1,?,3:4,5,6:b\n"));
  EXPECT_THAT(Read(Spec(v1::TS, path, {2, 3})),
              StatusIs(kInvalid,
                       HasSubstr(absl::StrCat(path,
                                              ": line 10: channel 1, value 2: "
                                              "missing value '?'"))));
}

TEST(HostileTextTest, TsHeaderProblems) {
  TempDir dir;
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {kTsHeader, "no samples"},  // Header only.
      {"@problemName t\n@classLabel true a\n", "no @data line"},
      {"@timeStamps true\n@classLabel true a\n@data\n(0,1):a\n",
       "line 1: @timeStamps true is not supported"},
      {"@classLabel false\n@data\n1,2:3\n",
       "line 1: @classLabel false: classification needs labels"},
      {"@data\n1,2:a\n", "line 1: @data before @classLabel true"},
      {"1,2:a\n", "line 1: data before the @data line"},
      {absl::StrCat(kTsHeader, "1,2:3,4:c\n"),
       "line 9: label 'c' is not in @classLabel (a b)"},
      {absl::StrCat(kTsHeader, "1,2:3,4:5,6:a\n"),
       "line 9: 3 channels, @dimensions says 2"},
      {absl::StrCat(kTsHeader, "1,2:3:a\n"),
       "line 9: channel 2 has 1 values, channel 1 has 2"},
      {"@dimensions 2\n@equalLength true\n@seriesLength 3\n@classLabel true a\n"
       "@data\n1,2,3:1,2,3:a\n1,2:1,2:a\n",
       "line 7: 2 values a channel, expected 3 (@equalLength true)"},
      {"@dimensions many\n", "line 1: @dimensions must be a positive count"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.Write("bad.ts", c.text);
    EXPECT_THAT(
        Read(Spec(v1::TS, path, {2, 2})),
        StatusIs(kInvalid, AllOf(HasSubstr(path), HasSubstr(c.message))))
        << c.text;
  }
  // The channel count must also match input_shape.
  const std::string path =
      dir.Write("six.ts", absl::StrCat(kTsHeader, "1,2:3,4:a\n"));
  EXPECT_THAT(
      Read(Spec(v1::TS, path, {6, 2})),
      StatusIs(kInvalid,
               HasSubstr("line 9: 2 channels, dataset.input_shape says 6")));
}

TEST(HostileTextTest, CsvProblems) {
  TempDir dir;
  const std::string no_label = dir.Write("a.csv", "a,b,class\n1,2,3\n");
  EXPECT_THAT(Read(Spec(v1::CSV, no_label, {1, 2})),
              StatusIs(kInvalid, HasSubstr(absl::StrCat(
                                     no_label,
                                     ": line 1: no column 'label' in the "
                                     "header (dataset.label_column); its "
                                     "columns: 'a', 'b', 'class'"))));
  const std::string fields = dir.Write("b.csv", "label,a,b\n1,2,3\n1,2\n");
  EXPECT_THAT(
      Read(Spec(v1::CSV, fields, {1, 2})),
      StatusIs(kInvalid, HasSubstr(": line 3: 2 fields, the header has 3")));
  const std::string quote = dir.Write("c.csv", "label,a\n\"1,2\n");
  EXPECT_THAT(
      Read(Spec(v1::CSV, quote, {1, 1})),
      StatusIs(kInvalid, HasSubstr(": line 2: unterminated quoted field")));
  const std::string image = dir.Write("d.csv", "label,a,b,c\n1,2,3,4\n");
  EXPECT_THAT(
      Read(Spec(v1::CSV, image, {1, 2, 2})),
      StatusIs(kInvalid,
               HasSubstr(": line 2: 3 values, input_shape {1,2,2} needs 4")));
  const std::string channels = dir.Write("e.csv", "label,a,b,c\n1,2,3,4\n");
  EXPECT_THAT(
      Read(Spec(v1::CSV, channels, {2, 2})),
      StatusIs(
          kInvalid,
          HasSubstr(": line 2: 3 values, not a multiple of the 2 channels")));
}

TEST(HostileTextTest, OverlongLineAndTruncatedGzip) {
  TempDir dir;
  const std::string path = dir.Write("long.tsv", std::string(65u << 20, '1'));
  EXPECT_THAT(Read(Spec(v1::UCR_TSV, path, {1, 1})),
              StatusIs(kInvalid, HasSubstr(": line 1: longer than 64 MiB")));
  std::string text;
  for (int i = 0; i < 2000; ++i)
    absl::StrAppend(&text, i % 3, "\t", i, "\t", i * 7, "\n");
  const std::string gz = dir.Write("whole.tsv.gz", text, true);
  std::FILE* file = std::fopen(gz.c_str(), "rb");
  ASSERT_NE(file, nullptr);
  char buffer[1 << 16];
  const size_t size = std::fread(buffer, 1, sizeof(buffer), file);
  std::fclose(file);
  const std::string cut =
      dir.Write("cut.tsv.gz", std::string(buffer, size / 2));
  EXPECT_THAT(Read(Spec(v1::UCR_TSV, cut, {1, 2})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(cut)));
}

// Big-endian 32-bit words.
std::string Words(std::initializer_list<uint32_t> words) {
  std::string bytes;
  for (uint32_t w : words) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<char>(w >> shift));
  }
  return bytes;
}

TEST(HostileBinaryTest, IdxClaimsBeyondTheFile) {
  TempDir dir;
  // 2,739,000 images of 28 x 28: a 2 GB claim in a 1 KB file.
  const std::string images = dir.Write(
      "huge-idx3", Words({0x803, 2739000, 28, 28}) + std::string(1000, '\0'));
  const std::string labels =
      dir.Write("labels-idx1", Words({0x801, 1}) + "\x01");
  v1::DatasetSpec spec = Spec(v1::IDX, images, {1, 28, 28}, 10);
  spec.set_train_labels_path(labels);
  EXPECT_THAT(Read(spec),
              StatusIs(kInvalid, HasSubstr(absl::StrCat(
                                     images,
                                     ": IDX header says 2739000 x 28 x 28 "
                                     "pixels, more than a file"))));
  // The same claim gzip-compressed: bounded by deflate's expansion.
  spec.set_train_path(
      dir.Write("huge-idx3.gz", Words({0x803, 2739000, 28, 28}), true));
  EXPECT_THAT(Read(spec), StatusIs(kInvalid, HasSubstr("more than a file")));
  // Short payloads and label counts that disagree.
  spec.set_train_path(dir.Write(
      "short-idx3.gz", Words({0x803, 2, 2, 2}) + "\x01\x02\x03", true));
  EXPECT_THAT(
      Read(spec),
      StatusIs(kInvalid,
               HasSubstr("IDX payload has 3 pixels, the header says 8")));
  spec.set_train_path(
      dir.Write("long-idx3", Words({0x803, 1, 1, 1}) + "\x01\x02"));
  EXPECT_THAT(
      Read(spec),
      StatusIs(kInvalid,
               HasSubstr("IDX payload has 2 pixels, the header says 1")));
  spec.set_train_path(
      dir.Write("two-idx3", Words({0x803, 2, 1, 1}) + "\x01\x02"));
  EXPECT_THAT(Read(spec),
              StatusIs(kInvalid, HasSubstr(absl::StrCat(
                                     labels, ": 1 labels for 2 images"))));
}

// Hostile .npy/.npz files, written with python3-numpy and patched here.
constexpr char kHostileNumpy[] = R"(
import io, struct, zipfile
import numpy as np
def header(shape, descr='<f4', fortran=False):
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, fortran, repr(tuple(shape)))
    d = d.ljust(118) + '\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(d)) + d.encode()
open('huge_x.npy', 'wb').write(header((2000000000, 1)) + b'\0' * 64)
np.save('y.npy', np.arange(4))
np.save('y_frac.npy', np.array([0.5, 1, 2, 3]))
np.save('x.npy', np.zeros((4, 2, 3), np.float32))
np.save('x_fortran.npy', np.asfortranarray(np.zeros((4, 2, 3), np.float32)))
np.save('x_big_endian.npy', np.zeros((4, 2, 3), '>f4'))
np.save('x_object.npy', np.array([1, 'a', None, 2.0], dtype=object), allow_pickle=True)
np.save('x_nan.npy', np.array([[[0, 1, float('nan')]]] * 4, np.float32))
with zipfile.ZipFile('huge_entry.npz', 'w') as z:
    z.writestr('x.npy', header((2000000000, 1)) + b'\0' * 64)
    z.writestr('y.npy', open('y.npy', 'rb').read())
np.savez_compressed('deflated.npz', x=np.zeros((4, 2, 3), np.float32), y=np.arange(4))
np.savez('stored.npz', x=np.zeros((4, 2, 3), np.float32), y=np.arange(4))
np.savez('no_y.npz', x=np.zeros((4, 2, 3), np.float32), labels=np.arange(4))
data = bytearray(open('deflated.npz', 'rb').read())
at = data.find(b'PK\x01\x02')  # x.npy's directory entry: uncompressed size.
data[at + 24:at + 28] = struct.pack('<I', 2**31)
open('deflated_claim.npz', 'wb').write(bytes(data))
data = bytearray(open('stored.npz', 'rb').read())
at = data.find(b'PK\x01\x02')
data[at + 24:at + 28] = struct.pack('<I', 2**31)
open('stored_claim.npz', 'wb').write(bytes(data))
data = bytearray(open('deflated.npz', 'rb').read())
start = 30 + struct.unpack('<H', data[26:28])[0] + struct.unpack('<H', data[28:30])[0]
data[start:start + 4] = b'\xff' * 4  # x.npy's first deflate block: a bad type.
open('corrupt.npz', 'wb').write(bytes(data))
)";

TEST(HostileBinaryTest, NumpyFiles) {
  TempDir dir;
  ASSERT_EQ(RunPython(dir, kHostileNumpy), "");
  auto npy = [&](const std::string& x, const std::string& y) {
    v1::DatasetSpec spec = Spec(v1::NUMPY, dir.Path(x), {2, 3}, 4);
    if (!y.empty()) spec.set_train_labels_path(dir.Path(y));
    return Read(spec);
  };
  NAS_EXPECT_OK(npy("x.npy", "y.npy"));
  NAS_EXPECT_OK(npy("deflated.npz", ""));
  NAS_EXPECT_OK(npy("stored.npz", ""));
  const struct {
    std::string x, y, message;
    absl::StatusCode code = kInvalid;
  } cases[] = {
      {"huge_x.npy", "y.npy",
       "huge_x.npy: header says shape (2000000000, 1) of <f4, more than the 64 "
       "bytes"},
      {"huge_entry.npz", "",
       "huge_entry.npz: x.npy: header says shape (2000000000, 1)"},
      {"deflated_claim.npz", "",
       "deflated_claim.npz: x.npy: the zip directory says 2147483648 bytes "
       "from"},
      {"stored_claim.npz", "", "stored_claim.npz: x.npy: stored entry of"},
      {"corrupt.npz", "", "corrupt.npz: x.npy:", absl::StatusCode::kDataLoss},
      {"no_y.npz", "",
       "no_y.npz: no y.npy in the archive (entries: x.npy, labels.npy)"},
      {"x_fortran.npy", "y.npy",
       "x_fortran.npy: fortran_order True is not supported"},
      {"x_big_endian.npy", "y.npy",
       "x_big_endian.npy: dtype '>f4' is not supported"},
      {"x_object.npy", "y.npy", "x_object.npy: dtype '|O' is not supported"},
      {"x_nan.npy", "y.npy",
       "x_nan.npy: element 2 (sample 0) is not a finite float32"},
      {"x.npy", "y_frac.npy",
       "y_frac.npy: element 0 is 0.5, not a whole-number label"},
      {"x.npy", "", "x.npy: an x .npy needs its y .npy as the labels file"},
      {"x.npy", "huge_x.npy", "huge_x.npy: header says shape"},
      {"y.npy", "y.npy", "y.npy: shape (4,), expected N x L"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(npy(c.x, c.y), StatusIs(c.code, HasSubstr(c.message))) << c.x;
  }
}

}  // namespace
}  // namespace nas::data
