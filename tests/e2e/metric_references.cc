#include "tests/e2e/metric_references.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/prometheus_text.h"
#include "yaml-cpp/yaml.h"

namespace nas::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void AddNames(const std::string& text, std::set<std::string>* names) {
  for (const std::string& name : MetricNamesIn(text, MetricPrefixes())) {
    names->insert(name);
  }
}

void CollectJson(const nlohmann::json& node, std::set<std::string>* names) {
  if (node.is_string()) {
    AddNames(node.get<std::string>(), names);
  } else if (node.is_structured()) {
    for (const nlohmann::json& child : node) CollectJson(child, names);
  }
}

void CollectYaml(const YAML::Node& node, std::set<std::string>* names) {
  if (node.IsScalar()) {
    AddNames(node.Scalar(), names);
  } else if (node.IsSequence()) {
    for (const YAML::Node& child : node) CollectYaml(child, names);
  } else if (node.IsMap()) {
    for (const auto& entry : node) CollectYaml(entry.second, names);
  }
}

// The names in every file of `dir` whose name ends with one of `suffixes`.
void Scan(const fs::path& source, const std::string& dir,
          const std::vector<std::string>& suffixes, bool json,
          std::map<std::string, std::set<std::string>>* found) {
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(source / dir, error)) {
    const std::string file = entry.path().filename().string();
    bool wanted = false;
    for (const std::string& suffix : suffixes) {
      wanted = wanted || absl::EndsWith(file, suffix);
    }
    if (!wanted) continue;
    std::set<std::string>& names = (*found)[absl::StrCat(dir, "/", file)];
    try {
      if (json) {
        CollectJson(nlohmann::json::parse(ReadAll(entry.path())), &names);
      } else {
        for (const YAML::Node& doc : YAML::LoadAllFromFile(entry.path())) {
          CollectYaml(doc, &names);
        }
      }
    } catch (const std::exception& e) {
      names.insert(absl::StrCat("<unreadable: ", e.what(), ">"));
    }
  }
  if (error) {
    (*found)[dir].insert(absl::StrCat("<unreadable: ", error.message(), ">"));
  }
}

}  // namespace

const std::vector<std::string>& MetricPrefixes() {
  static const auto* prefixes =
      new std::vector<std::string>{"nas_", "tinynas_"};
  return *prefixes;
}

std::map<std::string, std::set<std::string>> DeploymentMetricReferences(
    const std::string& source_dir) {
  std::map<std::string, std::set<std::string>> found;
  const fs::path source(source_dir);
  Scan(source, "deploy/grafana/dashboards", {".json"}, /*json=*/true, &found);
  Scan(source, "deploy/prometheus", {".yml", ".yaml"}, /*json=*/false, &found);
  Scan(source, "deploy/k8s", {".yml", ".yaml"}, /*json=*/false, &found);
  return found;
}

std::set<std::string> DocumentedMetrics(const std::string& source_dir) {
  std::set<std::string> names;
  std::istringstream doc(ReadAll(fs::path(source_dir) / "docs/metrics.md"));
  std::string line;
  while (std::getline(doc, line)) {
    if (!absl::StartsWith(line, "| `")) continue;
    const size_t close = line.find('`', 3);
    if (close != std::string::npos) names.insert(line.substr(3, close - 3));
  }
  return names;
}

}  // namespace nas::testing
