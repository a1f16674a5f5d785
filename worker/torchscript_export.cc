#include "worker/torchscript_export.h"

#include <sstream>
#include <utility>

#include <torch/script.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace nas::worker {
namespace {

// Copies child `index`'s parameters and buffers into `script_module` under
// the prefix "l<index>_" and returns that prefix.
std::string CopyChildState(const torch::nn::Module& child, size_t index,
                           torch::jit::Module* script_module) {
  const std::string prefix = absl::StrCat("l", index, "_");
  for (const auto& item : child.named_parameters(/*recurse=*/false)) {
    script_module->register_parameter(
        prefix + item.key(), item.value().detach().to(torch::kCPU).contiguous().clone(),
        /*is_buffer=*/false);
  }
  for (const auto& item : child.named_buffers(/*recurse=*/false)) {
    if (item.key() == "num_batches_tracked") continue;  // Training only.
    script_module->register_buffer(prefix + item.key(),
                                   item.value().detach().to(torch::kCPU).clone());
  }
  return prefix;
}

std::string ForwardSource(const BuiltModel& model,
                          const std::vector<std::string>& prefixes) {
  std::string source = "def forward(self, x):\n";
  for (size_t i = 0; i < model.script.size(); ++i) {
    if (model.script[i].empty()) continue;  // Identity in evaluation mode.
    absl::StrAppend(&source, "    x = ",
                    absl::StrReplaceAll(model.script[i], {{"$", prefixes[i]}}),
                    "\n");
  }
  if (model.softmax_output) absl::StrAppend(&source, "    x = torch.softmax(x, 1)\n");
  absl::StrAppend(&source, "    return x\n\n",
                  "def input_shape(self) -> List[int]:\n", "    return [",
                  absl::StrJoin(model.input_shape, ", "), "]\n");
  return source;
}

}  // namespace

absl::StatusOr<std::string> ExportTorchScript(const BuiltModel& model) {
  try {
    torch::jit::Module script_module("TinyNet");
    const auto children = model.net->children();
    if (children.size() != model.script.size()) {
      return absl::InternalError(absl::StrCat(
          "export: ", children.size(), " modules but ", model.script.size(),
          " script entries"));
    }
    std::vector<std::string> prefixes;
    for (size_t i = 0; i < children.size(); ++i) {
      prefixes.push_back(CopyChildState(*children[i], i, &script_module));
    }
    script_module.define(ForwardSource(model, prefixes));
    script_module.eval();
    std::ostringstream out;
    script_module.save(out);
    return out.str();
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("TorchScript export failed: ", e.what_without_backtrace()));
  }
}

}  // namespace nas::worker
