#include "audit/run_record.h"

#include "flakescope/error.h"

namespace flakescope::audit {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kCrash:
      return "crash";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kError:
      return "error";
    case Outcome::kSkip:
      return "skip";
    case Outcome::kXfail:
      return "xfail";
  }
  return "error";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (Outcome o : kAllOutcomes)
    if (outcome_name(o) == name) return o;
  return std::nullopt;
}

char outcome_letter(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return 'P';
    case Outcome::kFail:
      return 'F';
    case Outcome::kCrash:
      return 'C';
    case Outcome::kTimeout:
      return 'T';
    case Outcome::kError:
      return 'E';
    case Outcome::kSkip:
      return 'S';
    case Outcome::kXfail:
      return 'X';
  }
  return 'E';
}

bool is_failure(Outcome outcome) {
  return outcome == Outcome::kFail || outcome == Outcome::kCrash || outcome == Outcome::kTimeout ||
         outcome == Outcome::kError;
}

namespace {

template <typename T>
nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

Outcome outcome_field(const nlohmann::json& j, const char* what) {
  if (!j.contains("outcome") || !j["outcome"].is_string())
    throw InputError(std::string(what) + " has no \"outcome\"");
  auto o = parse_outcome(j["outcome"].get<std::string>());
  if (!o)
    throw InputError(std::string(what) + " has an unknown outcome '" +
                     j["outcome"].get<std::string>() + "'");
  return *o;
}

}  // namespace

void testcase_extras_from_json(const nlohmann::json& t, TestcaseResult& tc) {
  auto text = [&](const char* key) {
    const auto it = t.find(key);
    return it != t.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  tc.replay_id = text("replay_id");
  const auto env = t.find("environment");
  if (env != t.end() && env->is_string()) tc.environment = env->get<std::string>();
  // The plugin's outcome lines say {"kind", "exception"}; records say "kind: exception".
  if (env != t.end() && env->is_object() && (*env)["kind"].is_string())
    tc.environment = (*env)["kind"].get<std::string>() +
                     ((*env).contains("exception") && (*env)["exception"].is_string()
                          ? ": " + (*env)["exception"].get<std::string>()
                          : std::string());
  const auto retry = t.find("retry");
  if (retry != t.end() && retry->is_object() && retry->contains("attempts") &&
      (*retry)["attempts"].is_number_unsigned())
    tc.retry = *retry;
  const auto drew = t.find("drew_random");
  if (drew != t.end() && drew->is_boolean()) tc.drew_random = drew->get<bool>();
  const auto reseeded = t.find("reseeded");
  tc.reseeded = reseeded != t.end() && reseeded->is_boolean() && reseeded->get<bool>();
  const auto repeat = t.find("repeat");
  if (repeat != t.end() && repeat->is_number_unsigned()) tc.repetition = repeat->get<std::size_t>();
  const auto report = t.find("report_seconds");
  if (report != t.end() && report->is_number() && report->get<double>() > 0)
    tc.report_seconds = report->get<double>();
}

nlohmann::json to_json(const RunRecord& r) {
  nlohmann::json testcases = nlohmann::json::array();
  for (const auto& t : r.testcases) {
    nlohmann::json tc = {{"name", t.name},
                         {"outcome", std::string(outcome_name(t.outcome))},
                         {"duration", t.duration},
                         {"message", t.message}};
    // Written only when known, so logs of other commands stay as they were.
    if (!t.replay_id.empty()) tc["replay_id"] = t.replay_id;
    if (!t.environment.empty()) tc["environment"] = t.environment;
    if (!t.retry.is_null()) tc["retry"] = t.retry;
    if (t.drew_random) tc["drew_random"] = *t.drew_random;
    if (t.report_seconds > 0) tc["report_seconds"] = t.report_seconds;
    if (t.repetition) tc["repeat"] = *t.repetition;
    if (t.reseeded) tc["reseeded"] = true;
    testcases.push_back(std::move(tc));
  }
  nlohmann::json j = {{"run", r.run},
                      {"seed", r.seed},
                      {"setting", r.setting},
                      {"outcome", std::string(outcome_name(r.outcome))},
                      {"exit_code", optional_json(r.exit_code)},
                      {"signal", optional_json(r.signal)},
                      {"duration", r.duration},
                      {"testcases", std::move(testcases)},
                      {"junit_error", optional_json(r.junit_error)},
                      {"stdout_tail", r.stdout_tail},
                      {"stderr_tail", r.stderr_tail},
                      {"captures", r.captures}};
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.knobs.is_null()) j["knobs"] = r.knobs;
  if (r.incomplete) j["incomplete"] = true;
  if (r.incomplete && !r.collected.empty()) j["collected"] = r.collected;
  return j;
}

RunRecord run_record_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("run record is not a JSON object");
  for (const char* key : {"run", "seed"})
    if (!j.contains(key) || !j[key].is_number_unsigned())
      throw InputError(std::string("run record has no unsigned \"") + key + "\"");
  RunRecord r;
  r.run = j["run"].get<std::size_t>();
  r.seed = j["seed"].get<std::uint64_t>();
  r.setting = j.value("setting", std::string("controlled"));
  r.outcome = outcome_field(j, "run record");
  if (j.contains("exit_code") && j["exit_code"].is_number_integer())
    r.exit_code = j["exit_code"].get<int>();
  if (j.contains("signal") && j["signal"].is_string()) r.signal = j["signal"].get<std::string>();
  if (j.contains("duration") && j["duration"].is_number()) r.duration = j["duration"].get<double>();
  if (j.contains("junit_error") && j["junit_error"].is_string())
    r.junit_error = j["junit_error"].get<std::string>();
  r.error = j.value("error", std::string());
  r.stdout_tail = j.value("stdout_tail", std::string());
  r.stderr_tail = j.value("stderr_tail", std::string());
  if (j.contains("testcases") && j["testcases"].is_array()) {
    for (const auto& t : j["testcases"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
        throw InputError("run record has a testcase without a name");
      TestcaseResult tc;
      tc.name = t["name"].get<std::string>();
      tc.outcome = outcome_field(t, "testcase");
      if (t.contains("duration") && t["duration"].is_number())
        tc.duration = t["duration"].get<double>();
      tc.message = t.value("message", std::string());
      testcase_extras_from_json(t, tc);
      r.testcases.push_back(std::move(tc));
    }
  }
  if (j.contains("captures") && j["captures"].is_array())
    for (const auto& c : j["captures"]) r.captures.push_back(c);
  if (j.contains("knobs") && j["knobs"].is_object()) r.knobs = j["knobs"];
  r.incomplete = j.value("incomplete", false) == true;
  if (r.incomplete && j.contains("collected") && j["collected"].is_array())
    for (const auto& id : j["collected"])
      if (id.is_string()) r.collected.push_back(id.get<std::string>());
  return r;
}

}  // namespace flakescope::audit
