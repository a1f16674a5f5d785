#ifndef NAS_COMMON_YAML_UTIL_H_
#define NAS_COMMON_YAML_UTIL_H_

// Internal to common/: typed, path-aware reading of yaml-cpp nodes that
// collects every problem instead of throwing. Not thread-safe per instance.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace nas::internal {

// Problems found while reading, each "path: message".
class YamlErrors {
 public:
  void Add(const std::string& path, const std::string& message);
  bool empty() const { return lines_.empty(); }
  const std::vector<std::string>& lines() const { return lines_; }
  // OK when empty, else InvalidArgument with one problem per line.
  absl::Status ToStatus() const;

 private:
  std::vector<std::string> lines_;
};

// Parses YAML text; InvalidArgument "YAML syntax error at line L, column C:
// ..." on bad syntax.
absl::StatusOr<YAML::Node> LoadYaml(absl::string_view text);

// "a.b" / "a[3]" path helpers ("" + "b" = "b").
std::string JoinPath(const std::string& path, const std::string& key);
std::string IndexPath(const std::string& path, size_t index);

// The known key closest to `key` (edit distance <= 2 or a shared prefix of
// 4+ characters), or "" when none is close.
std::string SuggestKey(const std::string& key,
                       const std::vector<std::string>& known);

// True when `node` is a map; otherwise records "expected a map".
bool ExpectMap(const YAML::Node& node, const std::string& path,
               YamlErrors* errors);
// Records "unknown key (did you mean 'x'?)" for each key not in `known`.
void CheckKeys(const YAML::Node& map, const std::string& path,
               const std::vector<std::string>& known, YamlErrors* errors);

// Typed scalar readers: nullopt (and a problem "expected an integer, got
// 'ten'") when the node has the wrong type.
std::optional<int64_t> ReadInt(const YAML::Node& node, const std::string& path,
                               YamlErrors* errors);
std::optional<double> ReadDouble(const YAML::Node& node,
                                 const std::string& path, YamlErrors* errors);
std::optional<bool> ReadBool(const YAML::Node& node, const std::string& path,
                             YamlErrors* errors);
std::optional<std::string> ReadString(const YAML::Node& node,
                                      const std::string& path,
                                      YamlErrors* errors);
// Integer bytes or a size: "256KiB", "1 MiB", "64kB", "1MB", "512B".
std::optional<int64_t> ReadBytes(const YAML::Node& node,
                                 const std::string& path, YamlErrors* errors);
// Integer seconds or a duration: "90s", "10m", "1h30m", "2d".
std::optional<int64_t> ReadDurationSeconds(const YAML::Node& node,
                                           const std::string& path,
                                           YamlErrors* errors);
// Longest list a spec may hold: read before anything walks it, so aliases
// cannot make a small document expand into a huge one.
inline constexpr size_t kMaxYamlListItems = 1000;

// The node as a sequence (a lone scalar counts as a one-element list);
// nullopt and a problem otherwise, or when it has more than
// kMaxYamlListItems items.
std::optional<std::vector<YAML::Node>> ReadList(const YAML::Node& node,
                                                const std::string& path,
                                                YamlErrors* errors);

// Size and duration parsers behind ReadBytes/ReadDurationSeconds.
std::optional<int64_t> ParseByteSize(absl::string_view text);
std::optional<int64_t> ParseDurationSeconds(absl::string_view text);

}  // namespace nas::internal

#endif  // NAS_COMMON_YAML_UTIL_H_
