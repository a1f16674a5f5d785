// ParseArchitecture: integer encoding, "CONV2D(8,k3) RELU ..." and YAML/JSON.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/architecture.h"
#include "common/status_macros.h"
#include "common/yaml_util.h"

namespace nas {
namespace {

using internal::YamlErrors;

const std::vector<std::string>& LayerKeys() {
  static const auto* keys = new std::vector<std::string>{
      "type", "out", "kernel", "stride", "padding", "dropout_rate", "rate"};
  return *keys;
}

bool IsIntegerEncoding(absl::string_view text) {
  bool digit = false;
  for (char c : text) {
    if (absl::ascii_isdigit(c)) {
      digit = true;
    } else if (c != ',' && c != '-' && !absl::ascii_isspace(c)) {
      return false;
    }
  }
  return digit;
}

absl::StatusOr<v1::Architecture> ParseIntegerList(absl::string_view text) {
  std::vector<int32_t> codes;
  for (absl::string_view part :
       absl::StrSplit(text, absl::ByAnyChar(", \t\r\n"), absl::SkipEmpty())) {
    int32_t value = 0;
    if (!absl::SimpleAtoi(part, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("integer encoding: '", part, "' is not an integer"));
    }
    codes.push_back(value);
  }
  return DecodeIntegers(codes);
}

// One argument of a "NAME(args)" token: "k3", "s2", "p1", "8" or "0.2".
absl::Status ApplyArgument(absl::string_view arg, v1::Layer* layer) {
  int32_t value = 0;
  const char key = arg.empty() ? '\0' : absl::ascii_tolower(arg[0]);
  if ((key == 'k' || key == 's' || key == 'p') &&
      absl::SimpleAtoi(arg.substr(1), &value)) {
    if (key == 'k') layer->set_kernel(value);
    if (key == 's') layer->set_stride(value);
    if (key == 'p') layer->set_padding(value);
    return absl::OkStatus();
  }
  float rate = 0;
  if (layer->type() == v1::DROPOUT && absl::SimpleAtof(arg, &rate)) {
    layer->set_dropout_rate(rate);
    return absl::OkStatus();
  }
  if (HasOutField(layer->type()) && absl::SimpleAtoi(arg, &value)) {
    layer->set_out(value);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "bad argument '", arg, "' for ", LayerTypeName(layer->type()),
      " (use out, kK, sS, pP, or a rate for DROPOUT)"));
}

// "CONV2D(8,k3,s1,p1)", "relu", "DROPOUT(0.2)".
absl::StatusOr<v1::Layer> ParseLayerToken(absl::string_view token) {
  token = absl::StripAsciiWhitespace(token);
  const size_t open = token.find('(');
  v1::Layer layer;
  NAS_ASSIGN_OR_RETURN(v1::LayerType type,
                       ParseLayerType(token.substr(0, open)));
  layer.set_type(type);
  if (open == absl::string_view::npos) return layer;
  if (token.back() != ')') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", token, "': missing ')'"));
  }
  absl::string_view args = token.substr(open + 1, token.size() - open - 2);
  for (absl::string_view arg :
       absl::StrSplit(args, ',', absl::SkipWhitespace())) {
    NAS_RETURN_IF_ERROR(ApplyArgument(absl::StripAsciiWhitespace(arg), &layer));
  }
  return layer;
}

// Splits "CONV2D(8, k3) RELU" into tokens at whitespace/commas outside
// parentheses.
std::vector<std::string> SplitTokens(absl::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (absl::ascii_isspace(c) || c == ',')) {
      if (!current.empty()) tokens.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) tokens.push_back(current);
  return tokens;
}

absl::StatusOr<v1::Architecture> ParseTextForm(absl::string_view text) {
  v1::Architecture arch;
  std::vector<std::string> problems;
  const std::vector<std::string> tokens = SplitTokens(text);
  for (size_t i = 0; i < tokens.size(); ++i) {
    absl::StatusOr<v1::Layer> layer = ParseLayerToken(tokens[i]);
    if (layer.ok()) {
      *arch.add_layers() = *layer;
    } else {
      problems.push_back(
          absl::StrCat("layer ", i, ": ", layer.status().message()));
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  return arch;
}

void ReadLayerField(const std::string& key, const YAML::Node& value,
                    const std::string& path, v1::Layer* layer,
                    YamlErrors* errors) {
  if (key == "type") {
    std::optional<std::string> name = internal::ReadString(value, path, errors);
    if (!name) return;
    absl::StatusOr<v1::LayerType> type = ParseLayerType(*name);
    if (type.ok()) layer->set_type(*type);
    if (!type.ok()) errors->Add(path, std::string(type.status().message()));
    return;
  }
  if (key == "dropout_rate" || key == "rate") {
    std::optional<double> rate = internal::ReadDouble(value, path, errors);
    if (rate) layer->set_dropout_rate(static_cast<float>(*rate));
    return;
  }
  std::optional<int64_t> v = internal::ReadInt(value, path, errors);
  if (!v) return;
  if (*v < INT32_MIN || *v > INT32_MAX) {
    errors->Add(path, absl::StrCat("value ", *v, " out of range"));
    return;
  }
  if (key == "out") layer->set_out(static_cast<int32_t>(*v));
  if (key == "kernel") layer->set_kernel(static_cast<int32_t>(*v));
  if (key == "stride") layer->set_stride(static_cast<int32_t>(*v));
  if (key == "padding") layer->set_padding(static_cast<int32_t>(*v));
}

v1::Layer ReadLayerMap(const YAML::Node& node, const std::string& path,
                       YamlErrors* errors) {
  v1::Layer layer;
  internal::CheckKeys(node, path, LayerKeys(), errors);
  if (!node["type"]) errors->Add(internal::JoinPath(path, "type"), "required");
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (std::find(LayerKeys().begin(), LayerKeys().end(), key) ==
        LayerKeys().end()) {
      continue;
    }
    ReadLayerField(key, entry.second, internal::JoinPath(path, key), &layer,
                   errors);
  }
  return layer;
}

bool AllIntegers(const YAML::Node& list) {
  for (const YAML::Node& item : list) {
    int64_t v = 0;
    if (!item.IsScalar() || !absl::SimpleAtoi(item.Scalar(), &v)) return false;
  }
  return list.size() > 0;
}

absl::StatusOr<v1::Architecture> ParseYamlForm(absl::string_view text) {
  NAS_ASSIGN_OR_RETURN(YAML::Node root, internal::LoadYaml(text));
  YamlErrors errors;
  YAML::Node list = root;
  std::string path = "layers";
  if (root.IsMap()) {
    internal::CheckKeys(root, "", {"layers"}, &errors);
    list = root["layers"];
  }
  if (!list || !list.IsSequence()) {
    return absl::InvalidArgumentError(
        "architecture: expected a list of layers (or a map with 'layers')");
  }
  if (AllIntegers(list)) {
    std::vector<int32_t> codes;
    for (const YAML::Node& item : list) {
      int32_t value = 0;
      if (!absl::SimpleAtoi(item.Scalar(), &value)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "integer encoding: ", item.Scalar(), " is out of range"));
      }
      codes.push_back(value);
    }
    return DecodeIntegers(codes);
  }
  v1::Architecture arch;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string item_path = internal::IndexPath(path, i);
    const YAML::Node item = list[i];
    if (item.IsScalar()) {
      absl::StatusOr<v1::Layer> layer = ParseLayerToken(item.Scalar());
      if (layer.ok()) *arch.add_layers() = *layer;
      if (!layer.ok())
        errors.Add(item_path, std::string(layer.status().message()));
    } else if (internal::ExpectMap(item, item_path, &errors)) {
      *arch.add_layers() = ReadLayerMap(item, item_path, &errors);
    }
  }
  NAS_RETURN_IF_ERROR(errors.ToStatus());
  return arch;
}

bool LooksLikeYaml(absl::string_view text) {
  const char first = text.empty() ? '\0' : text[0];
  return first == '[' || first == '{' || first == '-' ||
         text.find(':') != absl::string_view::npos;
}

}  // namespace

absl::StatusOr<v1::Architecture> ParseArchitecture(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return absl::InvalidArgumentError("architecture: empty");
  absl::StatusOr<v1::Architecture> arch =
      IsIntegerEncoding(text) ? ParseIntegerList(text)
      : LooksLikeYaml(text)   ? ParseYamlForm(text)
                              : ParseTextForm(text);
  // "," or "[]" hold no layer: refused like empty text, since the empty
  // network has no text form to print and parse back.
  if (arch.ok() && arch->layers_size() == 0) {
    return absl::InvalidArgumentError("architecture: no layers");
  }
  return arch;
}

}  // namespace nas
