#include "nasctl/commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "nasctl/analyze.h"
#include "nasctl/args.h"
#include "nasctl/client.h"
#include "nasctl/export_c.h"
#include "nasctl/format.h"
#include "nasctl/progress_printer.h"
#include "nasctl/report.h"
#include "nasctl/spec_file.h"
#include "nasctl/views.h"
#include "nlohmann/json.hpp"

namespace nas::nasctl {
namespace {

// One command's view of the run: the parsed invocation, the environment
// and, for commands that talk to the controller, the client.
struct Context {
  const Invocation& inv;
  const Environment& env;
  ControllerClient* client;  // Null for local commands.
  std::ostream& out() const { return *env.out; }
};

// Prefixes a failed status's message with what was being done.
absl::Status With(absl::string_view what, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

int ExitCodeForState(v1::SearchState state) {
  switch (state) {
    case v1::SEARCH_SUCCEEDED:
      return kExitOk;
    case v1::SEARCH_CANCELLED:
      return kExitSearchCancelled;
    default:
      return kExitSearchFailed;
  }
}

// Follows the search until it reaches a terminal state. The stream may end
// early (controller restart, idle timeout); then the state is re-read and
// the stream reopened a few times before giving up.
absl::StatusOr<int> WatchUntilDone(const Context& ctx, int64_t id) {
  const std::string what = absl::StrCat("watch ", id);
  absl::StatusOr<v1::Search> search = ctx.client->GetSearch(id);
  NAS_RETURN_IF_ERROR(With(what, search.status()));
  ProgressPrinter printer(ctx.env.out, ctx.env.out_is_tty, ctx.inv.global.json, ctx.env.now_ms,
                          {ctx.env.terminal_columns, ctx.env.unicode});
  constexpr int kMaxReopens = 5;
  for (int reopen = 0; !IsTerminal(search->state()); ++reopen) {
    absl::Status stream = ctx.client->Watch(id, [&](const v1::SearchProgress& progress) {
      printer.Update(progress);
      if (progress.has_search()) *search = progress.search();
      return !IsTerminal(search->state());
    });
    if (IsTerminal(search->state())) break;
    if (!stream.ok() && stream.code() != absl::StatusCode::kUnavailable) {
      return With(what, stream);
    }
    if (reopen >= kMaxReopens) {
      return With(what, stream.ok() ? absl::UnavailableError("the update stream kept ending")
                                    : stream);
    }
    absl::SleepFor(absl::Seconds(1));
    search = ctx.client->GetSearch(id);
    NAS_RETURN_IF_ERROR(With(what, search.status()));
  }
  printer.Finish(*search);
  return ExitCodeForState(search->state());
}

absl::StatusOr<int> RunSubmit(const Context& ctx) {
  const std::string& path = ctx.inv.args[0];
  const std::string what = absl::StrCat("submit ", path);
  absl::StatusOr<std::string> yaml = LoadSpecYaml(path);
  NAS_RETURN_IF_ERROR(With(what, yaml.status()));
  v1::SubmitSearchRequest request;
  request.set_spec_yaml(*yaml);
  absl::StatusOr<v1::Search> search = ctx.client->Submit(request);
  NAS_RETURN_IF_ERROR(With(what, search.status()));
  if (ctx.inv.global.json) {
    ctx.out() << ToJson(*search, /*one_line=*/ctx.inv.watch) << "\n";
  } else {
    ctx.out() << "submitted search " << search->id() << " (" << search->name() << ", "
              << search->trials_total() << " trials)\n";
  }
  ctx.out().flush();
  if (!ctx.inv.watch) return kExitOk;
  return WatchUntilDone(ctx, search->id());
}

absl::StatusOr<int> RunWatch(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  return WatchUntilDone(ctx, id);
}

absl::StatusOr<int> RunList(const Context& ctx) {
  absl::StatusOr<std::vector<v1::Search>> searches = ctx.client->ListSearches();
  NAS_RETURN_IF_ERROR(With("list", searches.status()));
  if (ctx.inv.global.json) {
    v1::ListSearchesResponse response;
    for (const v1::Search& s : *searches) *response.add_searches() = s;
    ctx.out() << ToJson(response) << "\n";
  } else if (searches->empty()) {
    ctx.out() << "no searches\n";
  } else {
    ctx.out() << RenderSearchList(*searches, ctx.env.now_ms());
  }
  return kExitOk;
}

absl::StatusOr<int> RunShow(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  const std::string what = absl::StrCat("show ", id);
  absl::StatusOr<v1::Search> search = ctx.client->GetSearch(id);
  NAS_RETURN_IF_ERROR(With(what, search.status()));
  std::optional<v1::Trial> best;
  if (search->best_trial_id() > 0) {
    absl::StatusOr<std::vector<v1::Trial>> trials =
        ctx.client->ListTrials(id, v1::TRIAL_STATE_UNSPECIFIED);
    NAS_RETURN_IF_ERROR(With(what, trials.status()));
    for (const v1::Trial& t : *trials) {
      if (t.id() == search->best_trial_id()) {
        best = t;
        break;
      }
    }
  }
  if (ctx.inv.global.json) {
    nlohmann::json doc = {{"search", nlohmann::json::parse(ToJson(*search))},
                          {"best_trial", nullptr}};
    if (best) doc["best_trial"] = nlohmann::json::parse(ToJson(*best));
    ctx.out() << doc.dump(2) << "\n";
  } else {
    ctx.out() << RenderSearchDetails(*search, best ? &*best : nullptr, ctx.env.now_ms());
  }
  return kExitOk;
}

absl::StatusOr<int> RunTrials(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  v1::TrialState state = v1::TRIAL_STATE_UNSPECIFIED;
  if (!ctx.inv.state.empty()) {
    NAS_ASSIGN_OR_RETURN(state, ParseTrialState(ctx.inv.state));
  }
  absl::StatusOr<std::vector<v1::Trial>> trials = ctx.client->ListTrials(id, state);
  NAS_RETURN_IF_ERROR(With(absl::StrCat("trials ", id), trials.status()));
  if (ctx.inv.global.json) {
    v1::ListTrialsResponse response;
    for (const v1::Trial& t : *trials) *response.add_trials() = t;
    ctx.out() << ToJson(response) << "\n";
  } else if (trials->empty()) {
    ctx.out() << "no trials\n";
  } else {
    ctx.out() << RenderTrialTable(*trials);
  }
  return kExitOk;
}

absl::StatusOr<int> RunPareto(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  absl::StatusOr<std::vector<v1::Trial>> front = ctx.client->ParetoFront(id, ctx.inv.device);
  NAS_RETURN_IF_ERROR(With(absl::StrCat("pareto ", id), front.status()));
  if (ctx.inv.global.json) {
    v1::GetParetoFrontResponse response;
    for (const v1::Trial& t : *front) *response.add_trials() = t;
    ctx.out() << ToJson(response) << "\n";
  } else if (front->empty()) {
    ctx.out() << "no trained trials on the Pareto front yet\n";
  } else {
    ctx.out() << "Pareto front of search " << id
              << " (the reward's metric vs flash vs SRAM vs MACs), " << front->size()
              << " trial" << (front->size() == 1 ? "" : "s") << ":\n"
              << RenderParetoTable(*std::move(front));
  }
  return kExitOk;
}

absl::StatusOr<int> RunCancel(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  absl::StatusOr<v1::Search> search = ctx.client->Cancel(id);
  NAS_RETURN_IF_ERROR(With(absl::StrCat("cancel ", id), search.status()));
  if (ctx.inv.global.json) {
    ctx.out() << ToJson(*search) << "\n";
  } else {
    ctx.out() << "search " << id << " is " << SearchStateName(search->state()) << "\n";
  }
  return kExitOk;
}

// Writes `bytes` to `path` through a temporary file and a rename, so a
// failed export never leaves a truncated model behind.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot write ", tmp));
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::InvalidArgumentError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> RunExport(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  int64_t trial_id = 0;  // 0 asks the controller for the best trial.
  if (ctx.inv.args[1] != "best") {
    NAS_ASSIGN_OR_RETURN(trial_id, ParseId(ctx.inv.args[1], "trial id (or 'best')"));
  }
  const std::string what = absl::StrCat("export ", id, " ", ctx.inv.args[1]);
  if (ctx.inv.format == "c") {
    NAS_RETURN_IF_ERROR(
        With(what, ExportCLibrary(ctx.client, ctx.inv, id, trial_id, ctx.env.out)));
    return kExitOk;
  }
  absl::StatusOr<v1::ExportModelResponse> model =
      ctx.client->Export(id, trial_id, v1::TORCHSCRIPT);
  NAS_RETURN_IF_ERROR(With(what, model.status()));
  if (model->torchscript().empty()) {
    return With(what, absl::FailedPreconditionError(absl::StrCat(
                          "trial ", model->trial().id(), " has no stored model")));
  }
  NAS_RETURN_IF_ERROR(With(what, WriteFileAtomically(ctx.inv.output, model->torchscript())));
  const v1::Trial& trial = model->trial();
  if (ctx.inv.global.json) {
    nlohmann::json doc = {{"path", ctx.inv.output},
                          {"bytes", model->torchscript().size()},
                          {"trial", nlohmann::json::parse(ToJson(trial))}};
    ctx.out() << doc.dump(2) << "\n";
  } else {
    ctx.out() << "exported trial " << trial.id() << " (#" << trial.number() << ", accuracy "
              << FormatScore(trial.metrics().accuracy()) << ") to " << ctx.inv.output << " ("
              << FormatBytes(static_cast<int64_t>(model->torchscript().size()))
              << " TorchScript)\n";
  }
  return kExitOk;
}

absl::StatusOr<int> RunPolicy(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  absl::StatusOr<v1::PolicyState> state = ctx.client->GetPolicyState(id, ctx.inv.top);
  NAS_RETURN_IF_ERROR(With(absl::StrCat("policy ", id), state.status()));
  ctx.out() << (ctx.inv.global.json ? ToJson(*state) + "\n" : RenderPolicyState(id, *state));
  return kExitOk;
}

// Creates `dir` (and its parents) unless it is already a directory.
absl::Status PrepareOutputDirectory(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " exists and is not a directory"));
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

// Everything the report shows, read from the controller.
absl::StatusOr<ReportData> ReadReportData(const Context& ctx, int64_t id) {
  ReportData data;
  NAS_ASSIGN_OR_RETURN(data.search, ctx.client->GetSearch(id));
  NAS_ASSIGN_OR_RETURN(data.trials, ctx.client->ListTrials(id, v1::TRIAL_STATE_UNSPECIFIED));
  NAS_ASSIGN_OR_RETURN(data.front, ctx.client->ParetoFront(id, ""));
  NAS_ASSIGN_OR_RETURN(data.policy, ctx.client->GetPolicyState(id, /*top=*/20));
  data.generated_unix_ms = ctx.env.now_ms();
  return data;
}

absl::StatusOr<int> RunReport(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.inv.args[0], "search id"));
  const std::string what = absl::StrCat("report ", id);
  absl::StatusOr<ReportData> data = ReadReportData(ctx, id);
  NAS_RETURN_IF_ERROR(With(what, data.status()));
  NAS_RETURN_IF_ERROR(With(what, PrepareOutputDirectory(ctx.inv.output)));
  const std::string path = (std::filesystem::path(ctx.inv.output) / "index.html").string();
  const std::string html = RenderReportHtml(*data);
  NAS_RETURN_IF_ERROR(With(what, WriteFileAtomically(path, html)));
  if (ctx.inv.global.json) {
    nlohmann::json doc = {{"path", path},
                          {"bytes", html.size()},
                          {"search_id", id},
                          {"trials", data->trials.size()},
                          {"pareto_front", data->front.size()}};
    ctx.out() << doc.dump(2) << "\n";
  } else {
    ctx.out() << "wrote " << path << " (" << FormatBytes(static_cast<int64_t>(html.size()))
              << "): search " << id << ", " << data->trials.size() << " trials, "
              << data->front.size() << " on the Pareto front\n";
  }
  return kExitOk;
}

absl::StatusOr<int> RunAnalyze(const Context& ctx) {
  NAS_ASSIGN_OR_RETURN(v1::TensorShape input, ParseShape(ctx.inv.input));
  absl::StatusOr<Analysis> analysis =
      Analyze(ctx.inv.args[0], ctx.inv.device, input, ctx.inv.classes);
  NAS_RETURN_IF_ERROR(With("analyze", analysis.status()));
  ctx.out() << (ctx.inv.global.json ? AnalysisToJson(*analysis) : RenderAnalysis(*analysis));
  return analysis->violations.empty() ? kExitOk : kExitConstraints;
}

// The channel credentials of the invocation: TLS files and the bearer token
// from the flags, else from the environment.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CredentialsFor(
    const GlobalOptions& global, const Environment& env) {
  if (!global.token.empty() && !global.token_file.empty()) {
    return absl::InvalidArgumentError("give --token or --token_file, not both");
  }
  // $TINYNAS_TOKEN is not an error with --insecure: it is simply not sent.
  std::string token = global.token;
  if (token.empty() && !global.tls.insecure) token = env.default_token;
  if (!global.token_file.empty()) {
    NAS_ASSIGN_OR_RETURN(token, ReadTokenFile("token_file", global.token_file));
  }
  ClientTlsFlags tls = global.tls;
  if (tls.ca.empty() && !tls.insecure) tls.ca = env.default_tls_ca;
  return ControllerClient::Credentials(tls, token);
}

absl::StatusOr<int> Dispatch(const Context& ctx) {
  const std::string& c = ctx.inv.command;
  if (c == "submit") return RunSubmit(ctx);
  if (c == "watch") return RunWatch(ctx);
  if (c == "list") return RunList(ctx);
  if (c == "show") return RunShow(ctx);
  if (c == "trials") return RunTrials(ctx);
  if (c == "pareto") return RunPareto(ctx);
  if (c == "cancel") return RunCancel(ctx);
  if (c == "export") return RunExport(ctx);
  if (c == "policy") return RunPolicy(ctx);
  if (c == "report") return RunReport(ctx);
  if (c == "analyze") return RunAnalyze(ctx);
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", c, "'"));
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitError;
}

void PrintError(const absl::Status& status, std::ostream* err) {
  std::string message(absl::StripTrailingAsciiWhitespace(status.message()));
  *err << "nasctl: " << absl::StrReplaceAll(message, {{"\n", "\n  "}}) << "\n";
  err->flush();
}

int RunNasctl(const std::vector<std::string>& args, const Environment& env) {
  absl::StatusOr<Invocation> inv = ParseArgs(args, env.default_controller);
  if (!inv.ok()) {
    PrintError(inv.status(), env.err);
    return kExitUsage;
  }
  if (inv->help) {
    *env.out << Usage();
    return kExitOk;
  }
  // `analyze` is local: it needs no controller.
  std::unique_ptr<v1::SearchService::StubInterface> stub;
  std::unique_ptr<ControllerClient> client;
  if (inv->command != "analyze") {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        CredentialsFor(inv->global, env);
    if (!credentials.ok()) {
      PrintError(credentials.status(), env.err);
      return ExitCodeFor(credentials.status());
    }
    stub = ControllerClient::NewStub(inv->global.controller, *credentials);
    client = std::make_unique<ControllerClient>(stub.get(), inv->global.controller,
                                                inv->global.timeout);
  }
  const Context ctx{*inv, env, client.get()};
  absl::StatusOr<int> code = Dispatch(ctx);
  if (!code.ok()) {
    PrintError(code.status(), env.err);
    return ExitCodeFor(code.status());
  }
  return *code;
}

}  // namespace nas::nasctl
