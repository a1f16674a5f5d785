#include "nasctl/args.h"

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace nas::nasctl {
namespace {

// One command: its name, how many positional arguments it takes, and which
// command options it accepts (global options are always accepted).
struct CommandSpec {
  const char* name;
  int min_args;
  int max_args;
  std::vector<std::string> options;
  const char* synopsis;
};

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"submit", 1, 1, {"watch"}, "submit SPEC.yaml [--watch]"},
      {"watch", 1, 1, {}, "watch SEARCH_ID"},
      {"list", 0, 0, {}, "list"},
      {"show", 1, 1, {}, "show SEARCH_ID"},
      {"trials", 1, 1, {"state"}, "trials SEARCH_ID [--state STATE]"},
      {"pareto", 1, 1, {"device"}, "pareto SEARCH_ID [--device NAME]"},
      {"cancel", 1, 1, {}, "cancel SEARCH_ID"},
      {"export", 2, 2, {"output", "format", "force"},
       "export SEARCH_ID TRIAL_ID|best -o PATH [--format torchscript|c] [--force]"},
      {"policy", 1, 1, {"top"}, "policy SEARCH_ID [--top N]"},
      {"report", 1, 1, {"output"}, "report SEARCH_ID -o DIR"},
      {"analyze", 1, 1, {"device", "input", "classes"},
       "analyze ARCH --device NAME [--input 1x28x28] [--classes 10]"},
  };
  return *commands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : Commands()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

// Every option: long name, short alias (may be empty), whether it is a
// boolean switch, whether it is global.
struct OptionSpec {
  const char* name;
  const char* alias;
  bool boolean;
  bool global;
};

// The most Q entries the controller returns at once.
constexpr int kMaxTop = 1000;

constexpr OptionSpec kOptions[] = {
    {"controller", "", false, true}, {"json", "", true, true},
    {"timeout", "", false, true},    {"help", "h", true, true},
    {"watch", "w", true, false},     {"state", "", false, false},
    {"device", "", false, false},    {"input", "", false, false},
    {"classes", "", false, false},   {"output", "o", false, false},
    {"top", "", false, false},       {"tls_ca", "", false, true},
    {"tls_cert", "", false, true},   {"tls_key", "", false, true},
    {"token", "", false, true},      {"token_file", "", false, true},
    {"insecure", "", true, true},    {"format", "", false, false},
    {"force", "", true, false},
};

const OptionSpec* FindOption(absl::string_view name) {
  for (const OptionSpec& option : kOptions) {
    if (name == option.name || (option.alias[0] != '\0' && name == option.alias)) {
      return &option;
    }
  }
  return nullptr;
}

absl::StatusOr<bool> ParseBool(absl::string_view flag, absl::string_view value) {
  std::string lower = absl::AsciiStrToLower(value);
  if (lower.empty() || lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": expected true or false, got '", value, "'"));
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view value) {
  double seconds = 0;
  absl::Duration duration;
  if (absl::SimpleAtod(value, &seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(value, &duration)) {
    duration = absl::ZeroDuration();
  }
  if (duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeout: expected a positive duration like 10 or 10s, got '", value,
        "'"));
  }
  return duration;
}

// Stores one option's value into `inv`.
absl::Status ApplyOption(const OptionSpec& option, absl::string_view value,
                         Invocation* inv) {
  const absl::string_view name = option.name;
  if (name == "controller") {
    if (value.empty()) return absl::InvalidArgumentError("--controller: empty address");
    inv->global.controller = std::string(value);
  } else if (name == "json") {
    NAS_ASSIGN_OR_RETURN(inv->global.json, ParseBool(name, value));
  } else if (name == "help") {
    NAS_ASSIGN_OR_RETURN(inv->help, ParseBool(name, value));
  } else if (name == "watch") {
    NAS_ASSIGN_OR_RETURN(inv->watch, ParseBool(name, value));
  } else if (name == "timeout") {
    NAS_ASSIGN_OR_RETURN(inv->global.timeout, ParseTimeout(value));
  } else if (name == "tls_ca" || name == "tls_cert" || name == "tls_key" ||
             name == "token" || name == "token_file") {
    if (value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": empty value"));
    }
    std::string* field = name == "tls_ca"     ? &inv->global.tls.ca
                         : name == "tls_cert" ? &inv->global.tls.cert
                         : name == "tls_key"  ? &inv->global.tls.key
                         : name == "token"    ? &inv->global.token
                                              : &inv->global.token_file;
    *field = std::string(value);
  } else if (name == "insecure") {
    NAS_ASSIGN_OR_RETURN(inv->global.tls.insecure, ParseBool(name, value));
  } else if (name == "state") {
    inv->state = std::string(value);
  } else if (name == "device") {
    inv->device = std::string(value);
  } else if (name == "input") {
    inv->input = std::string(value);
  } else if (name == "classes") {
    if (!absl::SimpleAtoi(value, &inv->classes) || inv->classes < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--classes: expected a positive integer, got '", value, "'"));
    }
  } else if (name == "output") {
    inv->output = std::string(value);
  } else if (name == "format") {
    inv->format = absl::AsciiStrToLower(value);
    if (inv->format != "torchscript" && inv->format != "c") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--format: expected torchscript or c, got '", value, "'"));
    }
  } else if (name == "force") {
    NAS_ASSIGN_OR_RETURN(inv->force, ParseBool(name, value));
  } else if (name == "top") {
    if (!absl::SimpleAtoi(value, &inv->top) || inv->top < 1 ||
        inv->top > kMaxTop) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--top: expected an integer from 1 to ", kMaxTop, ", got '", value,
          "'"));
    }
  }
  return absl::OkStatus();
}

struct RawOption {
  const OptionSpec* spec;
  std::string value;
};

// Splits the words into options (with their values) and positionals.
absl::Status SplitWords(const std::vector<std::string>& args,
                        std::vector<RawOption>* options,
                        std::vector<std::string>* positionals) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      positionals->insert(positionals->end(), args.begin() + i + 1, args.end());
      break;
    }
    if (word.size() < 2 || word[0] != '-') {
      positionals->push_back(word);
      continue;
    }
    absl::string_view body = absl::StripPrefix(absl::StripPrefix(word, "-"), "-");
    std::pair<std::string, std::string> kv = absl::StrSplit(body, absl::MaxSplits('=', 1));
    const bool has_value = absl::StrContains(body, '=');
    const OptionSpec* spec = FindOption(kv.first);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", word, "'"));
    }
    if (!spec->boolean && !has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", spec->name, " needs a value"));
      }
      kv.second = args[++i];
    }
    options->push_back({spec, kv.second});
  }
  return absl::OkStatus();
}

absl::Status CheckCommandOption(const CommandSpec& command, const OptionSpec& option) {
  if (option.global) return absl::OkStatus();
  for (const std::string& allowed : command.options) {
    if (allowed == option.name) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", command.name, "' does not take --", option.name, " (usage: nasctl ",
      command.synopsis, ")"));
}

absl::Status CheckArity(const CommandSpec& command, const Invocation& inv) {
  const int n = static_cast<int>(inv.args.size());
  if (n < command.min_args || n > command.max_args) {
    return absl::InvalidArgumentError(
        absl::StrCat(n < command.min_args ? "missing" : "too many",
                     " arguments (usage: nasctl ", command.synopsis, ")"));
  }
  if (command.name == std::string("export") && inv.output.empty()) {
    return absl::InvalidArgumentError(
        "export needs -o FILE (a folder with --format c)");
  }
  if (command.name == std::string("report") && inv.output.empty()) {
    return absl::InvalidArgumentError("report needs -o DIR");
  }
  if (command.name == std::string("analyze") && inv.device.empty()) {
    return absl::InvalidArgumentError("analyze needs --device NAME");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args,
                                     absl::string_view default_controller) {
  Invocation inv;
  inv.global.controller = std::string(default_controller);
  std::vector<RawOption> options;
  std::vector<std::string> positionals;
  NAS_RETURN_IF_ERROR(SplitWords(args, &options, &positionals));
  for (const RawOption& option : options) {
    NAS_RETURN_IF_ERROR(ApplyOption(*option.spec, option.value, &inv));
  }
  if (!positionals.empty() && positionals[0] == "help") {
    inv.help = true;
    positionals.erase(positionals.begin());
  }
  if (positionals.empty()) {
    if (inv.help) return inv;
    return absl::InvalidArgumentError("no command given (try nasctl --help)");
  }
  inv.command = positionals[0];
  inv.args.assign(positionals.begin() + 1, positionals.end());
  const CommandSpec* command = FindCommand(inv.command);
  if (command == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command '", inv.command, "' (try nasctl --help)"));
  }
  if (inv.help) return inv;
  for (const RawOption& option : options) {
    NAS_RETURN_IF_ERROR(CheckCommandOption(*command, *option.spec));
  }
  NAS_RETURN_IF_ERROR(CheckArity(*command, inv));
  return inv;
}

absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(text, &id) || id <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad ", what, " '", text, "': expected a positive integer"));
  }
  return id;
}

std::string Usage() {
  std::string text =
      "usage: nasctl [--controller HOST:PORT] [--json] [--timeout 10s]\n"
      "              [--tls_ca CA.pem] [--token_file FILE] COMMAND ...\n"
      "\n"
      "Client of the tinynas controller (neural architecture search for\n"
      "microcontrollers).\n\ncommands:\n";
  for (const CommandSpec& command : Commands()) {
    absl::StrAppend(&text, "  nasctl ", command.synopsis, "\n");
  }
  absl::StrAppend(
      &text,
      "\nglobal options:\n"
      "  --controller  controller address (default $TINYNAS_CONTROLLER or "
      "localhost:50051)\n"
      "  --json        machine-readable JSON output\n"
      "  --timeout     deadline of each call to the controller (default 10s)\n"
      "  --tls_ca      CA bundle the controller's certificate must chain to\n"
      "                (default $TINYNAS_TLS_CA, else the system's roots)\n"
      "  --token_file  file holding the bearer token of the search API\n"
      "  --token       the token itself (default $TINYNAS_TOKEN; prefer a file:\n"
      "                a command line is visible to other users)\n"
      "  --tls_cert, --tls_key  a client certificate (OU=api) instead of a token\n"
      "  --insecure    plain text, no TLS (only for a controller run --insecure)\n"
      "\nexport writes the trained float model as TorchScript (--format\n"
      "  torchscript, the default) to FILE, or its int8 model as a C library\n"
      "  (--format c: model.h/.c, the int8 runtime, test vectors, an example, a\n"
      "  CMake file) into the folder PATH, refusing a non-empty one without --force\n"
      "\nreport writes DIR/index.html: one self-contained page (inline SVG plots,\n"
      "  no script, nothing fetched) with the summary, convergence, the Pareto\n"
      "  front against the device limits, the top models layer by layer, the\n"
      "  policy's state and the spec; send it around or open it in a browser.\n"
      "watch (and submit --watch) draws a progress bar in place on a terminal,\n"
      "  with a line per running trial (epoch, loss, samples/s, time left),\n"
      "  and prints plain lines when the output is a pipe or a file.\n"
      "\ntrial states for --state: pending running succeeded failed infeasible "
      "cached cancelled\n"
      "\nexit codes: 0 ok, 1 server/network error, 2 bad usage or input,\n"
      "  3 analyze: the architecture breaks a constraint,\n"
      "  4 watch/submit --watch: search FAILED, 5: search CANCELLED\n");
  return text;
}

}  // namespace nas::nasctl
