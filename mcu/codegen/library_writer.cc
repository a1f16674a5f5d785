#include "mcu/codegen/library_writer.h"

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace nas::mcu {
namespace {

namespace fs = std::filesystem;

absl::Status CannotWrite(const fs::path& path, const std::error_code& ec) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot write ", path.string(), ec ? absl::StrCat(": ", ec.message()) : ""));
}

// `dir` as an absolute path without a trailing separator: "out/" and "."
// name a folder that can be renamed.
absl::StatusOr<fs::path> FolderPath(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("no output folder given");
  std::error_code ec;
  fs::path path = fs::absolute(dir, ec).lexically_normal();
  if (ec) return CannotWrite(dir, ec);
  if (!path.has_filename()) path = path.parent_path();
  if (path == path.root_path()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot export into ", dir));
  }
  return path;
}

// A new empty folder beside `path` named ".NAME.KIND-XXXXXX".
absl::StatusOr<fs::path> MakeSibling(const fs::path& path, absl::string_view kind) {
  std::string pattern =
      (path.parent_path() / absl::StrCat(".", path.filename().string(), ".", kind, "-XXXXXX"))
          .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return CannotWrite(path.parent_path(), std::error_code(errno, std::generic_category()));
  }
  return fs::path(pattern);
}

absl::Status WriteFile(const fs::path& root, const GeneratedFile& file) {
  const fs::path relative = fs::path(file.path).lexically_normal();
  if (relative.empty() || relative.is_absolute() || absl::StartsWith(relative.string(), "..")) {
    return absl::InvalidArgumentError(absl::StrCat("bad library path '", file.path, "'"));
  }
  const fs::path path = root / relative;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return CannotWrite(path, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(file.contents.data(), static_cast<std::streamsize>(file.contents.size()));
  out.close();
  if (!out) return CannotWrite(path, std::error_code(errno, std::generic_category()));
  return absl::OkStatus();
}

// Renames the full `staged` folder to `target`, moving an existing one
// aside first and deleting it afterwards.
absl::Status Install(const fs::path& staged, const fs::path& target) {
  std::error_code ec;
  if (!fs::exists(target, ec) || fs::is_empty(target, ec)) {
    // rename() replaces an empty folder.
    fs::rename(staged, target, ec);
    return ec ? CannotWrite(target, ec) : absl::OkStatus();
  }
  NAS_ASSIGN_OR_RETURN(const fs::path old, MakeSibling(target, "old"));
  fs::rename(target, old, ec);  // Replaces the empty placeholder.
  if (ec) {
    fs::remove(old, ec);
    return CannotWrite(target, ec);
  }
  fs::rename(staged, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::rename(old, target, ignored);
    return CannotWrite(target, ec);
  }
  fs::remove_all(old, ec);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOutputFolder(const std::string& dir, bool force) {
  NAS_ASSIGN_OR_RETURN(const fs::path path, FolderPath(dir));
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (status.type() == fs::file_type::not_found) return absl::OkStatus();
  if (ec) return CannotWrite(path, ec);
  if (status.type() == fs::file_type::symlink) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, " is a symbolic link: give the folder itself"));
  }
  if (status.type() != fs::file_type::directory) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " exists and is not a folder"));
  }
  if (!force && !fs::is_empty(path, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, " exists and is not empty (--force replaces it)"));
  }
  return ec ? CannotWrite(path, ec) : absl::OkStatus();
}

absl::Status WriteCLibrary(const std::vector<GeneratedFile>& files, const std::string& dir,
                           bool force) {
  NAS_RETURN_IF_ERROR(CheckOutputFolder(dir, force));
  NAS_ASSIGN_OR_RETURN(const fs::path target, FolderPath(dir));
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return CannotWrite(target.parent_path(), ec);
  NAS_ASSIGN_OR_RETURN(const fs::path staged, MakeSibling(target, "new"));
  absl::Status status = absl::OkStatus();
  for (const GeneratedFile& file : files) {
    status = WriteFile(staged, file);
    if (!status.ok()) break;
  }
  if (status.ok()) {
    // mkdtemp made it 0700; a library folder is as readable as any other.
    fs::permissions(staged,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    ec);
    status = Install(staged, target);
  }
  if (!status.ok()) fs::remove_all(staged, ec);
  return status;
}

}  // namespace nas::mcu
