#include "common/data/formats.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/data/csv_format.h"
#include "common/data/idx_format.h"
#include "common/data/numpy_format.h"
#include "common/data/ts_format.h"
#include "common/data/ucr_text_format.h"

namespace nas::data {
namespace {

std::string Normalized(absl::string_view name) {
  return absl::StrReplaceAll(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(name)), {{"-", "_"}});
}

}  // namespace

const std::vector<FormatInfo>& Formats() {
  static const auto* const kFormats = new std::vector<FormatInfo>{
      {v1::IDX,
       "idx",
       {},
       LabelsFile::kRequired,
       &ReadIdx,
       "idx3-ubyte images and an idx1-ubyte labels file, raw or gzip"},
      {v1::UCR_TSV,
       "ucr_tsv",
       {"tsv", "ucr-tsv", "txt"},
       LabelsFile::kNone,
       &ReadUcrText,
       "UCR text: one series a row, the label first, then C*L values "
       "(tabs, commas or spaces)"},
      {v1::TS,
       "ts",
       {},
       LabelsFile::kNone,
       &ReadTs,
       "sktime/UEA .ts: @ header, ':' between channels, the label last"},
      {v1::CSV,
       "csv",
       {},
       LabelsFile::kNone,
       &ReadCsv,
       "CSV with a header row: a label column (label_column), the rest "
       "features"},
      {v1::NUMPY,
       "npy",
       {"npz", "numpy"},
       LabelsFile::kOptional,
       &ReadNumpy,
       ".npz holding x and y, or an x .npy with a y .npy as labels file"},
  };
  return *kFormats;
}

const FormatInfo* FindFormat(v1::DatasetFormat format) {
  for (const FormatInfo& info : Formats()) {
    if (info.format == format) return &info;
  }
  return nullptr;
}

const FormatInfo* FindFormat(absl::string_view name) {
  const std::string wanted = Normalized(name);
  for (const FormatInfo& info : Formats()) {
    if (Normalized(info.name) == wanted) return &info;
    for (const char* alias : info.aliases) {
      if (Normalized(alias) == wanted) return &info;
    }
  }
  return nullptr;
}

std::string FormatNames() {
  return absl::StrJoin(
      Formats(), ", ",
      [](std::string* out, const FormatInfo& info) { out->append(info.name); });
}

}  // namespace nas::data
