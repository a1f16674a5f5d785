#include "nasctl/spec_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/text_check.h"
#include "yaml-cpp/yaml.h"

namespace nas::nasctl {
namespace {

namespace fs = std::filesystem;

// yaml-cpp reports problems by exception; keep them inside this function.
bool ResolveInNode(YAML::Node root, const fs::path& base) {
  bool changed = false;
  try {
    if (!root.IsMap()) return false;
    YAML::Node dataset = root["dataset"];
    if (!dataset || !dataset.IsMap()) return false;
    for (auto it = dataset.begin(); it != dataset.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) continue;
      const std::string key = it->first.Scalar();
      const std::string value = it->second.Scalar();
      if (!absl::EndsWith(key, "_path") || value.empty()) continue;
      const fs::path path(value);
      if (path.is_absolute()) continue;
      it->second = (base / path).lexically_normal().string();
      changed = true;
    }
  } catch (const YAML::Exception&) {
    return false;
  }
  return changed;
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": I/O error"));
  }
  return text.str();
}

std::string ResolveDatasetPaths(const std::string& yaml, absl::string_view base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception&) {
    return yaml;  // The controller reports the syntax error with its line.
  }
  if (!ResolveInNode(root, fs::path(std::string(base_dir)))) return yaml;
  YAML::Emitter emitter;
  emitter << root;
  if (!emitter.good()) return yaml;
  return std::string(emitter.c_str()) + "\n";
}

absl::Status CheckIsText(const std::string& path, absl::string_view text) {
  std::optional<size_t> bad = FirstNonUtf8Byte(text);
  const size_t nul = text.find('\0');
  if (nul != absl::string_view::npos && (!bad.has_value() || nul < *bad)) {
    bad = nul;
  }
  if (!bad.has_value()) return absl::OkStatus();
  const size_t line = 1 + std::count(text.begin(), text.begin() + *bad, '\n');
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s is not UTF-8 text: byte 0x%02x at offset %d (line %d)", path,
      static_cast<unsigned char>(text[*bad]), *bad, line));
}

absl::StatusOr<std::string> LoadSpecYaml(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  // A spec travels in a proto string, which must be UTF-8: say so here
  // rather than let the protobuf library refuse it.
  if (absl::Status is_text = CheckIsText(path, *text); !is_text.ok()) {
    return is_text;
  }
  if (absl::StripAsciiWhitespace(*text).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is empty"));
  }
  std::error_code ec;
  fs::path base = fs::absolute(fs::path(path), ec).parent_path();
  if (ec) return *text;
  return ResolveDatasetPaths(*text, base.string());
}

}  // namespace nas::nasctl
