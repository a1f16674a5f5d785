#ifndef NAS_COMMON_DATA_NUMPY_FORMAT_H_
#define NAS_COMMON_DATA_NUMPY_FORMAT_H_

#include "absl/status/statusor.h"
#include "common/data/formats.h"

namespace nas::data {

// NumPy: an .npz archive (stored or deflated, as np.savez and
// np.savez_compressed write it) holding x.npy and y.npy, or an x .npy file
// (raw or gzip) with the y .npy as the labels file; told apart by content.
// x: float32/64 or integer (or bool) data in C order, shape N x C x L or
// N x C x H x W (N x L is read as C = 1); uint8 of rank 4 stays 8-bit
// (pixels), everything else becomes float and must be finite. y: N labels
// (shape (N,) or (N, 1)), integers, floats holding whole numbers, or <U /
// |S strings. Series (rank 2 and 3) are padded or cut to spec.length when
// it is set. Messages name "PATH: x.npy" inside an archive; claims beyond
// what a file or entry can hold are refused before anything is allocated.
absl::StatusOr<RawSamples> ReadNumpy(const DataFile& file,
                                     const v1::DatasetSpec& spec,
                                     const ReadOptions& options);

}  // namespace nas::data

#endif  // NAS_COMMON_DATA_NUMPY_FORMAT_H_
