#include "common/data/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace nas::data {

absl::StatusOr<OpenedFile> OpenRegularFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  return OpenedFile{fd, static_cast<int64_t>(info.st_size)};
}

absl::StatusOr<int64_t> CountRest(ByteSource* source) {
  char buffer[1 << 16];
  int64_t rest = 0;
  while (true) {
    NAS_ASSIGN_OR_RETURN(size_t n, source->Read(buffer, sizeof(buffer)));
    if (n == 0) return rest;
    rest += static_cast<int64_t>(n);
  }
}

}  // namespace nas::data
