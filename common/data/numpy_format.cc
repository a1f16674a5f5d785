#include "common/data/numpy_format.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/gz_input.h"
#include "common/data/npy_array.h"
#include "common/data/series.h"
#include "common/data/zip_archive.h"
#include "common/status_macros.h"

namespace nas::data {
namespace {

// An array's source and the name messages give it.
struct ArrayInput {
  std::unique_ptr<ByteSource> source;
  std::string where;
};

// Whether `path` starts like a zip archive.
bool LooksLikeZip(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  char magic[4] = {0, 0, 0, 0};
  const bool read = pread(fd, magic, 4, 0) == 4;
  close(fd);
  return read && std::memcmp(magic, "PK", 2) == 0 &&
         (std::memcmp(magic + 2, "\x03\x04", 2) == 0 ||
          std::memcmp(magic + 2, "\x05\x06", 2) == 0);
}

absl::StatusOr<ArrayInput> OpenEntry(const ZipArchive& archive,
                                     const std::string& name) {
  if (!archive.Has(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        archive.path(), ": no ", name,
        " in the archive (entries: ", absl::StrJoin(archive.Names(), ", "),
        "); save it as np.savez(path, x=..., y=...)"));
  }
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source,
                       archive.OpenEntry(name));
  return ArrayInput{std::move(source),
                    absl::StrCat(archive.path(), ": ", name)};
}

absl::StatusOr<ArrayInput> OpenFile(const std::string& path) {
  NAS_ASSIGN_OR_RETURN(std::unique_ptr<GzInput> in, GzInput::Open(path));
  return ArrayInput{std::move(in), path};
}

// Sets the sample shape of x's header and checks it against y's count.
absl::Status CheckShapes(const NpyHeader& x, const NpyHeader& y,
                         const std::string& x_where, const std::string& y_where,
                         RawSamples* samples) {
  const size_t rank = x.shape.size();
  if (rank < 2 || rank > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(x_where, ": shape ", NpyShapeText(x.shape),
                     ", expected N x L, N x C x L or N x C x H x W"));
  }
  if (y.shape.empty() || y.shape.size() > 2 ||
      (y.shape.size() == 2 && y.shape[1] != 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        y_where, ": shape ", NpyShapeText(y.shape), ", expected (N,)"));
  }
  if (y.shape[0] != x.shape[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat(y_where, ": ", y.shape[0], " labels for the ", x.shape[0],
                     " samples of x"));
  }
  samples->count = x.shape[0];
  if (rank == 2) {
    samples->shape = {1, x.shape[1]};
  } else {
    samples->shape.assign(x.shape.begin() + 1, x.shape.end());
  }
  for (int64_t dim : samples->shape) {
    if (dim == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          x_where, ": shape ", NpyShapeText(x.shape), " has a zero dimension"));
    }
  }
  return absl::OkStatus();
}

// Pads or cuts float series to spec.length when it is set and differs.
void FitSeries(const v1::DatasetSpec& spec, const ReadOptions& options,
               std::vector<float> values, RawSamples* samples) {
  const int64_t channels = samples->shape[0], length = samples->shape[1];
  const int64_t target = TargetLength(spec, false);
  samples->min_length = samples->max_length = length;
  if (target == 0 || target == length) {
    samples->values = std::move(values);
    return;
  }
  RawSamples fitted;
  SeriesBuilder builder(channels, target, spec.pad(), options.keep_values,
                        &fitted);
  const int64_t size = channels * length;
  for (int64_t i = 0; i < samples->count; ++i) {
    absl::Span<const float> series;
    if (options.keep_values)
      series = absl::MakeConstSpan(values).subspan(i * size, size);
    builder.Add(series, length, std::move(samples->labels[i]));
  }
  *samples = std::move(fitted);
}

}  // namespace

absl::StatusOr<RawSamples> ReadNumpy(const DataFile& file,
                                     const v1::DatasetSpec& spec,
                                     const ReadOptions& options) {
  ArrayInput x, y;
  std::unique_ptr<ZipArchive> archive;
  if (LooksLikeZip(file.path)) {
    if (!file.labels_path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.path, ": an .npz holds y itself; give no labels file with it"));
    }
    NAS_ASSIGN_OR_RETURN(archive, ZipArchive::Open(file.path));
    NAS_ASSIGN_OR_RETURN(x, OpenEntry(*archive, "x.npy"));
    NAS_ASSIGN_OR_RETURN(y, OpenEntry(*archive, "y.npy"));
  } else {
    if (file.labels_path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.path,
          ": an x .npy needs its y .npy as the labels file "
          "(train_labels_path / test_labels_path), or use an .npz"));
    }
    NAS_ASSIGN_OR_RETURN(x, OpenFile(file.path));
    NAS_ASSIGN_OR_RETURN(y, OpenFile(file.labels_path));
  }
  NAS_ASSIGN_OR_RETURN(NpyHeader x_header,
                       ReadNpyHeader(x.source.get(), x.where));
  NAS_ASSIGN_OR_RETURN(NpyHeader y_header,
                       ReadNpyHeader(y.source.get(), y.where));
  RawSamples samples;
  NAS_RETURN_IF_ERROR(
      CheckShapes(x_header, y_header, x.where, y.where, &samples));
  NAS_ASSIGN_OR_RETURN(samples.labels,
                       ReadNpyLabels(y.source.get(), y_header, y.where));
  if (x_header.shape.size() == 4 && x_header.kind == NpyKind::kUnsigned &&
      x_header.item_bytes == 1) {
    samples.eight_bit = true;
    NAS_RETURN_IF_ERROR(
        ReadNpyBytes(x.source.get(), x_header, x.where,
                     options.keep_values ? &samples.pixels : nullptr));
    return samples;
  }
  std::vector<float> values;
  NAS_RETURN_IF_ERROR(ReadNpyFloats(x.source.get(), x_header, x.where,
                                    options.keep_values ? &values : nullptr));
  if (x_header.shape.size() == 4) {
    samples.values = std::move(values);
  } else {
    FitSeries(spec, options, std::move(values), &samples);
  }
  return samples;
}

}  // namespace nas::data
